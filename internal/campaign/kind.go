package campaign

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"

	"github.com/perk-platform/perk/internal/problem"
)

// Campaign kinds. The default kind ("") gives the campaign's benefits to
// its audience at the tills. A next_best_offer campaign has no benefits of
// its own: launching it gives each member of its audience their own top K
// offers of the next-best-offer pool (package nbo, docs/nbo.md), or, for a
// random holdout, K offers of the pool drawn at random, so its report can
// say whether the ranking beats chance.
const (
	KindStandard      = ""
	KindNextBestOffer = "next_best_offer"
)

// NextBestOffer configures a campaign of kind next_best_offer.
type NextBestOffer struct {
	// K is how many offers of the pool each member is given, 1 to 10.
	K int `json:"k" yaml:"k"`
	// Holdout is the percentage of the audience (a stable draw by member)
	// given K random offers of the pool instead of their top K, 0 to 50.
	Holdout int `json:"holdout" yaml:"holdout"`
	// Announce queues each given offer's announcement SMS to its members.
	Announce bool `json:"announce,omitempty" yaml:"announce,omitempty"`
}

// Ranges of a next_best_offer campaign.
const (
	MaxNBOK       = 10
	MaxNBOHoldout = 50
)

// validateKind checks the kind and what it allows. A next_best_offer
// campaign gives offers of the pool, each a personal-offer campaign with
// its own benefit, scope and limits: fields that would shape the
// campaign's own benefits are refused rather than silently ignored.
func (s *Spec) validateKind() error {
	switch s.Kind {
	case KindStandard:
		if s.NextBestOffer != nil {
			return problem.InvalidField("next_best_offer", "next_best_offer_unexpected", nil, "only a campaign of kind next_best_offer has next_best_offer settings")
		}
		return nil
	case KindNextBestOffer:
	default:
		return problem.InvalidField("kind", "kind_invalid", nil, "%q is not a campaign kind: leave it empty or use next_best_offer", s.Kind)
	}
	n := s.NextBestOffer
	if n == nil {
		return problem.InvalidField("next_best_offer", "required", nil, "is required for a campaign of kind next_best_offer (k and holdout)")
	}
	if n.K < 1 || n.K > MaxNBOK {
		return problem.InvalidField("next_best_offer.k", "k_invalid", nil, "must be 1 to %d offers per member", MaxNBOK)
	}
	if n.Holdout < 0 || n.Holdout > MaxNBOHoldout {
		return problem.InvalidField("next_best_offer.holdout", "holdout_invalid", nil, "must be a percentage from 0 to %d", MaxNBOHoldout)
	}
	if s.Audience.Kind == AudienceOpen {
		return problem.InvalidField("audience.kind", "audience_invalid", nil, "a next_best_offer campaign gives offers to members: use all, filter or list")
	}
	for _, f := range []struct {
		field string
		set   bool
	}{
		{"benefits", len(s.Benefits) > 0},
		{"conditions", !reflect.ValueOf(s.Conditions).IsZero()},
		{"limits", s.Limits != Limits{}},
		{"stores", len(s.Stores) > 0},
		{"priority", s.Priority != 0},
		{"exclusive", s.Exclusive},
		{"personal", s.Personal},
		{"message", s.Message != ""},
		{"control_group", s.ControlGroup != 0},
	} {
		if f.set {
			return problem.InvalidField(f.field, "next_best_offer_field", nil,
				"is not used by a next_best_offer campaign: each member is given offers of the pool, with their own benefit, scope, limits and announcement (the holdout is next_best_offer.holdout)")
		}
	}
	return nil
}

// LaunchedMember is one member of the audience a kind's launcher served,
// and whether they are in the kind's comparison group (the random holdout
// of next_best_offer): stored as the campaign's control rows, so the
// campaign report's uplift compares the two.
type LaunchedMember struct {
	ID      string
	Control bool
}

// KindLauncher launches a campaign of a kind other than the default: it
// gives what the kind gives to the campaign's audience and returns it.
type KindLauncher func(ctx context.Context, c *Campaign) ([]LaunchedMember, error)

// RegisterKind makes launch run for campaigns of kind (package nbo
// registers next_best_offer), so every launch, from the API, the manage
// page or a file, takes the same path.
func (s *Service) RegisterKind(kind string, launch KindLauncher) {
	s.kindsMu.Lock()
	defer s.kindsMu.Unlock()
	if s.kinds == nil {
		s.kinds = map[string]KindLauncher{}
	}
	s.kinds[kind] = launch
}

func (s *Service) kindLauncher(kind string) KindLauncher {
	s.kindsMu.Lock()
	defer s.kindsMu.Unlock()
	return s.kinds[kind]
}

// ErrKindUnavailable: no launcher is registered for the campaign's kind.
var ErrKindUnavailable = problem.New(problem.Conflict, "campaign_kind_unavailable", "this server cannot launch campaigns of this kind")

// launchKind launches a campaign of a registered kind: the launcher gives
// the offers, then the audience and its comparison group are stored as the
// campaign's rows and the campaign is marked launched.
func (s *Service) launchKind(ctx context.Context, c *Campaign) (*Launched, error) {
	launch := s.kindLauncher(c.Spec.Kind)
	if launch == nil {
		return nil, ErrKindUnavailable
	}
	now := s.now()
	if c.Launched() {
		return nil, ErrNotDraft
	}
	if !c.End.After(now) {
		return nil, ErrEnded
	}
	members, err := launch(ctx, c)
	if err != nil {
		return nil, fmt.Errorf("launch %s campaign %s: %w", c.Spec.Kind, c.ID, err)
	}
	out := &Launched{}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		cur, err := s.inTx(ctx, tx, c.ID)
		if err != nil {
			return err
		}
		if cur.Launched() {
			return ErrNotDraft
		}
		rows := make([]any, 0, 4*launchPage)
		for i, m := range members {
			rows = append(rows, c.ID, m.ID, boolInt(m.Control), nullString(""))
			out.Audience++
			if m.Control {
				out.Control++
			}
			if len(rows) == 4*launchPage || i == len(members)-1 {
				if err := s.insertMembers(ctx, tx, rows); err != nil {
					return err
				}
				rows = rows[:0]
			}
		}
		return s.markLaunched(ctx, tx, cur, out, now)
	})
	if err != nil {
		return nil, fmt.Errorf("launch campaign: %w", err)
	}
	s.active.invalidate()
	s.opt.Log.InfoContext(ctx, "campaign launched", "campaign", c.ID, "kind", c.Spec.Kind, "audience", out.Audience, "control", out.Control)
	if out.Campaign, err = s.Get(ctx, c.ID); err != nil {
		return nil, err
	}
	return out, nil
}
