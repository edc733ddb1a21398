package checkout_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/catalogue"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	reportfigures "github.com/perk-platform/perk/internal/report/figures"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

func weighed(line int, sku string, q catalogue.Quantity, unit string, price int64) checkout.Item {
	return checkout.Item{Line: line, SKU: sku, Measure: q, Unit: unit, UnitPrice: price}
}

func TestItemJSON_QuantitiesAreReadExactly(t *testing.T) {
	tests := []struct {
		name, in string
		want     checkout.Item
		bad      bool
	}{
		{"whole number", `{"line":1,"sku":"A","quantity":2,"unit_price":5}`, checkout.Item{Line: 1, SKU: "A", Quantity: 2, UnitPrice: 5}, false},
		{"decimal string with its unit", `{"line":1,"sku":"C","quantity":"0.750","unit":"kg","unit_price":1899}`, weighed(1, "C", 750, "kg", 1899), false},
		{"decimal number, unit from the catalogue", `{"line":1,"sku":"C","quantity":0.75,"unit_price":1899}`, weighed(1, "C", 750, "", 1899), false},
		{"barcode instead of SKU", `{"line":1,"barcode":"501","quantity":1,"unit_price":5}`, checkout.Item{Line: 1, Barcode: "501", Quantity: 1, UnitPrice: 5}, false},
		{"a string without a unit", `{"line":1,"sku":"A","quantity":"2","unit_price":5}`, checkout.Item{}, true},
		{"four decimals", `{"line":1,"sku":"C","quantity":"0.7501","unit":"kg","unit_price":5}`, checkout.Item{}, true},
		{"an exponent", `{"line":1,"sku":"C","quantity":7.5e-1,"unit_price":5}`, checkout.Item{}, true},
		{"unknown field", `{"line":1,"sku":"A","quantity":1,"unit_price":5,"discount":1}`, checkout.Item{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got checkout.Item
			err := json.Unmarshal([]byte(tt.in), &got)
			if (err != nil) != tt.bad {
				t.Fatalf("error %v, want bad %v", err, tt.bad)
			}
			if !tt.bad && (got.Line != tt.want.Line || got.SKU != tt.want.SKU || got.Barcode != tt.want.Barcode || got.Quantity != tt.want.Quantity ||
				got.Measure != tt.want.Measure || got.Unit != tt.want.Unit || got.UnitPrice != tt.want.UnitPrice) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// A whole-unit line encodes as it did before weighed goods, so a commit
// retried across the upgrade still matches its stored hash.
func TestItemJSON_WholeUnitLinesEncodeAsBefore(t *testing.T) {
	for _, tt := range []struct {
		item checkout.Item
		want string
	}{
		{item(1, "A", 2, 5, "c"), `{"line":1,"sku":"A","categories":["c"],"quantity":2,"unit_price":5}`},
		{item(2, "B", 1, 0), `{"line":2,"sku":"B","quantity":1,"unit_price":0}`},
		{weighed(3, "C", 750, "kg", 1899), `{"line":3,"sku":"C","quantity":"0.750","unit":"kg","unit_price":1899}`},
	} {
		got, err := json.Marshal(tt.item)
		if err != nil || string(got) != tt.want {
			t.Errorf("Marshal = %s, %v; want %s", got, err, tt.want)
		}
	}
}

func TestWeighed_LineValueRoundedOnceAndDiscountedOnIt(t *testing.T) {
	tests := []struct {
		name                       string
		items                      []checkout.Item
		benefit                    engine.Benefit
		subtotal, discount, points int64
		err                        string
	}{
		{"0.750 kg at 18.99 is 14.24", []checkout.Item{weighed(1, "CHEESE", 750, "kg", 1899)}, categoryOff(10, "dairy"), 1424, 142, 12, ""},
		{"0.500 kg at 18.99 rounds 949.5 up", []checkout.Item{weighed(1, "CHEESE", 500, "", 1899)}, categoryOff(10, "dairy"), 950, 95, 8, ""},
		{"a whole number of kilograms", []checkout.Item{{Line: 1, SKU: "CHEESE", Quantity: 2, UnitPrice: 1000}}, categoryOff(10, "dairy"), 2000, 200, 18, ""},
		{"a weighed line counts as one item for buy one get one",
			[]checkout.Item{weighed(1, "CHEESE", 750, "", 1899), weighed(2, "BRIE", 250, "", 2400)},
			engine.Benefit{Kind: engine.BuyXGetY, Buy: 1, Get: 1, Scope: engine.Scope{Categories: []string{"dairy/cheese"}}}, 2024, 600, 14, ""},
		{"decimals on a product sold each", []checkout.Item{weighed(1, "5000002", 1500, "", 200)}, categoryOff(10, "dairy"), 0, 0, 0, "quantity_invalid"},
		{"a unit that is none", []checkout.Item{weighed(1, "CHEESE", 1500, "bushel", 200)}, categoryOff(10, "dairy"), 0, 0, 0, "unit_invalid"},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, defaultPolicy)
		withCatalogue(t, w)
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				// One campaign at a time: each case pauses its own.
				c := w.launch(t, campaign.Spec{Name: tt.name, Benefits: []engine.Benefit{tt.benefit}})
				defer w.campaigns.Pause(context.Background(), c.ID)
				m := w.enrol(t, phoneN(i))
				r, err := w.checkout.Commit(context.Background(), basket(string(m.Code), fmt.Sprint("T-", i), tt.items...))
				if tt.err != "" {
					wantProblem(t, err, tt.err)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if r.Subtotal != tt.subtotal || r.TotalDiscount != tt.discount || r.PointsEarned != tt.points {
					t.Fatalf("subtotal %d discount %d points %d; want %d %d %d", r.Subtotal, r.TotalDiscount, r.PointsEarned,
						tt.subtotal, tt.discount, tt.points)
				}
			})
		}
	})
}

