package campaign_test

import (
	"math"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/problem"
)

// TestSpecValidate_FiguresOutsideTheirRanges: every figure of a campaign
// file or API body is checked against its range when the spec is validated
// (the API, the manager page and `perk campaigns apply` all do), so a value
// that would overflow at the till is a 422 naming its field, never a
// campaign that is saved.
func TestSpecValidate_FiguresOutsideTheirRanges(t *testing.T) {
	benefit := func(b engine.Benefit) func(*campaign.Spec) {
		return func(s *campaign.Spec) { s.Benefits = []engine.Benefit{b} }
	}
	filter := func(f campaign.Filter) func(*campaign.Spec) {
		return func(s *campaign.Spec) { s.Audience = campaign.Audience{Kind: campaign.AudienceFilter, Filter: &f} }
	}
	tests := []struct {
		name  string
		edit  func(*campaign.Spec)
		field string // "" = valid
		code  string
	}{
		{"points per unit of MaxInt64 (issue 17)", benefit(engine.Benefit{Kind: engine.PointsPerUnit, Points: math.MaxInt64}),
			"benefits[0].points", "benefit_invalid"},
		{"a points multiplier of MaxInt64 (issue 17)", benefit(engine.Benefit{Kind: engine.PointsMultiplier, Multiplier: math.MaxInt64}),
			"benefits[0].multiplier", "benefit_invalid"},
		{"a points bonus over engine.MaxPoints", benefit(engine.Benefit{Kind: engine.PointsBonus, Points: engine.MaxPoints + 1}),
			"benefits[0].points", "benefit_invalid"},
		{"an amount off of MaxInt64", benefit(engine.Benefit{Kind: engine.AmountOff, Amount: math.MaxInt64}),
			"benefits[0].amount", "benefit_invalid"},
		{"a minimum basket of MaxInt64", func(s *campaign.Spec) { s.Conditions.MinBasket = math.MaxInt64 },
			"conditions.min_basket", "benefit_invalid"},
		{"every benefit figure at its limit", benefit(engine.Benefit{Kind: engine.PointsPerUnit, Points: engine.MaxPointsPerUnit}), "", ""},

		{"max redemptions over MaxUses", func(s *campaign.Spec) { s.Limits.MaxRedemptions = campaign.MaxUses + 1 },
			"limits.max_redemptions", "limit_invalid"},
		{"max redemptions of MaxInt64", func(s *campaign.Spec) { s.Limits.MaxRedemptions = math.MaxInt64 },
			"limits.max_redemptions", "limit_invalid"},
		{"a budget over MaxBudget", func(s *campaign.Spec) { s.Limits.Budget = campaign.MaxBudget + 1 },
			"limits.budget", "limit_invalid"},
		{"a budget of MaxInt64", func(s *campaign.Spec) { s.Limits.Budget = math.MaxInt64 },
			"limits.budget", "limit_invalid"},
		{"a negative budget", func(s *campaign.Spec) { s.Limits.Budget = math.MinInt64 },
			"limits.budget", "limit_invalid"},
		{"uses per member over MaxUses", func(s *campaign.Spec) { s.Limits.PerMember = math.MaxInt },
			"limits.per_member", "limit_invalid"},
		{"uses per period over MaxUses", func(s *campaign.Spec) { s.Limits.PerPeriod, s.Limits.Period = campaign.MaxUses+1, "day" },
			"limits.per_period", "limit_invalid"},
		{"every limit at its limit", func(s *campaign.Spec) {
			s.Limits = campaign.Limits{PerMember: campaign.MaxUses, PerPeriod: campaign.MaxUses, Period: "week",
				MaxRedemptions: campaign.MaxUses, Budget: campaign.MaxBudget}
		}, "", ""},

		{"spend at least over MaxBudget", filter(campaign.Filter{SpendAtLeast: campaign.MaxBudget + 1, SpendDays: 30}),
			"audience.filter.spend_at_least", "filter_invalid"},
		{"a spend window of MaxInt days, whose duration overflows", filter(campaign.Filter{SpendAtLeast: 1, SpendDays: math.MaxInt}),
			"audience.filter.spend_days", "filter_invalid"},
		{"a bought window of MaxInt days", filter(campaign.Filter{BoughtDays: math.MaxInt}),
			"audience.filter.bought_days", "filter_invalid"},
		{"every filter figure at its limit", filter(campaign.Filter{SpendAtLeast: campaign.MaxBudget, SpendDays: campaign.MaxFilterDays,
			BoughtDays: campaign.MaxFilterDays}), "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := spec("Ranges")
			tt.edit(&s)
			_, _, err := s.Validate(time.UTC)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want it valid", err)
				}
				return
			}
			pe, ok := err.(*problem.Error)
			if !ok || pe.Kind != problem.Invalid || pe.Field != tt.field || pe.Code != tt.code {
				t.Fatalf("Validate = %#v, want a 422 %s on %s", err, tt.code, tt.field)
			}
		})
	}
}

