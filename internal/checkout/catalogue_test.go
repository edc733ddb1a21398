package checkout_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/catalogue"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// withCatalogue gives the world a catalogue (stores S1 and S2 open, S3
// closed; a coffee, a croissant and a cheese sold by the kilogram) and a
// checkout that reads it.
func withCatalogue(t *testing.T, w *world) *catalogue.Catalogue {
	t.Helper()
	ctx := context.Background()
	cat := catalogue.New(w.db, catalogue.Options{Currency: "GBP", Now: w.clock.Now})
	err := cat.PutStores(ctx, []catalogue.Store{
		{ID: "S1", Name: "High Street", Timezone: "Europe/London"},
		{ID: "S2", Name: "Station", Timezone: "Europe/London"},
		{ID: "S3", Name: "Old Town", Timezone: "Europe/London", Closed: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	errs, err := cat.PutProducts(ctx, []catalogue.Product{
		{SKU: "5000001", Name: "Flat white", Categories: []string{"drinks/coffee"}, Barcodes: []string{"05000001000019"}, Brand: "Perk"},
		{SKU: "5000002", Name: "Croissant", Categories: []string{"bakery"}},
		{SKU: "CHEESE", Name: "Cheddar", Categories: []string{"dairy/cheese"}, Unit: catalogue.Kilogram},
		{SKU: "BRIE", Name: "Brie", Categories: []string{"dairy/cheese"}, Unit: catalogue.Kilogram},
	})
	if err != nil || errs != nil {
		t.Fatal(err, errs)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w.checkout = checkout.NewService(w.db, w.members, w.campaigns, w.ledger, checkout.Options{Currency: "GBP", BaseEarn: 1,
		Now: w.clock.Now, Log: log, Catalogue: cat})
	return cat
}

func categoryOff(p int, cats ...string) engine.Benefit {
	return engine.Benefit{Kind: engine.PercentOff, Percent: p, Scope: engine.Scope{Categories: cats}}
}

func TestCatalogue_LinesGetTheirCategoriesFromTheCatalogue(t *testing.T) {
	tests := []struct {
		name     string
		line     checkout.Item
		discount int64
	}{
		{"SKU only, in a subcategory of the campaign's", checkout.Item{Line: 1, SKU: "5000001", Quantity: 2, UnitPrice: 320}, 128},
		{"scanned barcode only", checkout.Item{Line: 1, Barcode: "05000001000019", Quantity: 1, UnitPrice: 320}, 64},
		{"the till's categories are added to the catalogue's", checkout.Item{Line: 1, SKU: "5000002", Categories: []string{"drinks"}, Quantity: 1, UnitPrice: 200}, 40},
		{"a product outside the category", checkout.Item{Line: 1, SKU: "5000002", Quantity: 1, UnitPrice: 200}, 0},
		{"an unknown SKU is sold without category offers", checkout.Item{Line: 1, SKU: "9999999", Quantity: 1, UnitPrice: 500}, 0},
		{"an unknown SKU keeps the till's categories", checkout.Item{Line: 1, SKU: "9999999", Categories: []string{"drinks/tea"}, Quantity: 1, UnitPrice: 500}, 100},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, defaultPolicy)
		withCatalogue(t, w)
		w.launch(t, campaign.Spec{Name: "Drinks 20", Audience: campaign.Audience{Kind: campaign.AudienceOpen},
			Benefits: []engine.Benefit{categoryOff(20, "drinks")}})
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r, err := w.checkout.Evaluate(context.Background(), basket("", "", tt.line), false)
				if err != nil {
					t.Fatal(err)
				}
				if r.TotalDiscount != tt.discount {
					t.Fatalf("discount %d, want %d", r.TotalDiscount, tt.discount)
				}
			})
		}
	})
}

func TestCatalogue_ExplainSaysWhereCategoriesCameFrom(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, defaultPolicy)
		withCatalogue(t, w)
		r, err := w.checkout.Evaluate(context.Background(), basket("", "",
			checkout.Item{Line: 1, SKU: "5000001", Categories: []string{"drinks/coffee", "hot"}, Quantity: 1, UnitPrice: 320},
			checkout.Item{Line: 2, SKU: "NEW", Quantity: 1, UnitPrice: 100}), true)
		if err != nil {
			t.Fatal(err)
		}
		want := []checkout.LineInfo{
			{Line: 1, SKU: "5000001", Known: true, Brand: "Perk", Unit: "each", Quantity: "1", Value: 320, Categories: []checkout.LineCategory{
				{Category: "drinks/coffee", Source: "both"}, {Category: "drinks", Source: "both"}, {Category: "hot", Source: "till"}}},
			{Line: 2, SKU: "NEW", Unit: "each", Quantity: "1", Value: 100, Categories: []checkout.LineCategory{}},
		}
		if !slices.EqualFunc(r.Items, want, func(a, b checkout.LineInfo) bool {
			return a.Line == b.Line && a.SKU == b.SKU && a.Known == b.Known && a.Brand == b.Brand && a.Unit == b.Unit &&
				a.Quantity == b.Quantity && a.Value == b.Value && slices.Equal(a.Categories, b.Categories)
		}) {
			t.Fatalf("items %+v\nwant %+v", r.Items, want)
		}
	})
}

func TestCatalogue_UnknownAndClosedStoresAreRefused(t *testing.T) {
	tests := []struct {
		store, code string
	}{
		{"S999", "store_unknown"},
		{"S3", "store_closed"},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, defaultPolicy)
		withCatalogue(t, w)
		for _, tt := range tests {
			t.Run(tt.store, func(t *testing.T) {
				req := basket("", "T-1", item(1, "5000002", 1, 200))
				req.Store = tt.store
				_, err := w.checkout.Evaluate(context.Background(), req, false)
				wantProblem(t, err, tt.code)
				_, err = w.checkout.Commit(context.Background(), req)
				wantProblem(t, err, tt.code)
			})
		}
	})
}