func TestWeighed_PartOfALineComesBack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, defaultPolicy)
		withCatalogue(t, w)
		ctx := context.Background()
		w.launch(t, campaign.Spec{Name: "Cheese 10", Benefits: []engine.Benefit{categoryOff(10, "dairy")}})
		m := w.enrol(t, phoneN(1))
		// 14.24 - 1.42 = 12.82 paid, 12 points; the bun 1.00.
		if _, err := w.checkout.Commit(ctx, basket(string(m.Code), "T-1", weighed(1, "CHEESE", 750, "kg", 1899), item(2, "5000002", 1, 100))); err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			name                   string
			items                  []checkout.ReturnItem
			gross, discount, value int64
			err                    string
		}{
			{"a third of the cheese", []checkout.ReturnItem{{Line: 1, Measure: 250}}, 474, 47, 427, ""},
			{"more than is left", []checkout.ReturnItem{{Line: 1, Measure: 501}}, 0, 0, 0, "return_exceeds_purchase"},
			{"decimals of a line sold each", []checkout.ReturnItem{{Line: 2, Measure: 500}}, 0, 0, 0, "quantity_invalid"},
			{"the rest of it", []checkout.ReturnItem{{Line: 1, Measure: 500}}, 950, 95, 855, ""},
		}
		sales := func() int64 { // the reports' figure, net of returns
			var v int64
			if err := db.R.QueryRow(`SELECT SUM(` + reportfigures.LineNet + `) FROM basket_lines l`).Scan(&v); err != nil {
				t.Fatal(err)
			}
			return v
		}
		for i, st := range steps {
			r, err := w.checkout.Return(ctx, &checkout.ReturnRequest{Store: "S1", TransactionID: "T-1", ReturnID: "R" + string(rune('1'+i)), Items: st.items})
			if st.err != "" {
				wantProblem(t, err, st.err)
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if len(r.Lines) != 1 || r.Lines[0].Gross != st.gross || r.Lines[0].Discount != st.discount || r.Value != st.value || r.Lines[0].Unit != "kg" {
				t.Fatalf("%s: %+v", st.name, r)
			}
			if i == 0 && sales() != 1282+100-427 {
				t.Fatalf("sales after a third of the cheese came back: %d, want %d", sales(), 1282+100-427)
			}
		}
		// The whole cheese is back: 12.82 of the 13.82 paid, so the points
		// earned on it are gone: all 13, spread by net value (12 and 0,
		// and the leftover point to the larger line).
		var returned int
		db.R.QueryRow(`SELECT returned_qty FROM basket_lines WHERE line = 1`).Scan(&returned)
		if b := balance(t, w, m.ID); returned != 1 || b.Available != 0 {
			t.Fatalf("line returned %d, balance %+v", returned, b)
		}
		v, err := w.checkout.Void(ctx, voidReq("T-1"))
		if err != nil || len(v.Lines) != 1 || v.Lines[0].Line != 2 {
			t.Fatalf("void after the cheese came back: %+v %v", v, err)
		}
	})
}
