package nbo_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/nbo"
	"github.com/perk-platform/perk/internal/report"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestCampaignKind_NextBestOfferLaunchesWithItsHoldoutAndReports: a
// campaign of kind next_best_offer, applied as a spec and launched through
// the campaigns' own Launch, gives each ranked member their top k offers
// of the pool and each member of the holdout k of them at random (as
// personal offers the tills honour), stores the holdout as its control
// group, and its campaign report shows the ranked and random arms. The arms
// follow the tills: a redemption counts, a return of the line it applied to
// and a void give it back.
func TestCampaignKind_NextBestOfferLaunchesWithItsHoldoutAndReports(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		rnd := rand.New(rand.NewPCG(5, 6))
		var shoppers []shopper
		for i := range 20 {
			shoppers = append(shoppers, shopper{w.enrol(t, i), categories[i%len(categories)]})
		}
		w.shop(t, rnd, shoppers, 3)
		var pool []nbo.Offer
		for _, c := range categories {
			pool = append(pool, offer("Save 1 on "+c, c, engine.Benefit{Kind: engine.AmountOff, Amount: 100}, 100, w.clk.Now(), 30))
		}
		if _, err := w.nbo.PutPool(ctx, pool, true); err != nil {
			t.Fatal(err)
		}

		spec := campaign.Spec{Name: "Picks", Kind: campaign.KindNextBestOffer, Start: w.clk.Now().Format(time.RFC3339),
			End: w.clk.Now().Add(30 * 24 * time.Hour).Format(time.RFC3339), Audience: campaign.Audience{Kind: campaign.AudienceAll},
			NextBestOffer: &campaign.NextBestOffer{K: 2, Holdout: 50}}
		c, applied, err := w.campaigns.Apply(ctx, spec)
		if err != nil || applied != campaign.Created {
			t.Fatalf("apply: %v %v", applied, err)
		}
		if _, again, err := w.campaigns.Apply(ctx, spec); err != nil || again != campaign.Unchanged {
			t.Fatalf("apply again: %v %v, want unchanged", again, err)
		}
		l, err := w.campaigns.Launch(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		// The holdout is drawn by a hash of the campaign's id, a new one each
		// run: with 20 members in a 50% holdout, 4-16 failed once in about
		// 400 runs (it did, 3 of 20); 2-18 fails once in about 25,000.
		if l.Audience != 20 || l.Control < 2 || l.Control > 18 || l.Campaign.Status != campaign.Active {
			t.Fatalf("launched: audience %d, control %d, status %s; want 20 split about evenly, active", l.Audience, l.Control, l.Campaign.Status)
		}
		if _, err := w.campaigns.Launch(ctx, c.ID); err == nil {
			t.Errorf("launched twice")
		}

		// What each member was given, in which arm.
		type gift struct{ offers, arm string }
		given := map[string]*gift{}
		rows, err := db.R.QueryContext(ctx, `SELECT member_id, offer, arm FROM nbo_given WHERE run = $1 ORDER BY member_id, position`, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var m, o, arm string
			if err := rows.Scan(&m, &o, &arm); err != nil {
				t.Fatal(err)
			}
			if given[m] == nil {
				given[m] = &gift{arm: arm}
			}
			given[m].offers += o + ";"
		}
		rows.Close()
		random := int64(0)
		for _, s := range shoppers {
			g := given[s.m.ID]
			if g == nil || strings.Count(g.offers, ";") != 2 {
				t.Fatalf("member %s given %+v, want 2 offers", s.m.ID, g)
			}
			if g.arm == nbo.ArmRandom {
				random++
			} else if !strings.Contains(g.offers, "Save 1 on "+s.pref) {
				t.Errorf("ranked member preferring %s given %s", s.pref, g.offers)
			}
		}
		if random != l.Control {
			t.Errorf("%d members in the random arm, control group %d", random, l.Control)
		}

		arms := func(step string, wantRanked, wantRandom int64) *report.CampaignReport {
			t.Helper()
			r, err := w.reports.Campaign(ctx, c.ID, report.Options{})
			if err != nil {
				t.Fatal(err)
			}
			n := r.NextBestOffer
			if n == nil {
				t.Fatalf("%s: no next_best_offer section", step)
			}
			if n.Ranked.Members != 20-random || n.Random.Members != random || n.Ranked.OffersGiven != 2*(20-random) || n.Random.OffersGiven != 2*random {
				t.Errorf("%s: arms %+v / %+v, want %d ranked and %d random members with 2 offers each", step, n.Ranked, n.Random, 20-random, random)
			}
			if n.Ranked.OffersRedeemed != wantRanked || n.Random.OffersRedeemed != wantRandom {
				t.Errorf("%s: offers redeemed ranked %d random %d, want %d and %d", step, n.Ranked.OffersRedeemed, n.Random.OffersRedeemed, wantRanked, wantRandom)
			}
			if n.Ranked.Converted != wantRanked || n.Random.Converted != wantRandom {
				t.Errorf("%s: converted ranked %d random %d, want %d and %d", step, n.Ranked.Converted, n.Random.Converted, wantRanked, wantRandom)
			}
			if r.TreatedSize != 20-random || r.ControlSize != random {
				t.Errorf("%s: treated %d control %d, want the arms", step, r.TreatedSize, r.ControlSize)
			}
			return r
		}
		r := arms("at launch", 0, 0)
		if r.NextBestOffer.MemberRate.CI == nil {
			t.Errorf("at launch: no interval with both arms filled: %+v", r.NextBestOffer.MemberRate)
		}

		var ranked, random1 *shopper
		for i := range shoppers {
			switch g := given[shoppers[i].m.ID]; {
			case g.arm == nbo.ArmRanked && ranked == nil:
				ranked = &shoppers[i]
			case g.arm == nbo.ArmRandom && random1 == nil:
				random1 = &shoppers[i]
			}
		}
		w.clk.Advance(time.Hour)
		offerCat := func(s *shopper) string { // the category of the member's first offer
			first, _, _ := strings.Cut(given[s.m.ID].offers, ";")
			return strings.TrimPrefix(first, "Save 1 on ")
		}
		buy := func(s *shopper) string {
			t.Helper()
			w.buy(t, s.m, offerCat(s))
			return fmt.Sprintf("T%06d", w.txn)
		}
		saleRanked := buy(ranked)
		arms("after a ranked member redeemed", 1, 0)

		if _, err := w.till.Return(ctx, &checkout.ReturnRequest{Store: "S1", TransactionID: saleRanked, ReturnID: "R1",
			Items: []checkout.ReturnItem{{Line: 1, Quantity: 1}}}); err != nil {
			t.Fatal(err)
		}
		arms("after the line was returned", 0, 0)

		saleRandom := buy(random1)
		arms("after a random member redeemed", 0, 1)
		if _, err := w.till.Void(ctx, &checkout.VoidRequest{Store: "S1", TransactionID: saleRandom}); err != nil {
			t.Fatal(err)
		}
		arms("after the sale was voided", 0, 0)

		buy(ranked)
		r = arms("after the ranked member redeemed again", 1, 0)
		if r.NextBestOffer.MemberRate.Difference <= 0 {
			t.Errorf("ranked - random = %+v, want above 0", r.NextBestOffer.MemberRate)
		}
		// The shorthand's report by name is the same section.
		byName, err := w.reports.NextBestOffer(ctx, "Picks")
		if err != nil || !reflect.DeepEqual(byName, r.NextBestOffer) {
			t.Errorf("report by name %+v (%v), the campaign's %+v", byName, err, r.NextBestOffer)
		}
	})
}