func TestCatalogue_UnknownSKUsAreCountedAtCommit(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, defaultPolicy)
		cat := withCatalogue(t, w)
		ctx := context.Background()
		for _, txn := range []string{"T-1", "T-2", "T-2"} { // the replay of T-2 sells nothing new
			if _, err := w.checkout.Commit(ctx, basket("", txn, item(1, "NEW", 1, 100), item(2, "5000002", 1, 200))); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := w.checkout.Evaluate(ctx, basket("", "", item(1, "NEW", 1, 100)), false); err != nil {
			t.Fatal(err)
		}
		got, err := cat.UnknownSKUs(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].SKU != "NEW" || got[0].Lines != 2 || got[0].Store != "S1" || !got[0].LastSeen.Equal(w.clock.Now()) {
			t.Fatalf("unknown SKUs %+v, want NEW twice at S1", got)
		}
	})
}

// TestCatalogue_UnknownSKUsOfAChunkThatNeverCommitsAreNotCounted: a
// transaction file's chunk that is rolled back (a crash, a failed commit) is
// sent again, so its lines must not have been counted already.
func TestCatalogue_UnknownSKUsOfAChunkThatNeverCommitsAreNotCounted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, defaultPolicy)
		cat := withCatalogue(t, w)
		ctx := context.Background()
		send := func(commit bool) {
			ch, err := db.BeginChunk(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.checkout.Commit(ch.Context(ctx), basket("", "T-9", item(1, "NEW", 1, 100))); err != nil {
				t.Fatal(err)
			}
			if commit {
				err = ch.Commit()
			} else {
				err = ch.Rollback()
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		send(false)
		send(true)
		got, err := cat.UnknownSKUs(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Lines != 1 {
			t.Fatalf("unknown SKUs %+v, want NEW once", got)
		}
	})
}

// The store's zone, from the catalogue, decides time-of-day conditions: at
// 10:00 UTC a 09:00-12:00 offer is on in London and over in Tokyo (19:00).
func TestCatalogue_TheStoresZoneDrivesTimeConditions(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, defaultPolicy)
		cat := withCatalogue(t, w)
		ctx := context.Background()
		if err := cat.PutStore(ctx, catalogue.Store{ID: "TOKYO", Name: "Ginza", Timezone: "Asia/Tokyo"}); err != nil {
			t.Fatal(err)
		}
		w.launch(t, campaign.Spec{Name: "Morning", Audience: campaign.Audience{Kind: campaign.AudienceOpen},
			Conditions: engine.Conditions{From: "09:00", To: "12:00"}, Benefits: []engine.Benefit{categoryOff(10, "bakery")}})
		for _, tt := range []struct {
			store    string
			discount int64
		}{{"S1", 20}, {"TOKYO", 0}} {
			req := basket("", "", item(1, "5000002", 1, 200))
			req.Store = tt.store
			r, err := w.checkout.Evaluate(ctx, req, false)
			if err != nil || r.TotalDiscount != tt.discount {
				t.Fatalf("%s: %+v %v, want discount %d", tt.store, r, err, tt.discount)
			}
		}
	})
}

// TestCatalogue_StoresAreCheckedOnceTheCatalogueListsOne: the one store rule
// (catalogue.TradingStore), the same at the till and for a member's home
// store: while the catalogue lists no store, any store trades (a programme
// without a catalogue works); the first store listed turns the check on.
func TestCatalogue_StoresAreCheckedOnceTheCatalogueListsOne(t *testing.T) {
	tests := []struct {
		name   string
		stores []catalogue.Store
		store  string
		code   string // the till's refusal, "" = accepted; the home store's is home_store_unknown
	}{
		{"no store listed: any id trades", nil, "S9", ""},
		{"a listed store", []catalogue.Store{{ID: "S1", Name: "High Street", Timezone: "Europe/London"}}, "S1", ""},
		{"once a store is listed, another id is unknown", []catalogue.Store{{ID: "S1", Name: "High Street", Timezone: "Europe/London"}}, "S9", "store_unknown"},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, defaultPolicy)
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := context.Background()
				if _, err := db.W.Exec(`DELETE FROM stores`); err != nil {
					t.Fatal(err)
				}
				cat := catalogue.New(w.db, catalogue.Options{Currency: "GBP", Now: w.clock.Now})
				if len(tt.stores) > 0 {
					if err := cat.PutStores(ctx, tt.stores); err != nil {
						t.Fatal(err)
					}
				}
				co := checkout.NewService(w.db, w.members, w.campaigns, w.ledger, checkout.Options{Currency: "GBP", BaseEarn: 1,
					Now: w.clock.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Catalogue: cat})
				req := basket("", fmt.Sprintf("T-%d", i), item(1, "5000002", 1, 200))
				req.Store = tt.store
				_, err := co.Commit(ctx, req)
				_, enrolErr := w.members.Enrol(ctx, member.EnrolRequest{Profile: member.Profile{Phone: fmt.Sprintf("+4477009%05d", 100+i),
					FirstName: "Ann", HomeStore: tt.store}, Channel: member.ChannelAPI})
				if tt.code == "" {
					if err != nil || enrolErr != nil {
						t.Fatalf("commit: %v; enrol with home store: %v", err, enrolErr)
					}
					return
				}
				wantProblem(t, err, tt.code)
				wantProblem(t, enrolErr, "home_store_unknown")
			})
		}
	})
}
