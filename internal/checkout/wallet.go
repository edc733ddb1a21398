package checkout

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/member"
)

// Offer is a live offer as a member sees it on the card page or by SMS.
type Offer struct {
	CampaignID  string    `json:"campaign_id"`
	Name        string    `json:"name"`
	Description string    `json:"description"` // the campaign's description, or its benefits' wording
	Benefits    []string  `json:"benefits"`
	Ends        time.Time `json:"ends"`
	UsesLeft    int       `json:"uses_left,omitempty"` // for a limited personal offer; 0 = no limit
}

// Wallet is what a member holds now: points and live offers.
type Wallet struct {
	Points ledger.Balance `json:"points"`
	Offers []Offer        `json:"offers"`
}

// Wallet returns the member's balance and the offers they can use now:
// active campaigns they are in (not held back as control) with uses left,
// the soonest ending first.
func (s *Service) Wallet(ctx context.Context, m *member.Member) (*Wallet, error) {
	bal, err := s.ledger.Balance(ctx, m.ID)
	if err != nil {
		return nil, err
	}
	offers, err := s.Offers(ctx, m)
	if err != nil {
		return nil, err
	}
	return &Wallet{Points: bal, Offers: offers}, nil
}

// Offers returns the wallet's offers without its balance, for callers that
// rank them (next best offers): one query fewer per request.
func (s *Service) Offers(ctx context.Context, m *member.Member) ([]Offer, error) {
	w := &Wallet{Offers: []Offer{}}
	live, err := s.campaigns.Live(ctx)
	if err != nil {
		return nil, err
	}
	now := s.opt.Now().UTC()
	st, err := loadState(ctx, s.db.Read, live, m, now)
	if err != nil {
		return nil, err
	}
	for _, l := range live.List {
		if l.Status != campaign.Active || now.Before(l.Start) || !now.Before(l.End) || st.blocked(l, nil) != "" {
			continue
		}
		o := Offer{CampaignID: l.ID, Name: l.Spec.Name, Description: l.Spec.Description, Ends: l.End}
		for _, b := range l.Compiled.Benefits {
			o.Benefits = append(o.Benefits, b.Description)
		}
		if o.Description == "" {
			o.Description = strings.Join(o.Benefits, ", ")
		}
		if l.Spec.Personal {
			// A CRM's personal offer is named for the operator ("CRM offer
			// 3f9a1c2e: ..."); the shopper sees what it gives.
			o.Name = l.Spec.Description
			if o.Description = strings.Join(o.Benefits, ", "); o.Description == o.Name {
				o.Description = ""
			}
		}
		if n := l.Spec.Limits.PerMember; n > 0 {
			o.UsesLeft = n - int(st.uses[l.ID][""])
		}
		w.Offers = append(w.Offers, o)
	}
	sort.SliceStable(w.Offers, func(i, j int) bool { return w.Offers[i].Ends.Before(w.Offers[j].Ends) })
	return w.Offers, nil
}
