package nbo_test

import (
	"context"
	"io"
	"log/slog"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/nbo"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/sms/router"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestWallet_ListsTheMembersOffersBestFirst: the card page and the OFFERS
// reply read the wallet through the ranking. A bakery lover holding an
// offer on produce that ends soon and one on bakery that ends later sees
// the bakery offer first, where the checkout's wallet (soonest ending
// first) lists produce first; no pool offer they do not hold is added.
func TestWallet_ListsTheMembersOffersBestFirst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		rnd := rand.New(rand.NewPCG(3, 4))
		var shoppers []shopper
		for i := range 10 {
			shoppers = append(shoppers, shopper{w.enrol(t, i), categories[i%2]}) // bakery and dairy lovers
		}
		w.shop(t, rnd, shoppers, 6)
		ann := shoppers[0].m // prefers bakery
		now := w.clk.Now()
		for _, o := range []nbo.Offer{
			offer("Save 1 on produce", "produce", engine.Benefit{Kind: engine.AmountOff, Amount: 100, Description: "Save 1 on produce"}, 100, now, 5),
			offer("Save 1 on bakery", "bakery", engine.Benefit{Kind: engine.AmountOff, Amount: 100, Description: "Save 1 on bakery"}, 100, now, 20),
		} {
			if _, err := w.campaigns.GivePersonal(ctx, o.Personal(), []string{ann.ID}, false); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.nbo.PutPool(ctx, []nbo.Offer{offer("Save 1 on frozen", "frozen",
			engine.Benefit{Kind: engine.AmountOff, Amount: 100, Description: "Save 1 on frozen"}, 100, now, 30)}, true); err != nil {
			t.Fatal(err)
		}

		plain, err := w.till.Wallet(ctx, ann)
		if err != nil {
			t.Fatal(err)
		}
		ranked, err := w.nbo.Wallet(ctx, ann)
		if err != nil {
			t.Fatal(err)
		}
		names := func(ws []string) string { return strings.Join(ws, ", ") }
		var got, was []string
		for _, o := range ranked.Offers {
			got = append(got, strings.Join(o.Benefits, "+"))
		}
		for _, o := range plain.Offers {
			was = append(was, strings.Join(o.Benefits, "+"))
		}
		if names(was) != "Save 1 on produce, Save 1 on bakery" {
			t.Fatalf("checkout wallet = %s, want produce (ends first) then bakery", names(was))
		}
		if names(got) != "Save 1 on bakery, Save 1 on produce" {
			t.Errorf("ranked wallet = %s, want bakery then produce", names(got))
		}
		if ranked.Points != plain.Points {
			t.Errorf("ranked wallet points %+v, checkout's %+v", ranked.Points, plain.Points)
		}

		rt, err := router.New(db, w.members, router.Options{Now: w.clk.Now, Wallet: w.nbo,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := rt.Handle(ctx, sms.Inbound{From: string(ann.Phone), To: "test", Body: "OFFERS", ReceivedAt: w.clk.Now()}); err != nil {
			t.Fatal(err)
		}
		var body string
		if err := db.R.QueryRow(`SELECT body FROM sms_outbox WHERE to_phone = $1 AND purpose = 'offers_reply'`,
			ann.Phone).Scan(&body); err != nil {
			t.Fatal(err)
		}
		b, p := strings.Index(body, "bakery"), strings.Index(body, "produce")
		if b < 0 || p < 0 || b > p || strings.Contains(body, "frozen") {
			t.Errorf("OFFERS reply %q, want the bakery offer before the produce one and no pool offer", body)
		}
	})
}
