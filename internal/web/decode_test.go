package web

import (
	"errors"
	"net/http/httptest"
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
