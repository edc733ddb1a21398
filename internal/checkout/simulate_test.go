package checkout_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

func TestSimulateReplaysStoredBaskets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, defaultPolicy)
		ctx := context.Background()
		a, b := w.enrol(t, phoneN(1)), w.enrol(t, phoneN(2))
		// Three baskets from a (two with coffee), one from b, one anonymous;
		// then a's second coffee basket is voided.
		for i, r := range []struct {
			code string
			sku  string
		}{{string(a.Code), "COF"}, {string(a.Code), "TEA"}, {string(a.Code), "COF"}, {string(b.Code), "COF"}, {"", "COF"}} {
			if _, err := w.checkout.Commit(ctx, basket(r.code, fmt.Sprintf("T-%d", i), item(1, r.sku, 2, 300))); err != nil {
				t.Fatal(err)
			}
			w.clock.Advance(time.Hour)
		}
		if _, err := w.checkout.Void(ctx, voidReq("T-2")); err != nil {
			t.Fatal(err)
		}
		c, err := w.campaigns.Create(ctx, campaign.Spec{Name: "Coffee", Start: "2027-01-01", End: "2027-02-01",
			Audience: campaign.Audience{Kind: campaign.AudienceAll},
			Benefits: []engine.Benefit{percent(50, "COF"), {Kind: engine.PointsBonus, Points: 25}}, Limits: campaign.Limits{PerMember: 1}})
		if err != nil {
			t.Fatal(err)
		}
		sim, err := w.checkout.Simulate(ctx, c.ID, 30)
		if err != nil {
			t.Fatal(err)
		}
		// Members' coffee baskets: a's first (a's second was voided) and b's.
		if sim.Baskets != 4 || sim.Eligible != 3 || sim.Redemptions != 2 || sim.Members != 2 {
			t.Fatalf("simulation = %+v", sim)
		}
		if sim.DiscountCost != 600 || sim.PointsLiability != 50 || sim.RedeemingSales != 1200 {
			t.Fatalf("cost = %d, points = %d, sales = %d; want 600, 50, 1200", sim.DiscountCost, sim.PointsLiability, sim.RedeemingSales)
		}
		// a's tea basket came after a had used the single-use offer.
		if sim.NotApplied[string(engine.LimitReached)] != 1 {
			t.Fatalf("not applied = %v, want one limit_reached", sim.NotApplied)
		}
		if _, err := w.checkout.Simulate(ctx, c.ID, 0); err == nil {
			t.Fatal("0 days accepted")
		}
	})
}
