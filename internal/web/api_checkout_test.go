package web_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

func decode[T any](t *testing.T, body []byte) T {
	t.Helper()
	var v T
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatalf("decode %s: %v", body, err)
	}
	return v
}

// TestCampaignToTill runs the whole story over HTTP: a manager writes,
// previews, simulates and launches a campaign; a till evaluates, commits,
// returns and voids; the ledger shows the points.
func TestCampaignToTill(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		st, body, _ := e.do("POST", "/v1/members", auth.RoleAdmin, map[string]any{"phone": "07700 900123", "first_name": "Ann", "consent": map[string]any{"sms": true}})
		if st != http.StatusCreated {
			t.Fatalf("enrol: %d %s", st, body)
		}
		m := decodeMember(t, body)

		spec := map[string]any{
			"name": "Coffee week", "start": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "end": "2099-01-01",
			"audience": map[string]any{"kind": "all"}, "message": "{{.FirstName}}, 20% off coffee this week",
			"benefits": []map[string]any{{"kind": "percent_off", "percent": 20, "scope": map[string]any{"categories": []string{"coffee"}}}},
			"limits":   map[string]any{"per_member": 1},
		}
		if st, body, _ := e.do("POST", "/v1/campaigns", auth.RoleReporting, spec); st != http.StatusForbidden {
			t.Fatalf("reporting key created a campaign: %d %s", st, body)
		}
		bad := map[string]any{"name": "Bad", "start": "2026-01-01", "end": "2025-01-01", "audience": map[string]any{"kind": "all"},
			"benefits": []map[string]any{{"kind": "percent_off", "percent": 20}}}
		st, body, _ = e.do("POST", "/v1/campaigns", auth.RoleManager, bad)
		if code, field := errorOf(t, body); st != http.StatusUnprocessableEntity || field != "end" {
			t.Fatalf("bad campaign: %d %s %s", st, code, field)
		}
		st, body, _ = e.do("POST", "/v1/campaigns", auth.RoleManager, spec)
		if st != http.StatusCreated {
			t.Fatalf("create: %d %s", st, body)
		}
		c := decode[struct {
			ID, Status string
			Version    int64
		}](t, body)
		if c.Status != "draft" {
			t.Fatalf("status %s", c.Status)
		}
		st, body, _ = e.do("GET", "/v1/campaigns/"+c.ID+"/preview", auth.RoleReporting, nil)
		if pv := decode[struct{ Count int }](t, body); st != 200 || pv.Count != 1 {
			t.Fatalf("preview: %d %s", st, body)
		}
		if st, body, _ := e.do("POST", "/v1/campaigns/"+c.ID+"/simulate?days=7", auth.RoleManager, nil); st != 200 {
			t.Fatalf("simulate: %d %s", st, body)
		}
		st, body, _ = e.do("POST", "/v1/campaigns/"+c.ID+"/launch", auth.RoleManager, nil)
		if l := decode[struct{ Announced int }](t, body); st != 200 || l.Announced != 1 {
			t.Fatalf("launch: %d %s", st, body)
		}

		basket := map[string]any{"store": "S001", "terminal": "T1", "member": m.Code, "currency": "GBP",
			"items": []map[string]any{{"line": 1, "sku": "LATTE", "categories": []string{"coffee"}, "quantity": 2, "unit_price": 325},
				{"line": 2, "sku": "BUN", "quantity": 1, "unit_price": 150}}}
		st, body, _ = e.do("POST", "/v1/checkout/evaluate?explain=true", auth.RolePOS, basket)
		ev := decode[checkout.Response](t, body)
		if st != 200 || ev.TotalDiscount != 130 || ev.Member == nil || ev.Member.Code != m.Code || len(ev.ReceiptText) == 0 {
			t.Fatalf("evaluate: %d %s", st, body)
		}
		other := map[string]any{}
		for k, v := range basket {
			other[k] = v
		}
		other["store"] = "S002"
		if st, body, _ := e.do("POST", "/v1/checkout/evaluate", auth.RolePOS, other); st != http.StatusForbidden {
			t.Fatalf("till of S001 evaluated for S002: %d %s", st, body)
		}
		basket["transaction_id"] = "R1-0001"
		st, body, _ = e.do("POST", "/v1/checkout/commit", auth.RolePOS, basket)
		cm := decode[checkout.Response](t, body)
		if st != 200 || cm.TotalDiscount != 130 || cm.PointsEarned != 6 {
			t.Fatalf("commit: %d %s", st, body)
		}
		st, again, _ := e.do("POST", "/v1/checkout/commit", auth.RolePOS, basket)
		if st != 200 || !bytes.Equal(again, body) {
			t.Fatalf("repeat commit: %d\n%s\nwant\n%s", st, again, body)
		}
		basket["items"] = []map[string]any{{"line": 1, "sku": "LATTE", "quantity": 1, "unit_price": 325}}
		if st, body, _ := e.do("POST", "/v1/checkout/commit", auth.RolePOS, basket); st != http.StatusConflict {
			t.Fatalf("same id, other basket: %d %s", st, body)
		}
		st, body, _ = e.do("POST", "/v1/checkout/return", auth.RolePOS, map[string]any{"transaction_id": "R1-0001", "return_id": "RET-1",
			"items": []map[string]any{{"line": 1, "quantity": 1}}})
		if r := decode[checkout.ReturnResponse](t, body); st != 200 || r.Refund != 325-65 {
			t.Fatalf("return: %d %s", st, body)
		}
		st, body, _ = e.do("GET", "/v1/members/"+m.ID+"/ledger", auth.RoleReporting, nil)
		led := decode[struct {
			Balance struct{ Available, Pending int64 }
			Entries []struct{ Kind string }
		}](t, body)
		if st != 200 || len(led.Entries) != 2 || led.Balance.Available != 6-2 { // line 1 holds 5 of the 6 points; one of its two units is back
			t.Fatalf("ledger: %d %s", st, body)
		}
		if st, body, _ := e.do("POST", "/v1/checkout/void", auth.RolePOS, map[string]any{"transaction_id": "R1-0001"}); st != 200 {
			t.Fatalf("void: %d %s", st, body)
		}
		if st, body, _ := e.do("POST", "/v1/checkout/void", auth.RolePOS, map[string]any{"transaction_id": "nope"}); st != http.StatusNotFound {
			t.Fatalf("void of unknown: %d %s", st, body)
		}
		st, body, _ = e.do("POST", "/v1/members/"+m.ID+"/points", auth.RoleManager, map[string]any{"points": 50, "reason": "apology"})
		if st != http.StatusCreated {
			t.Fatalf("adjust: %d %s", st, body)
		}
		if st, _, _ := e.do("POST", "/v1/members/"+m.ID+"/points", auth.RolePOS, map[string]any{"points": 50, "reason": "x"}); st != http.StatusForbidden {
			t.Fatalf("till adjusted points: %d", st)
		}
		st, body, _ = e.do("POST", "/v1/campaigns/"+c.ID+"/pause", auth.RoleManager, nil)
		if p := decode[struct{ Status string }](t, body); st != 200 || p.Status != "paused" {
			t.Fatalf("pause: %d %s", st, body)
		}
	})
}