// TestSpecValidate_NextBestOfferKind: a campaign of kind next_best_offer
// needs its k and holdout in range and refuses what would shape benefits
// of its own (its offers are the pool's), each error naming its field; a
// standard campaign refuses next_best_offer settings and an unknown kind
// is refused.
func TestSpecValidate_NextBestOfferKind(t *testing.T) {
	nbo := func(edit func(*campaign.Spec)) func(*campaign.Spec) {
		return func(s *campaign.Spec) {
			s.Kind, s.Benefits = campaign.KindNextBestOffer, nil
			s.NextBestOffer = &campaign.NextBestOffer{K: 3, Holdout: 10}
			if edit != nil {
				edit(s)
			}
		}
	}
	tests := []struct {
		name  string
		edit  func(*campaign.Spec)
		field string // "" = valid
		code  string
	}{
		{"k 3, holdout 10, audience all", nbo(nil), "", ""},
		{"k and holdout at their limits, a filter audience", nbo(func(s *campaign.Spec) {
			s.NextBestOffer = &campaign.NextBestOffer{K: campaign.MaxNBOK, Holdout: campaign.MaxNBOHoldout, Announce: true}
			s.Audience = campaign.Audience{Kind: campaign.AudienceFilter, Filter: &campaign.Filter{Tags: []string{"vip"}}}
		}), "", ""},
		{"an unknown kind", func(s *campaign.Spec) { s.Kind = "lottery" }, "kind", "kind_invalid"},
		{"next_best_offer settings on a standard campaign", func(s *campaign.Spec) { s.NextBestOffer = &campaign.NextBestOffer{K: 1} },
			"next_best_offer", "next_best_offer_unexpected"},
		{"no settings", nbo(func(s *campaign.Spec) { s.NextBestOffer = nil }), "next_best_offer", "required"},
		{"k 0", nbo(func(s *campaign.Spec) { s.NextBestOffer.K = 0 }), "next_best_offer.k", "k_invalid"},
		{"k 11", nbo(func(s *campaign.Spec) { s.NextBestOffer.K = campaign.MaxNBOK + 1 }), "next_best_offer.k", "k_invalid"},
		{"a negative holdout", nbo(func(s *campaign.Spec) { s.NextBestOffer.Holdout = -1 }), "next_best_offer.holdout", "holdout_invalid"},
		{"a holdout of 51", nbo(func(s *campaign.Spec) { s.NextBestOffer.Holdout = 51 }), "next_best_offer.holdout", "holdout_invalid"},
		{"an open audience", nbo(func(s *campaign.Spec) { s.Audience.Kind = campaign.AudienceOpen }), "audience.kind", "audience_invalid"},
		{"benefits of its own", nbo(func(s *campaign.Spec) { s.Benefits = []engine.Benefit{{Kind: engine.PercentOff, Percent: 10}} }),
			"benefits", "next_best_offer_field"},
		{"conditions", nbo(func(s *campaign.Spec) { s.Conditions.MinBasket = 100 }), "conditions", "next_best_offer_field"},
		{"limits", nbo(func(s *campaign.Spec) { s.Limits.PerMember = 1 }), "limits", "next_best_offer_field"},
		{"a control group", nbo(func(s *campaign.Spec) { s.ControlGroup = 10 }), "control_group", "next_best_offer_field"},
		{"a message", nbo(func(s *campaign.Spec) { s.Message = "Hi" }), "message", "next_best_offer_field"},
		{"stores", nbo(func(s *campaign.Spec) { s.Stores = []string{"S1"} }), "stores", "next_best_offer_field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := spec("Picks")
			tt.edit(&s)
			_, _, err := s.Validate(time.UTC)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want it valid", err)
				}
				return
			}
			pe, ok := err.(*problem.Error)
			if !ok || pe.Kind != problem.Invalid || pe.Field != tt.field || pe.Code != tt.code {
				t.Fatalf("Validate = %#v, want a 422 %s on %s", err, tt.code, tt.field)
			}
		})
	}
}
