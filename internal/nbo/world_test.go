package nbo_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/nbo"
	"github.com/perk-platform/perk/internal/report"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
)

var t0 = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

// categories of the generated programme; each member prefers one.
var categories = []string{"bakery", "dairy", "produce", "drinks", "frozen"}

// world is the domain services as perk serve wires them, with store S1.
type world struct {
	db        *store.DB
	clk       *testenv.Clock
	members   *member.Service
	campaigns *campaign.Service
	till      *checkout.Service
	nbo       *nbo.Service
	reports   *report.Service
	txn       int
}

func newWorld(t testing.TB, db *store.DB) *world {
	t.Helper()
	clk := testenv.NewClock(t0)
	now := clk.Now
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	members := member.NewService(db, member.Options{Region: "GB", PublicURL: "https://perk.test", Now: now, Log: log})
	camps := campaign.NewService(db, campaign.Options{Zone: time.UTC, PublicURL: "https://perk.test", Now: now, Log: log})
	till := checkout.NewService(db, members, camps, ledger.New(db, ledger.Policy{}, now), checkout.Options{Currency: "GBP", BaseEarn: 1, Now: now, Log: log})
	if _, err := db.W.Exec(`INSERT INTO stores (id, name, timezone, created_at) VALUES ('S1', 'High Street', 'Europe/London', $1)`, t0); err != nil {
		t.Fatal(err)
	}
	return &world{db: db, clk: clk, members: members, campaigns: camps, till: till, reports: report.NewService(db, camps, now),
		nbo: nbo.NewService(db, camps, nbo.Options{Wallet: till, Seed: 7, Now: now, Log: log})}
}

func (w *world) enrol(t testing.TB, i int) *member.Member {
	t.Helper()
	e, err := w.members.Enrol(context.Background(), member.EnrolRequest{Profile: member.Profile{Phone: fmt.Sprintf("07700900%03d", i)},
		Channel: member.ChannelAPI, Consent: true})
	if err != nil {
		t.Fatalf("enrol %d: %v", i, err)
	}
	return e.Member
}

// buy commits a basket of one unit of each category's product for m.
func (w *world) buy(t testing.TB, m *member.Member, cats ...string) {
	t.Helper()
	w.txn++
	req := &checkout.Request{Store: "S1", Terminal: "T1", Currency: "GBP", TransactionID: fmt.Sprintf("T%06d", w.txn), Member: checkout.Key(string(m.Code))}
	for i, c := range cats {
		req.Items = append(req.Items, checkout.Item{Line: i + 1, SKU: "SKU-" + c, Categories: []string{c}, Quantity: 1, UnitPrice: 400})
	}
	if _, err := w.till.Commit(context.Background(), req); err != nil {
		t.Fatalf("commit: %v", err)
	}
}

// shopper is a generated member and the category they prefer.
type shopper struct {
	m    *member.Member
	pref string
}

// planted enrols n members, each preferring categories[i%5], and has them
// visit the shop visits times, one day apart: each basket holds a product
// of the preferred category, and with probability 1/10 one of another
// category instead. So an offer scoped to the preferred category is
// redeemed at the next visit, one scoped elsewhere seldom.
func (w *world) shop(t testing.TB, rnd *rand.Rand, shoppers []shopper, visits int) {
	t.Helper()
	for range visits {
		w.clk.Advance(24 * time.Hour)
		for _, s := range shoppers {
			c := s.pref
			if rnd.IntN(10) == 0 {
				c = categories[rnd.IntN(len(categories))]
			}
			w.buy(t, s.m, c)
		}
	}
}

func offer(name string, cat string, b engine.Benefit, cost int64, from time.Time, days int) nbo.Offer {
	b.Scope = engine.Scope{Categories: []string{cat}}
	return nbo.Offer{Name: name, Description: name, Benefit: b, Cost: cost, Start: from.Format(time.RFC3339),
		End: from.Add(time.Duration(days) * 24 * time.Hour).Format(time.RFC3339)}
}

