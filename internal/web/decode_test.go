package web

import (
	"errors"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/problem"
)

// FuzzDecodeEnrolBody checks that any request body either decodes or is
// refused with a 4xx problem, never a panic or a 500.
func FuzzDecodeEnrolBody(f *testing.F) {
	for _, s := range []string{`{"phone":"07400123456","consent":{"sms":true}}`, `{"phone":1}`, `{`, `[]`, `{"attributes":{"a":1}}`, ``} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		r := httptest.NewRequest("POST", "/v1/members", strings.NewReader(body))
		var b enrolBody
		err := decodeJSON(httptest.NewRecorder(), r, &b)
		if err == nil {
			return
		}
		var p *problem.Error
		if !errors.As(err, &p) {
			t.Fatalf("not a problem: %v", err)
		}
		if s := statusOf(p.Kind); s < 400 || s >= 500 {
			t.Fatalf("status %d for %q", s, body)
		}
	})
}

// FuzzDecodeCheckout checks the till's request path: any body either
// decodes and validates, or is refused with a 4xx problem naming what is
// wrong; never a panic or a 500. A body that validates is matched against
// a campaign, and the answer must add up.
func FuzzDecodeCheckout(f *testing.F) {
	for _, s := range []string{
		`{"store":"S1","member":"96385074","currency":"GBP","items":[{"line":1,"sku":"A","quantity":2,"unit_price":250}]}`,
		`{"store":"S1","currency":"GBP","transaction_id":"T1","redeem_points":100,"items":[{"line":1,"sku":"A","categories":["c"],"quantity":1,"unit_price":0}]}`,
		`{"items":[{"line":-1}]}`, `{"items":[{"quantity":1e99}]}`, `{"store":"\u0000"}`, `{`, `[]`, ``,
	} {
		f.Add(s, true)
	}
	comp, err := engine.Compile(engine.Campaign{ID: "c", Open: true, Start: time.Unix(0, 0), End: time.Unix(1<<40, 0),
		Benefits: []engine.Benefit{{ID: "c.1", Kind: engine.PercentOff, Percent: 33}, {ID: "c.2", Kind: engine.AmountOff, Amount: 199}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string, commit bool) {
		r := httptest.NewRequest("POST", "/v1/checkout/evaluate", strings.NewReader(body))
		var req checkout.Request
		err := decodeJSON(httptest.NewRecorder(), r, &req)
		if err == nil {
			err = req.Validate("GBP", commit)
		}
		if err != nil {
			var p *problem.Error
			if !errors.As(err, &p) {
				t.Fatalf("not a problem: %v", err)
			}
			if s := statusOf(p.Kind); s < 400 || s >= 500 {
				t.Fatalf("status %d for %q", s, body)
			}
			return
		}
		b := engine.Basket{Store: req.Store, Time: time.Unix(1000, 0), Lines: make([]engine.Line, len(req.Items))}
		var gross int64
		for i, it := range req.Items {
			b.Lines[i] = engine.Line{Line: it.Line, SKU: it.SKU, Categories: it.Categories, Quantity: it.Quantity, UnitPrice: it.UnitPrice}
			gross += int64(it.Quantity) * it.UnitPrice
		}
		res := engine.Evaluate(b, []engine.Candidate{{Campaign: comp, BudgetLeft: -1}}, engine.Options{BaseEarn: 1})
		var sum int64
		for i, l := range res.Lines {
			if l.Discount < 0 || l.Discount > int64(req.Items[i].Quantity)*req.Items[i].UnitPrice {
				t.Fatalf("line %d discount %d out of range", l.Line, l.Discount)
			}
			sum += l.Discount
		}
		if sum != res.TotalDiscount || res.TotalDiscount > gross {
			t.Fatalf("lines sum to %d, total %d, gross %d", sum, res.TotalDiscount, gross)
		}
	})
}

// checkoutBodies are bodies of every shape the fast basket decoder meets:
// tills' usual baskets, which it must take, and the ones it must hand to
// encoding/json (escapes, nulls, case, duplicates, decimals, syntax).
var checkoutBodies = []struct {
	body string
	fast bool // checkout.DecodeRequest takes it
}{
	{`{"store":"S1","member":"96385074","currency":"GBP","items":[{"line":1,"sku":"A","quantity":2,"unit_price":250}]}`, true},
	{` { "store" : "S1" , "currency":"GBP", "transaction_id":"T1","redeem_points":100,"order_id":"O-9","terminal":"T",` +
		`"items":[{"line":1,"sku":"A","barcode":"5000112637922","categories":["c","d"],"quantity":1,"unit_price":0}] }` + "\n", true},
	{`{"store":"S1","currency":"GBP","items":[{"line":1,"sku":"CHEESE","quantity":"0.750","unit":"kg","unit_price":1899}]}`, true},
	{`{"store":"S1","currency":"GBP","items":[{"line":1,"sku":"CHEESE","quantity":0.75,"unit":"kg","unit_price":1899}]}`, true},
	{`{"store":"Café ☕","items":[],"member":""}`, true},
	{`{"items":[{"categories":[]}]}`, true},
	{`{}`, true},
	{`{"items":[{"line":-0,"unit_price":-5,"quantity":-1}]}`, true},
	{`{"items":[{"quantity":"2"}]}`, false},             // a string quantity without a unit: a type error
	{`{"items":[{"quantity":1.5}]}`, true},              // a decimal without a unit: Validate refuses it
	{`{"items":[{"quantity":1e99}]}`, false},            // out of range
	{`{"items":[{"line":1.0}]}`, false},                 // a decimal where a whole number goes
	{`{"items":[{"line":9223372036854775808}]}`, false}, // out of range
	{`{"redeem_points":01}`, false},                     // not JSON
	{`{"store":"S\u0031"}`, false},                      // an escape
	{`{"store":"a\"b"}`, false},                         // an escape
	{`{"Store":"S1"}`, false},                           // encoding/json matches keys without case
	{`{"store":"S1","store":"S2"}`, false},              // the last wins there
	{`{"member":null}`, false},                          // null
	{`{"items":null}`, false},                           // null
	{`{"items":[{"categories":null}]}`, false},          // null
	{`{"stores":"S1"}`, false},                          // unknown field: refused by the fallback
	{`{"items":[{"sku":"A","colour":"red"}]}`, false},   // unknown field in a line
	{"{\"store\":\"a\x00b\"}", false},                   // a control character
	{"{\"store\":\"\xff\"}", false},                     // not UTF-8
	{"{\"store\":\"\xed\xa0\x80\"}", false},             // a surrogate
	{`{"store":"S1"} {}`, false},                        // a second value
	{`{"store":"S1",}`, false},                          // not JSON
	{`{"items":[{"line":1},]}`, false},                  // not JSON
	{`[]`, false}, {``, false}, {`{`, false}, {`{"store"}`, false}, {`{"items":[{"line":-}]}`, false},
}

// TestDecodeRequest_TakesTheTillsShapeAndLeavesTheRest pins which bodies the
// fast decoder takes, and that each answer equals encoding/json's.
func TestDecodeRequest_TakesTheTillsShapeAndLeavesTheRest(t *testing.T) {
	for _, c := range checkoutBodies {
		if _, ok := checkout.DecodeRequest([]byte(c.body)); ok != c.fast {
			t.Errorf("DecodeRequest(%q) took it: %v, want %v", c.body, ok, c.fast)
		}
		checkFastDecode(t, c.body)
	}
}

// FuzzDecodeCheckoutFast holds checkout.DecodeRequest to decodeJSON: a body
// it takes must decode there without error to an equal Request.
func FuzzDecodeCheckoutFast(f *testing.F) {
	for _, c := range checkoutBodies {
		f.Add(c.body)
	}
	f.Fuzz(checkFastDecode)
}

func checkFastDecode(t *testing.T, body string) {
	fast, ok := checkout.DecodeRequest([]byte(body))
	if !ok {
		return
	}
	var want checkout.Request
	err := decodeJSON(httptest.NewRecorder(), httptest.NewRequest("POST", "/v1/checkout/evaluate", strings.NewReader(body)), &want)
	if err != nil {
		t.Fatalf("DecodeRequest took %q, which decodeJSON refuses: %v", body, err)
	}
	if !reflect.DeepEqual(fast, want) {
		t.Fatalf("DecodeRequest(%q) = %+v, decodeJSON gives %+v", body, fast, want)
	}
}
