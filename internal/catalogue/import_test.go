package catalogue_test

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/catalogue"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/tabular"
	"github.com/perk-platform/perk/internal/testenv"
)

const productsCSV = `sku,name,categories,barcodes,brand,unit,price,cost_price
5000001,Flat white,drinks/coffee,5012345000015|05012345000015,Perk,,3.20,1.10
CHEESE,Cheddar,dairy/cheese|deli,,Hill Farm,kg,18.99,
BAD1,Bad unit,,,,bushel,1.00,
BAD2,Bad price,,,,,1.999,
,No sku,,,,,1,
5000002,Croissant,bakery/pastries,5012345000022,,,1.85,
5000002,Croissant (renamed),bakery/pastries,5012345000022,,,1.85,
BAD3,Bad category,drinks//tea,,,,1,
`

func TestImportProducts_RowPreciseErrorsAndAnIdempotentReimport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newCatalogue(db, testenv.NewClock(t0))
		var errs []string
		opt := catalogue.ImportOptions{BatchSize: 2, OnError: func(e *tabular.RowError) error {
			errs = append(errs, e.Error())
			return nil
		}}
		st, err := c.ImportProducts(ctx, strings.NewReader(productsCSV), opt)
		if err != nil {
			t.Fatal(err)
		}
		if want := (catalogue.ImportStats{Rows: 8, Created: 3, Updated: 1, Rejected: 4}); st != want {
			t.Fatalf("stats %+v, want %+v", st, want)
		}
		wantErrs := []string{"row 4, column unit: \"bushel\" is not a unit (each, kg, g, lb, oz, l, ml, m)",
			"row 5, column price: \"1.999\" is not an amount (e.g. 3.20)", "row 6, column sku: is required",
			"row 9, column categories: \"drinks//tea\" is not a category path (segments separated by /, at most 100 characters)"}
		if !slices.Equal(errs, wantErrs) {
			t.Fatalf("errors\n%q\nwant\n%q", errs, wantErrs)
		}
		s := snap(t, c)
		p, _ := s.Barcode("05012345000015")
		if p == nil || p.Price != 320 || *p.CostPrice != 110 {
			t.Fatalf("flat white %+v", p)
		}
		if p, _ := s.Product("5000002"); p.Name != "Croissant (renamed)" {
			t.Fatalf("the later row of a SKU does not win: %q", p.Name)
		}
		if p, _ := s.Product("CHEESE"); p.Unit != catalogue.Kilogram || !slices.Equal(p.Categories, []string{"dairy/cheese", "deli"}) {
			t.Fatalf("cheese %+v", p)
		}
		version := s.Version
		errs = nil
		st, err = c.ImportProducts(ctx, strings.NewReader(productsCSV), opt)
		if err != nil {
			t.Fatal(err)
		}
		// The croissant's first row differs from what is stored, and its
		// second from its first.
		if want := (catalogue.ImportStats{Rows: 8, Updated: 2, Unchanged: 2, Rejected: 4}); st != want {
			t.Fatalf("again: stats %+v, want %+v", st, want)
		}
		if p, _ := snap(t, c).Product("5000002"); p.Name != "Croissant (renamed)" || snap(t, c).Version == version {
			t.Fatalf("again: %q", p.Name)
		}
	})
}

func TestImportStores(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := newCatalogue(db, testenv.NewClock(t0))
		file := "id;name;timezone;region;closed\nS001;Covent Garden;Europe/London;London;no\nS002;Old Town;Europe/London;;yes\nS003;Moon;Moon/Base;;\n"
		var errs []string
		st, err := c.ImportStores(ctx, strings.NewReader(file), catalogue.ImportOptions{OnError: func(e *tabular.RowError) error {
			errs = append(errs, e.Error())
			return nil
		}})
		if err != nil {
			t.Fatal(err)
		}
		if want := (catalogue.ImportStats{Rows: 3, Created: 2, Rejected: 1}); st != want || len(errs) != 1 || !strings.HasPrefix(errs[0], "row 4, column timezone:") {
			t.Fatalf("stats %+v %q", st, errs)
		}
		if s, _ := snap(t, c).Store("S002"); !s.Closed {
			t.Fatal("S002 not closed")
		}
		st, _ = c.ImportStores(ctx, strings.NewReader(file), catalogue.ImportOptions{})
		if want := (catalogue.ImportStats{Rows: 3, Unchanged: 2, Rejected: 1}); st != want {
			t.Fatalf("again: %+v", st)
		}
	})
}