// TestNextBestOffer_RecoversPlantedPreferencesAndBeatsChance is the offline
// verification of docs/nbo.md on a generated programme whose members each
// prefer a category: after a first round of offers given at random and the
// members' shopping, the ranking's first offer is in the member's preferred
// category far more often than chance (1 in 5); then a next_best_offer
// campaign with a 50% random holdout is launched, the members shop, and its
// report shows the ranked arm redeeming more than the random arm with an
// interval above 0.
func TestNextBestOffer_RecoversPlantedPreferencesAndBeatsChance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		rnd := rand.New(rand.NewPCG(11, 12))
		var shoppers []shopper
		for i := range 50 {
			shoppers = append(shoppers, shopper{w.enrol(t, i), categories[i%len(categories)]})
		}
		w.shop(t, rnd, shoppers, 4)

		// Round one: each category's offer given to a random half.
		for _, c := range categories {
			o := offer("20% off "+c, c, engine.Benefit{Kind: engine.PercentOff, Percent: 20}, 80, w.clk.Now(), 30)
			var ids []string
			for _, s := range shoppers {
				if rnd.IntN(2) == 0 {
					ids = append(ids, s.m.ID)
				}
			}
			if _, err := w.campaigns.GivePersonal(ctx, o.Personal(), ids, false); err != nil {
				t.Fatal(err)
			}
		}
		w.shop(t, rnd, shoppers, 4)
		w.clk.Advance(40 * 24 * time.Hour) // round one's offers have ended

		var pool []nbo.Offer
		for _, c := range categories {
			pool = append(pool, offer("Save 1 on "+c, c, engine.Benefit{Kind: engine.AmountOff, Amount: 100}, 100, w.clk.Now(), 30))
		}
		if _, err := w.nbo.PutPool(ctx, pool, true); err != nil {
			t.Fatal(err)
		}
		if _, err := w.nbo.MineRules(ctx, nbo.DefaultThresholds); err != nil {
			t.Fatal(err)
		}

		hits := 0
		for _, s := range shoppers {
			top, err := w.nbo.Rank(ctx, s.m, 1)
			if err != nil {
				t.Fatal(err)
			}
			if len(top) != 1 {
				t.Fatalf("ranked %d offers, want 1", len(top))
			}
			if top[0].Reasons.Group == s.pref {
				hits++
			}
		}
		precision := float64(hits) / float64(len(shoppers))
		t.Logf("precision@1 = %.2f (%d of %d members), random = %.2f", precision, hits, len(shoppers), 1/float64(len(categories)))
		if precision < 0.8 {
			t.Errorf("precision@1 = %.2f, want at least 0.8 (random: 0.20)", precision)
		}

		launched, err := w.nbo.Launch(ctx, nbo.CampaignSpec{Name: "Autumn picks", Kind: nbo.KindNextBestOffer,
			Audience: campaign.Audience{Kind: campaign.AudienceAll}, K: 1, Holdout: 50})
		if err != nil {
			t.Fatal(err)
		}
		if launched.Members != 50 || launched.Ranked+launched.Random != 50 || launched.Random < 10 || launched.Ranked < 10 {
			t.Fatalf("launched %+v, want 50 members split about evenly", launched)
		}
		if _, err := w.nbo.Launch(ctx, nbo.CampaignSpec{Name: "Autumn picks", Kind: nbo.KindNextBestOffer,
			Audience: campaign.Audience{Kind: campaign.AudienceAll}, K: 1, Holdout: 50}); err != nbo.ErrCampaignExists {
			t.Errorf("launching the same campaign again: %v, want ErrCampaignExists", err)
		}
		w.shop(t, rnd, shoppers, 3)

		rep, err := w.reports.NextBestOffer(ctx, "Autumn picks")
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("ranked %d/%d members redeemed (%.2f), random %d/%d (%.2f), difference %.2f [%.2f, %.2f]",
			rep.Ranked.Converted, rep.Ranked.Members, rep.Ranked.MemberRate, rep.Random.Converted, rep.Random.Members,
			rep.Random.MemberRate, rep.MemberRate.Difference, rep.MemberRate.CI.Low, rep.MemberRate.CI.High)
		if rep.Ranked.Members != launched.Ranked || rep.Random.Members != launched.Random {
			t.Errorf("report arms %d/%d, launch gave %d/%d", rep.Ranked.Members, rep.Random.Members, launched.Ranked, launched.Random)
		}
		if rep.MemberRate.CI == nil || rep.MemberRate.CI.Low <= 0 {
			t.Errorf("ranked vs random: %+v, want an interval above 0", rep.MemberRate)
		}
	})
}
