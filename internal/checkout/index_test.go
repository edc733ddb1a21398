package checkout_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestEvaluate_IndexedAnswerIsTheFullScansAnswer: an evaluate without an
// explanation takes its candidates from the live set's index; with one it
// hands the engine every live campaign. Whatever the member, audience,
// store, basket and limits, both must answer the same.
func TestEvaluate_IndexedAnswerIsTheFullScansAnswer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, defaultPolicy)
		ctx := context.Background()
		gold := w.enrol(t, phoneN(1), "gold")
		plain := w.enrol(t, phoneN(2))
		goldOnly := campaign.Audience{Kind: campaign.AudienceFilter, Filter: &campaign.Filter{Tags: []string{"gold"}}}
		for _, spec := range []campaign.Spec{
			{Name: "Gold, any line", Audience: goldOnly, Benefits: []engine.Benefit{percent(5)}},
			{Name: "Gold, SKU B", Audience: goldOnly, Benefits: []engine.Benefit{percent(20, "B")}},
			{Name: "Everyone, SKU A", Benefits: []engine.Benefit{percent(10, "A")}},
			{Name: "Open, bakery", Audience: campaign.Audience{Kind: campaign.AudienceOpen},
				Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 15, Scope: engine.Scope{Categories: []string{"bakery"}}}}},
			{Name: "Station only", Stores: []string{"S2"}, Benefits: []engine.Benefit{percent(50)}},
			{Name: "Station, SKU A", Stores: []string{"S2"}, Benefits: []engine.Benefit{percent(50, "A")}},
			{Name: "Needs C", Conditions: engine.Conditions{RequireSKUs: []string{"C"}}, Benefits: []engine.Benefit{{Kind: engine.AmountOff, Amount: 200}}},
			{Name: "Once each", Limits: campaign.Limits{PerMember: 1}, Benefits: []engine.Benefit{{Kind: engine.AmountOff, Amount: 100, Scope: engine.Scope{SKUs: []string{"A", "D"}}}}},
			{Name: "Exclusive D", Exclusive: true, Benefits: []engine.Benefit{percent(60, "D")}},
			{Name: "Double points", Benefits: []engine.Benefit{{Kind: engine.PointsMultiplier, Multiplier: 2}}},
		} {
			w.launch(t, spec)
		}
		// One use of "Once each" by the plain member, so the limit blocks it.
		if _, err := w.checkout.Commit(ctx, basket(string(plain.Code), "T-use", item(1, "A", 1, 1000))); err != nil {
			t.Fatal(err)
		}
		baskets := [][]checkout.Item{
			{item(1, "A", 2, 500)},
			{item(1, "B", 1, 900), item(2, "Z", 1, 300, "bakery")},
			{item(1, "C", 1, 100), item(2, "D", 3, 700)},
			{item(1, "Z", 1, 5000)},
			{item(1, "A", 1, 250), item(2, "B", 1, 250), item(3, "C", 1, 250), item(4, "D", 1, 250, "bakery")},
		}
		for _, who := range []struct{ name, key string }{{"gold member", string(gold.Code)}, {"plain member", string(plain.Code)}, {"anonymous", ""}} {
			for _, st := range []string{"S1", "S2"} {
				for i, items := range baskets {
					req := basket(who.key, "", items...)
					req.Store = st
					got, err := w.checkout.Evaluate(ctx, req, false)
					if err != nil {
						t.Fatal(err)
					}
					want, err := w.checkout.Evaluate(ctx, req, true)
					if err != nil {
						t.Fatal(err)
					}
					want.Explain, want.Items = nil, nil
					if !reflect.DeepEqual(got, want) {
						t.Errorf("%s at %s, basket %d:\nindexed   %+v\nfull scan %+v", who.name, st, i, got, want)
					}
				}
			}
		}
	})
}