func TestCheckoutRejectsBadBodiesWithTheField(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		for _, c := range []struct {
			name, body string
			status     int
			field      string
		}{
			{"not json", `{"store":`, 400, ""},
			{"unknown field", `{"store":"S001","currency":"GBP","items":[],"discount":5}`, 400, "discount"},
			{"string quantity", `{"currency":"GBP","items":[{"line":1,"sku":"A","quantity":"2","unit_price":1}]}`, 400, "items.quantity"},
			{"float price", `{"currency":"GBP","items":[{"line":1,"sku":"A","quantity":1,"unit_price":1.5}]}`, 400, "items.unit_price"},
			{"no items", `{"currency":"GBP","items":[]}`, 422, "items"},
			{"bad line", `{"currency":"GBP","items":[{"line":1,"sku":"A","quantity":1,"unit_price":1},{"line":2,"sku":"","quantity":1,"unit_price":1}]}`, 422, "items[1].sku"},
		} {
			t.Run(c.name, func(t *testing.T) {
				st, body, _ := e.do("POST", "/v1/checkout/evaluate", auth.RolePOS, c.body)
				_, field := errorOf(t, body)
				if st != c.status || field != c.field {
					t.Fatalf("%d field %q (%s), want %d %q", st, field, body, c.status, c.field)
				}
			})
		}
	})
}

func TestCardPageVisitsAreRecorded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		m := e.enrol("07700 900123")
		for range 2 {
			res, err := http.Get(e.url + strings.TrimPrefix(m.CardURL, "http://perk.test"))
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
		}
		var n int
		db.R.QueryRow(`SELECT COUNT(*) FROM card_visits WHERE member_id = $1`, m.ID).Scan(&n)
		if n != 2 {
			t.Fatalf("%d visits recorded, want 2", n)
		}
	})
}

func TestOverviewAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		if st, body, _ := e.do("POST", "/v1/members", auth.RoleAdmin, map[string]any{"phone": "07700 900123", "consent": map[string]any{"sms": true}}); st != 201 {
			t.Fatalf("enrol: %d %s", st, body)
		}
		st, body, _ := e.do("GET", "/v1/reports/overview", auth.RoleReporting, nil)
		o := decode[struct {
			Members  int64 `json:"members"`
			OptedIn  int64 `json:"opted_in"`
			NewByDay []any `json:"new_by_day"`
		}](t, body)
		if st != 200 || o.Members != 1 || o.OptedIn != 1 || len(o.NewByDay) != 14 {
			t.Fatalf("overview: %d %s", st, body)
		}
		if st, _, _ := e.do("GET", "/v1/reports/overview", auth.RolePOS, nil); st != 403 {
			t.Fatalf("a till read the overview: %d", st)
		}
	})
}
