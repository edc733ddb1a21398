package campaign

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/problem"
)

// PersonalOffer is an offer a CRM gives to members it names: a value, a
// scope and conditions, a validity and a number of uses per member.
//
// Perk keeps each distinct offer as a campaign of its own whose audience is
// the list of members given it, named after the offer ("CRM offer 3f9a1c2e:
// 20% off coffee"). So a personal offer is matched, limited, stacked and
// explained at the till like any other, shows on the card page and in the
// OFFERS reply, is announced through the contact policy, and has a campaign
// report; giving the same offer to a million members makes one campaign,
// not a million.
type PersonalOffer struct {
	Description string            `json:"description"`          // what the member is told; required
	Benefit     engine.Benefit    `json:"benefit"`              // the value and its scope
	Conditions  engine.Conditions `json:"conditions,omitempty"` // minimum basket, days and hours
	Stores      []string          `json:"stores,omitempty"`     // empty = every store
	TimeZone    string            `json:"timezone,omitempty"`   // of start and end; the programme's if empty
	Start       string            `json:"start"`                // as in a campaign spec
	End         string            `json:"end"`                  // exclusive
	Uses        int               `json:"uses,omitempty"`       // per member; 0 = single use
	Message     string            `json:"message,omitempty"`    // the announcement template; empty = none
}

// Spec is the campaign that holds the offer. Its name is derived from the
// offer, so the same offer given twice lands in the same campaign.
func (o PersonalOffer) Spec() Spec {
	uses := o.Uses
	if uses == 0 {
		uses = 1
	}
	canon := o
	canon.Uses = uses
	b, _ := json.Marshal(canon) // plain data: cannot fail
	sum := sha256.Sum256(b)
	// The name must pass the campaign name rule: keep what it allows of the
	// description, within its length.
	var desc strings.Builder
	for _, r := range strings.TrimSpace(o.Description) {
		if desc.Len() < 70 && nameOK.MatchString("x"+string(r)) {
			desc.WriteRune(r)
		}
	}
	return Spec{
		Name:        strings.TrimSpace(fmt.Sprintf("CRM offer %s: %s", hex.EncodeToString(sum[:4]), desc.String())),
		Description: strings.TrimSpace(o.Description), TimeZone: o.TimeZone, Start: o.Start, End: o.End,
		Stores: o.Stores, Audience: Audience{Kind: AudienceList}, Benefits: []engine.Benefit{o.Benefit},
		Conditions: o.Conditions, Limits: Limits{PerMember: uses}, Message: o.Message, Personal: true,
	}
}

// Given is the outcome of GivePersonal.
type Given struct {
	Campaign *Campaign `json:"campaign"`
	Assigned
}

// GivePersonal gives members (internal ids) a personal offer: it finds or
// creates and launches the offer's campaign, then assigns the members to it
// (Assign: a member given the same offer twice keeps one). The offer is
// checked as a campaign spec is, with the same field names under "offer".
func (s *Service) GivePersonal(ctx context.Context, o PersonalOffer, memberIDs []string, announce bool) (*Given, error) {
	if strings.TrimSpace(o.Description) == "" {
		return nil, problem.InvalidField("description", "required", nil, "a personal offer needs the description its members are shown")
	}
	if o.Uses < 0 {
		return nil, problem.InvalidField("uses", "uses_invalid", nil, "must be 0 (single use) or more")
	}
	spec := o.Spec()
	c, err := s.ByName(ctx, spec.Name)
	if errors.Is(err, ErrNotFound) {
		c, err = s.Create(ctx, spec)
		if errors.Is(err, ErrNameTaken) { // given at the same time by another call
			c, err = s.ByName(ctx, spec.Name)
		}
	}
	if err != nil {
		return nil, err
	}
	if !c.Launched() {
		if _, err := s.Launch(ctx, c.ID); err != nil && !errors.Is(err, ErrNotDraft) {
			return nil, err
		}
	}
	a, err := s.Assign(ctx, c.ID, memberIDs, announce)
	if err != nil {
		return nil, err
	}
	if c, err = s.Get(ctx, c.ID); err != nil {
		return nil, err
	}
	return &Given{Campaign: c, Assigned: *a}, nil
}
