package catalogue_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/catalogue"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func newCatalogue(db *store.DB, clk *testenv.Clock) *catalogue.Catalogue {
	return catalogue.New(db, catalogue.Options{Currency: "GBP", Now: clk.Now})
}

func snap(t *testing.T, c *catalogue.Catalogue) *catalogue.Snapshot {
	t.Helper()
	s, err := c.Snapshot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStores_PutReadCloseDelete(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newCatalogue(db, testenv.NewClock(t0))
		err := c.PutStores(ctx, []catalogue.Store{
			{ID: "S001", Name: "Covent Garden", Timezone: "Europe/London", Region: "London", Address: "1 Long Acre"},
			{ID: "S002", Name: "Paris", Timezone: "Europe/Paris"},
		})
		if err != nil {
			t.Fatal(err)
		}
		s, ok := snap(t, c).Store("S002")
		if !ok || s.Location().String() != "Europe/Paris" || s.Closed {
			t.Fatalf("S002 = %+v", s)
		}
		if err := c.PutStore(ctx, catalogue.Store{ID: "S002", Name: "Paris", Timezone: "Europe/Paris", Closed: true}); err != nil {
			t.Fatal(err)
		}
		if s, _ := snap(t, c).Store("S002"); !s.Closed {
			t.Fatal("closing S002 not seen")
		}
		for _, tt := range []struct {
			name  string
			store catalogue.Store
			field string
		}{
			{"no id", catalogue.Store{Name: "x", Timezone: "UTC"}, "stores[0].id"},
			{"no zone", catalogue.Store{ID: "S9", Name: "x"}, "stores[0].timezone"},
			{"bad zone", catalogue.Store{ID: "S9", Name: "x", Timezone: "Mars/Olympus"}, "stores[0].timezone"},
			{"no name", catalogue.Store{ID: "S9", Timezone: "UTC"}, "stores[0].name"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				var pe *problem.Error
				if err := c.PutStores(ctx, []catalogue.Store{tt.store}); !errors.As(err, &pe) || pe.Field != tt.field {
					t.Fatalf("err %v, want field %s", err, tt.field)
				}
			})
		}
		if err := c.DeleteStore(ctx, "S001"); err != nil {
			t.Fatal(err)
		}
		if err := c.DeleteStore(ctx, "S001"); !errors.Is(err, catalogue.ErrStoreNotFound) {
			t.Fatalf("second delete: %v", err)
		}
		if got := len(snap(t, c).Stores()); got != 1 {
			t.Fatalf("%d stores left, want 1", got)
		}
	})
}

func TestProducts_BulkPutReportsEachBadItemAndWritesTheRest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newCatalogue(db, testenv.NewClock(t0))
		cost := int64(150)
		errs, err := c.PutProducts(ctx, []catalogue.Product{
			{SKU: "5000001", Name: "Flat white", Categories: []string{"drinks/coffee"}, Barcodes: []string{"5012345678900"}, Brand: "Perk", Price: 320, CostPrice: &cost},
			{SKU: "CHEESE", Name: "Cheddar", Categories: []string{"dairy/cheese"}, Unit: "KG", Price: 1899},
			{SKU: "", Name: "no sku"},
			{SKU: "BAD", Name: "Bad", Unit: "bushel"},
			{SKU: "5000001", Name: "again"},
			{SKU: "X", Name: "steals", Barcodes: []string{"5012345678900"}},
			{SKU: "Y", Name: "bad category", Categories: []string{"drinks/"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		type e struct {
			index       int
			code, field string
		}
		var got []e
		for _, ie := range errs {
			got = append(got, e{ie.Index, ie.Code, ie.Field})
		}
		want := []e{{2, "required", "sku"}, {3, "unit_invalid", "unit"}, {4, "sku_duplicate", "sku"},
			{5, "barcode_duplicate", "barcodes[0]"}, {6, "category_invalid", "categories[0]"}}
		if !slices.Equal(got, want) {
			t.Fatalf("errors %+v, want %+v", got, want)
		}
		s := snap(t, c)
		if s.Len() != 2 {
			t.Fatalf("%d products, want 2", s.Len())
		}
		p, ok := s.Barcode("5012345678900")
		if !ok || p.SKU != "5000001" || *p.CostPrice != 150 || !slices.Equal(p.EngineCategories(), []string{"drinks/coffee", "drinks"}) {
			t.Fatalf("by barcode: %+v", p)
		}
		if p, _ := s.Product("CHEESE"); p.Unit != catalogue.Kilogram || p.CostPrice != nil {
			t.Fatalf("cheese: %+v", p)
		}

		// A barcode claimed by another product in a later call moves to it.
		if errs, err := c.PutProducts(ctx, []catalogue.Product{{SKU: "X", Name: "New pack", Barcodes: []string{"5012345678900"}}}); err != nil || errs != nil {
			t.Fatal(err, errs)
		}
		s = snap(t, c)
		if p, _ := s.Barcode("5012345678900"); p.SKU != "X" {
			t.Fatalf("barcode stayed with %s", p.SKU)
		}
		if p, _ := s.Product("5000001"); len(p.Barcodes) != 0 {
			t.Fatalf("old owner keeps %v", p.Barcodes)
		}
		if err := c.DeleteProduct(ctx, "X"); err != nil {
			t.Fatal(err)
		}
		if _, ok := snap(t, c).Barcode("5012345678900"); ok {
			t.Fatal("barcode of a deleted product still resolves")
		}
		if err := c.DeleteProduct(ctx, "X"); !errors.Is(err, catalogue.ErrProductNotFound) {
			t.Fatalf("second delete: %v", err)
		}
	})
}

func TestSnapshot_AnotherInstanceSeesAChangeAfterItsRefreshInterval(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := testenv.NewClock(t0)
		here, there := newCatalogue(db, clk), newCatalogue(db, clk)
		if snap(t, there).Len() != 0 {
			t.Fatal("not empty")
		}
		if _, err := here.PutProducts(ctx, []catalogue.Product{{SKU: "A", Name: "A"}}); err != nil {
			t.Fatal(err)
		}
		if snap(t, here).Len() != 1 {
			t.Fatal("the writing instance does not see its write at once")
		}
		if snap(t, there).Len() != 0 {
			t.Fatal("the other instance reloaded before its interval")
		}
		clk.Advance(2 * time.Second)
		if snap(t, there).Len() != 1 {
			t.Fatal("the other instance did not reload after its interval")
		}
	})
}

