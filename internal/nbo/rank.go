package nbo

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/perk-platform/perk/internal/catalogue"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/profile"
)

// NextOffer is one ranked offer as the API shows it.
type NextOffer struct {
	Rank          int            `json:"rank"`
	Source        string         `json:"source"`                // campaign: a live offer the member holds; pool: one they could be given
	Name          string         `json:"name"`                  // the pool offer's name, or the campaign's
	CampaignID    string         `json:"campaign_id,omitempty"` // for source campaign
	Description   string         `json:"description"`
	Benefit       engine.Benefit `json:"benefit"`
	ExpectedValue int64          `json:"expected_value"` // minor units: probability x (margin - cost)
	Probability   float64        `json:"probability"`
	Reasons       Reasons        `json:"reasons"`
}

// Sources of a ranked offer.
const (
	SourceCampaign = "campaign"
	SourcePool     = "pool"
)

// MaxK is the most offers one ranking returns.
const MaxK = 50

// Rank returns the member's best k offers: the live offers they hold (from
// the wallet: active campaigns they are in with uses left) and the pool's
// offers they do not hold yet, by expected incremental value.
func (s *Service) Rank(ctx context.Context, m *member.Member, k int) ([]NextOffer, error) {
	var w *checkout.Wallet
	if s.opt.Wallet != nil {
		var err error
		if w, err = s.opt.Wallet.Wallet(ctx, m); err != nil {
			return nil, err
		}
	}
	return s.rank(ctx, m, w, true, k)
}

// Wallet is the checkout's wallet of the member with its offers in the
// ranking's order (best first; the pool's offers they do not hold are not
// theirs, so not in it), for the card page and the OFFERS reply. Offers
// the ranking leaves out keep the checkout's order after the ranked ones.
func (s *Service) Wallet(ctx context.Context, m *member.Member) (*checkout.Wallet, error) {
	if s.opt.Wallet == nil {
		return nil, fmt.Errorf("nbo: no checkout to read the wallet from")
	}
	w, err := s.opt.Wallet.Wallet(ctx, m)
	if err != nil || len(w.Offers) < 2 {
		return w, err
	}
	ranked, err := s.rank(ctx, m, w, false, MaxK)
	if err != nil {
		return nil, err
	}
	pos := make(map[string]int, len(ranked))
	for _, r := range ranked {
		pos[r.CampaignID] = r.Rank
	}
	at := func(o checkout.Offer) int {
		if p, ok := pos[o.CampaignID]; ok {
			return p
		}
		return MaxK + 1
	}
	slices.SortStableFunc(w.Offers, func(a, b checkout.Offer) int { return at(a) - at(b) })
	return w, nil
}

// rank ranks the offers of w (nil: none) and, withPool, the pool's offers
// the member does not hold yet.
func (s *Service) rank(ctx context.Context, m *member.Member, w *checkout.Wallet, withPool bool, k int) ([]NextOffer, error) {
	l, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	f, err := s.features(ctx, l, m.ID)
	if err != nil {
		return nil, err
	}
	var cands []Candidate
	var groups []string
	held := map[string]bool{}
	if w != nil {
		for _, o := range w.Offers {
			g, err := s.campaignGiven(ctx, l, o.CampaignID)
			if err != nil {
				return nil, err
			}
			if pool, ok := l.personal[g.name]; ok {
				held[pool] = true
			}
			cands = append(cands, Candidate{Source: SourceCampaign, Name: o.Name, CampaignID: o.CampaignID,
				Offer: Offer{Name: o.Name, Description: o.Description, Benefit: g.benefit, Cost: campaignCost(g.benefit, l.model.Spend[g.group])}})
			groups = append(groups, g.group)
		}
	}
	for i, o := range l.pool {
		if withPool && !held[o.Name] {
			cands = append(cands, Candidate{Source: SourcePool, Name: o.Name, Offer: o})
			groups = append(groups, l.groups[i])
		}
	}
	ranked := l.model.Rank(f, cands, groups, k)
	out := make([]NextOffer, len(ranked))
	for i, r := range ranked {
		out[i] = NextOffer{Rank: i + 1, Source: r.Source, Name: r.Name, CampaignID: r.CampaignID, Description: r.Offer.Description,
			Benefit: r.Offer.Benefit, ExpectedValue: int64(math.Round(r.Score)), Probability: r.Reasons.Probability, Reasons: r.Reasons}
	}
	return out, nil
}

