package checkout_test

import (
	"context"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestCommitGiven_RecordsWhatTheTillGaveAndEveryBrokenRule: a sale whose
// offers the till gave offline is always recorded with the till's
// discounts; each rule the offers broke is a breach with the amount at
// stake, stored for reconciliation, never a refusal.
func TestCommitGiven_RecordsWhatTheTillGaveAndEveryBrokenRule(t *testing.T) {
	type sale struct {
		member string // "m" the member, "nobody" an unknown key, "" anonymous
		given  []checkout.Given
	}
	tests := []struct {
		name     string
		spec     campaign.Spec
		sales    []sale
		rules    []checkout.Rule // breaches of the last sale
		discount int64           // the last sale's total discount
		points   int64           // the last sale's points earned
		uses     int64           // the member's uses of the campaign after all sales
	}{
		{"within the rules", campaign.Spec{Name: "Coffee", Benefits: []engine.Benefit{percent(20, "COF")}, Limits: campaign.Limits{PerMember: 2}},
			[]sale{{"m", []checkout.Given{{OfferID: ".1", Discount: 100, Lines: []engine.LineShare{{Line: 1, Discount: 100}}}}}},
			nil, 100, 9, 1},
		{"more uses than the member's limit", campaign.Spec{Name: "Once", Benefits: []engine.Benefit{{Kind: engine.AmountOff, Amount: 100}}, Limits: campaign.Limits{PerMember: 1}},
			[]sale{{"m", []checkout.Given{{OfferID: ".1", Discount: 100}}}, {"m", []checkout.Given{{OfferID: ".1", Discount: 100}}}},
			[]checkout.Rule{checkout.RuleOverLimit}, 100, 9, 2},
		{"a member outside the audience", campaign.Spec{Name: "Gold", Audience: campaign.Audience{Kind: campaign.AudienceFilter, Filter: &campaign.Filter{Tags: []string{"gold"}}},
			Benefits: []engine.Benefit{{Kind: engine.AmountOff, Amount: 50}}},
			[]sale{{"m", []checkout.Given{{OfferID: ".1", Discount: 50}}}},
			[]checkout.Rule{checkout.RuleNotInAudience}, 50, 9, 0},
		{"an anonymous shopper given a members' offer", campaign.Spec{Name: "Members", Benefits: []engine.Benefit{{Kind: engine.AmountOff, Amount: 50}}},
			[]sale{{"", []checkout.Given{{OfferID: ".1", Discount: 50}}}},
			[]checkout.Rule{checkout.RuleNotInAudience}, 50, 0, 0},
		{"over the budget", campaign.Spec{Name: "Budget", Benefits: []engine.Benefit{{Kind: engine.AmountOff, Amount: 100}}, Limits: campaign.Limits{Budget: 150}},
			[]sale{{"m", []checkout.Given{{OfferID: ".1", Discount: 100}}}, {"m", []checkout.Given{{OfferID: ".1", Discount: 100}}}},
			[]checkout.Rule{checkout.RuleOverBudget}, 100, 9, 0},
		{"an unknown offer and an unknown member", campaign.Spec{Name: "Any", Benefits: []engine.Benefit{{Kind: engine.AmountOff, Amount: 100}}},
			[]sale{{"nobody", []checkout.Given{{OfferID: "cmp_nope.1", Discount: 70}}}},
			[]checkout.Rule{checkout.RuleUnknownMember, checkout.RuleUnknownOffer}, 70, 0, 0},
		{"a points offer gives the engine's points", campaign.Spec{Name: "Points", Benefits: []engine.Benefit{{Kind: engine.PointsBonus, Points: 25}}},
			[]sale{{"m", []checkout.Given{{OfferID: ".1"}}}},
			nil, 0, 35, 0},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := context.Background()
				w := newWorld(t, storetest.Engine(t, string(db.Dialect)), ledger.Policy{})
				m := w.enrol(t, phoneN(1))
				c := w.launch(t, tt.spec)
				var last *checkout.GivenResult
				for i, s := range tt.sales {
					key := map[string]string{"m": string(m.Code), "nobody": "99999997"}[s.member]
					s.given = ownOffers(s.given, c.ID)
					req := basket(key, "T-"+string(rune('1'+i)), item(1, "COF", 2, 250), item(2, "TEA", 1, 500))
					var err error
					if last, err = w.checkout.CommitGiven(ctx, req, s.given); err != nil {
						t.Fatalf("sale %d: %v", i+1, err)
					}
					w.clock.Advance(time.Minute)
				}
				var rules []checkout.Rule
				for _, b := range last.Breaches {
					rules = append(rules, b.Rule)
				}
				if !equalRules(rules, tt.rules) {
					t.Errorf("breaches %+v, want rules %v", last.Breaches, tt.rules)
				}
				if last.TotalDiscount != tt.discount || last.PointsEarned != tt.points {
					t.Errorf("discount %d, points %d; want %d, %d", last.TotalDiscount, last.PointsEarned, tt.discount, tt.points)
				}
				var uses int64
				db := w.db
				db.R.QueryRow(`SELECT COALESCE(SUM(uses), 0) FROM offer_uses WHERE campaign_id = $1`, c.ID).Scan(&uses)
				if uses != tt.uses {
					t.Errorf("uses %d, want %d", uses, tt.uses)
				}
				var stored int
				db.R.QueryRow(`SELECT COUNT(*) FROM reconciliation WHERE transaction_id = $1`, last.TransactionID).Scan(&stored)
				if stored != len(tt.rules) {
					t.Errorf("%d reconciliation rows, want %d", stored, len(tt.rules))
				}

				// The same sale again changes nothing and answers the same.
				n := len(tt.sales) - 1
				key := map[string]string{"m": string(m.Code), "nobody": "99999997"}[tt.sales[n].member]
				again, err := w.checkout.CommitGiven(ctx, basket(key, last.TransactionID, item(1, "COF", 2, 250), item(2, "TEA", 1, 500)),
					ownOffers(tt.sales[n].given, c.ID))
				if err != nil {
					t.Fatal(err)
				}
				if !again.Replayed || len(again.Breaches) != len(last.Breaches) || again.TotalDiscount != last.TotalDiscount {
					t.Errorf("replay = %+v, want the stored answer", again)
				}
				var after int
				db.R.QueryRow(`SELECT COUNT(*) FROM reconciliation WHERE transaction_id = $1`, last.TransactionID).Scan(&after)
				if after != stored {
					t.Error("the replay stored breaches again")
				}
			})
		}
	})
}

// ownOffers is given with the offer id ".1" made the campaign's first
// offer, as a copy: the table is shared by both databases' runs.
func ownOffers(given []checkout.Given, campaignID string) []checkout.Given {
	out := append([]checkout.Given(nil), given...)
	for i := range out {
		if out[i].OfferID == ".1" {
			out[i].OfferID = campaignID + ".1"
		}
	}
	return out
}

func equalRules(a, b []checkout.Rule) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