func TestProducts_ListByQueryCategoryAndCursor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newCatalogue(db, testenv.NewClock(t0))
		_, err := c.PutProducts(ctx, []catalogue.Product{
			{SKU: "A1", Name: "Espresso beans", Categories: []string{"drinks/coffee/beans"}, Brand: "Roastery"},
			{SKU: "A2", Name: "Flat white", Categories: []string{"drinks/coffee"}},
			{SKU: "A3", Name: "Green tea", Categories: []string{"drinks/tea"}, Barcodes: []string{"123"}},
			{SKU: "B1", Name: "Croissant", Categories: []string{"bakery"}},
			{SKU: "B2", Name: "Drinking chocolate", Categories: []string{"drinksx"}},
		})
		if err != nil {
			t.Fatal(err)
		}
		s := snap(t, c)
		for _, tt := range []struct {
			name string
			q    catalogue.ProductQuery
			want []string
		}{
			{"all", catalogue.ProductQuery{}, []string{"A1", "A2", "A3", "B1", "B2"}},
			{"a category takes what is below it", catalogue.ProductQuery{Category: "drinks"}, []string{"A1", "A2", "A3"}},
			{"a subcategory", catalogue.ProductQuery{Category: "drinks/coffee"}, []string{"A1", "A2"}},
			{"name, any case", catalogue.ProductQuery{Query: "WHITE"}, []string{"A2"}},
			{"brand", catalogue.ProductQuery{Query: "roast"}, []string{"A1"}},
			{"barcode", catalogue.ProductQuery{Query: "123"}, []string{"A3"}},
		} {
			t.Run(tt.name, func(t *testing.T) {
				var got []string
				q := tt.q
				q.Limit = 2
				for range 10 {
					page, err := s.Products(q)
					if err != nil {
						t.Fatal(err)
					}
					for _, p := range page.Products {
						got = append(got, p.SKU)
					}
					if page.Next == "" {
						break
					}
					q.Cursor = page.Next
				}
				if !slices.Equal(got, tt.want) {
					t.Fatalf("got %v, want %v", got, tt.want)
				}
			})
		}
		if _, err := s.Products(catalogue.ProductQuery{Cursor: "!!"}); !errors.Is(err, catalogue.ErrCursor) {
			t.Fatalf("bad cursor: %v", err)
		}
	})
}

func TestUnknownSKUs_CountedUntilTheCatalogueHasThem(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := testenv.NewClock(t0)
		a, b := newCatalogue(db, clk), newCatalogue(db, clk)
		a.NoteUnknown("X1", "S001", t0)
		a.NoteUnknown("X1", "S002", t0.Add(time.Minute))
		b.NoteUnknown("X1", "S003", t0.Add(30*time.Second))
		b.NoteUnknown("X2", "S003", t0)
		if err := b.FlushUnknown(ctx); err != nil {
			t.Fatal(err)
		}
		got, err := a.UnknownSKUs(ctx, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := []catalogue.UnknownSKU{
			{SKU: "X1", Lines: 3, Store: "S002", FirstSeen: t0, LastSeen: t0.Add(time.Minute)},
			{SKU: "X2", Lines: 1, Store: "S003", FirstSeen: t0, LastSeen: t0},
		}
		if !slices.Equal(got, want) {
			t.Fatalf("got %+v\nwant %+v", got, want)
		}
		if _, err := a.PutProducts(ctx, []catalogue.Product{{SKU: "X1", Name: "Now known"}}); err != nil {
			t.Fatal(err)
		}
		if got, _ := a.UnknownSKUs(ctx, 0); len(got) != 1 || got[0].SKU != "X2" {
			t.Fatalf("after adding X1: %+v", got)
		}
	})
}