// campaignCost is what one redemption of a live campaign's benefit costs,
// for campaigns, which state no cost: the amount off, or the percentage of
// the typical spend in its scope; points and gifts count as 0 (docs/nbo.md).
func campaignCost(b engine.Benefit, spend float64) int64 {
	switch b.Kind {
	case engine.AmountOff:
		return b.Amount
	case engine.SpendThreshold:
		if b.Percent > 0 {
			return b.Threshold * int64(b.Percent) / 100
		}
		return b.Amount
	case engine.PercentOff:
		return int64(math.Round(spend * float64(b.Percent) / 100))
	}
	return 0
}

// campaignGiven is what a launched campaign gives, read once and kept with
// the model.
func (s *Service) campaignGiven(ctx context.Context, l *loaded, id string) (given, error) {
	s.mu.Lock()
	g, ok := l.campaigns[id]
	s.mu.Unlock()
	if ok {
		return g, nil
	}
	c, err := s.campaigns.Get(ctx, id)
	if err != nil {
		return given{}, err
	}
	g = describeCampaign(&c.Spec, l.categories)
	s.mu.Lock()
	l.campaigns[id] = g
	s.mu.Unlock()
	return g, nil
}

// features reads one member's spend by category, segment and offer history
// with three indexed queries (baskets by member, their lines; campaign
// audiences by member; redemptions of the member's baskets).
func (s *Service) features(ctx context.Context, l *loaded, memberID string) (*Features, error) {
	now := s.now()
	f := &Features{Share: map[string]float64{}, Bought: map[string]bool{}}
	rows, err := s.db.R.QueryContext(ctx, `SELECT b.id, b.created_at, bl.categories, bl.quantity * bl.unit_price - bl.discount
		FROM baskets b JOIN basket_lines bl ON bl.basket_id = b.id
		WHERE b.member_id = $1 AND b.status = 'committed' AND b.created_at >= $2`, memberID, now.Add(-s.opt.Window))
	if err != nil {
		return nil, fmt.Errorf("nbo: member lines: %w", err)
	}
	defer rows.Close()
	spend := map[string]float64{}
	var total float64
	recent := map[string]bool{}
	for rows.Next() {
		var bid, cats string
		var at time.Time
		var value int64
		if err := rows.Scan(&bid, &at, &cats, &value); err != nil {
			return nil, err
		}
		if !at.Before(now.Add(-SegmentWindow)) {
			recent[bid] = true
		}
		var cs []string
		if err := json.Unmarshal([]byte(cats), &cs); err != nil {
			return nil, err
		}
		total += float64(value)
		for _, c := range catalogue.Expand(cs) {
			spend[c] += float64(value)
			f.Bought[c] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	f.Share = shares(spend, total)
	f.Segment = SegmentOf(int64(len(recent)))
	// The refined profile's RFM segment, once it has one, replaces the
	// stand-in.
	p, err := profile.GetAt(ctx, s.db, memberID, now)
	if err != nil {
		return nil, fmt.Errorf("nbo: member profile: %w", err)
	}
	if p.Segment != "" {
		f.Segment = string(p.Segment)
	}
	if f.History, err = s.history(ctx, l, memberID); err != nil {
		return nil, err
	}
	return f, nil
}

// history is the offers the member was given (in a launched campaign's
// audience, not held back) and whether each was redeemed.
func (s *Service) history(ctx context.Context, l *loaded, memberID string) ([]Exposure, error) {
	redeemed := map[string]bool{}
	if err := eachRow(ctx, s.db.R, `SELECT DISTINCT r.campaign_id FROM baskets b JOIN redemptions r ON r.basket_id = b.id
		WHERE b.member_id = $1 AND r.restored_at IS NULL`, []any{memberID}, func(id string) error {
		redeemed[id] = true
		return nil
	}); err != nil {
		return nil, fmt.Errorf("nbo: member redemptions: %w", err)
	}
	var out []Exposure
	err := eachRow(ctx, s.db.R, `SELECT campaign_id FROM campaign_members WHERE member_id = $1 AND control = 0`, []any{memberID},
		func(id string) error {
			g, err := s.campaignGiven(ctx, l, id)
			if err != nil || g.none {
				return err
			}
			out = append(out, Exposure{Group: g.group, Kind: g.kind, Redeemed: redeemed[id]})
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("nbo: member offers: %w", err)
	}
	return out, nil
}

// eachRow runs a query of one text column and calls fn for every row,
// after the rows are read (fn may query).
func eachRow(ctx context.Context, db *sql.DB, q string, args []any, fn func(string) error) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	var vals []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		vals = append(vals, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, v := range vals {
		if err := fn(v); err != nil {
			return err
		}
	}
	return nil
}
