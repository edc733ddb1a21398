package web_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// Issue 17: values without bounds took the till down. Each figure has a
// range (docs/api.md, "Ranges"); outside it the API answers 422 naming the
// field, and inside it nothing a member or a campaign can reach answers 500.

func TestPointsAdjust_OutsideItsRangeIs422AndTheMemberStaysUsable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		m := e.enrol("07700 900123")
		tests := []struct {
			name   string
			points string // raw JSON, so values past int64 can be sent
			status int
			code   string
		}{
			{"MaxInt64 (issue 17)", "9223372036854775807", 422, "points_invalid"},
			{"MaxInt64 again, which used to overflow the balance", "9223372036854775807", 422, "points_invalid"},
			{"MinInt64, whose negation overflows", "-9223372036854775808", 422, "points_invalid"},
			{"one over the most one adjustment moves", "1000000001", 422, "points_invalid"},
			{"one under the least", "-1000000001", 422, "points_invalid"},
			{"past int64 does not parse", "9223372036854775808", 400, "bad_request"},
			{"the most one adjustment moves", "1000000000", 201, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				st, body, _ := e.do("POST", "/v1/members/"+m.ID+"/points", auth.RoleManager,
					`{"points": `+tt.points+`, "reason": "test"}`)
				if st != tt.status {
					t.Fatalf("adjust %s: %d %s, want %d", tt.points, st, body, tt.status)
				}
				if tt.code != "" {
					if code, field := errorOf(t, body); code != tt.code || field != "points" {
						t.Fatalf("adjust %s: %s on %q, want %s on points", tt.points, code, field, tt.code)
					}
				}
			})
		}
		st, body, _ := e.do("GET", "/v1/members/"+m.ID+"/ledger", auth.RoleReporting, nil)
		led := decode[struct{ Balance struct{ Available int64 } }](t, body)
		if st != 200 || led.Balance.Available != ledger.MaxPoints {
			t.Fatalf("ledger: %d %s", st, body)
		}
		basket := map[string]any{"store": "S001", "member": m.Code, "currency": "GBP", "transaction_id": "R1-1",
			"items": []map[string]any{{"line": 1, "sku": "A", "quantity": 1, "unit_price": 1000}}}
		if st, body, _ := e.do("POST", "/v1/checkout/evaluate", auth.RolePOS, basket); st != 200 {
			t.Fatalf("evaluate: %d %s", st, body)
		}
		if st, body, _ := e.do("POST", "/v1/checkout/commit", auth.RolePOS, basket); st != 200 {
			t.Fatalf("commit: %d %s", st, body)
		}
	})
}

func TestCampaignFiguresOutsideTheirRangesAre422(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		tests := []struct {
			name    string
			benefit map[string]any
			limits  map[string]any
			field   string
		}{
			{"points per unit of MaxInt64 (issue 17)", map[string]any{"kind": "points_per_unit", "points": int64(9223372036854775807)}, nil,
				"benefits[0].points"},
			{"a points multiplier of MaxInt64 (issue 17)", map[string]any{"kind": "points_multiplier", "multiplier": int64(9223372036854775807)}, nil,
				"benefits[0].multiplier"},
			{"a points bonus over a basket's most", map[string]any{"kind": "points_bonus", "points": engine.MaxPoints + 1}, nil,
				"benefits[0].points"},
			{"an amount off of MaxInt64", map[string]any{"kind": "amount_off", "amount": int64(9223372036854775807)}, nil,
				"benefits[0].amount"},
			{"a budget of MaxInt64", map[string]any{"kind": "percent_off", "percent": 10},
				map[string]any{"budget": int64(9223372036854775807)}, "limits.budget"},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				spec := map[string]any{"name": fmt.Sprintf("Too much %d", i), "start": "2026-01-01", "end": "2099-01-01",
					"audience": map[string]any{"kind": "all"}, "benefits": []map[string]any{tt.benefit}}
				if tt.limits != nil {
					spec["limits"] = tt.limits
				}
				st, body, _ := e.do("POST", "/v1/campaigns", auth.RoleManager, spec)
				if _, field := errorOf(t, body); st != http.StatusUnprocessableEntity || field != tt.field {
					t.Fatalf("create: %d %s, want 422 on %s", st, body, tt.field)
				}
			})
		}
	})
}

func TestCheckout_CampaignsAtTheirLimitsOnTheLargestBasketEarnAtMostMaxPoints(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		m := e.enrol("07700 900123")
		for _, b := range []map[string]any{
			{"kind": "points_per_unit", "points": engine.MaxPointsPerUnit},
			{"kind": "points_multiplier", "multiplier": engine.MaxMultiplier},
			{"kind": "points_bonus", "points": engine.MaxPoints},
		} {
			spec := map[string]any{"name": "Most " + b["kind"].(string), "start": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339),
				"end": "2099-01-01", "audience": map[string]any{"kind": "all"}, "benefits": []map[string]any{b}}
			st, body, _ := e.do("POST", "/v1/campaigns", auth.RoleManager, spec)
			c := decode[struct{ ID string }](t, body)
			if st != http.StatusCreated {
				t.Fatalf("create: %d %s", st, body)
			}
			if st, body, _ := e.do("POST", "/v1/campaigns/"+c.ID+"/launch", auth.RoleManager, nil); st != 200 {
				t.Fatalf("launch: %d %s", st, body)
			}
		}
		items := func(n int) []map[string]any {
			return []map[string]any{{"line": 1, "sku": "A", "quantity": n, "unit_price": checkout.MaxUnitPrice}}
		}
		basket := map[string]any{"store": "S001", "member": m.Code, "currency": "GBP", "transaction_id": "R1-1", "items": items(10)}
		for _, call := range []string{"evaluate", "commit"} {
			st, body, _ := e.do("POST", "/v1/checkout/"+call, auth.RolePOS, basket)
			r := decode[checkout.Response](t, body)
			if st != 200 || r.PointsEarned != engine.MaxPoints || r.Subtotal != checkout.MaxBasket {
				t.Fatalf("%s of the largest basket: %d %s", call, st, body)
			}
		}
		st, body, _ := e.do("GET", "/v1/members/"+m.ID+"/ledger", auth.RoleReporting, nil)
		if led := decode[struct{ Balance struct{ Available int64 } }](t, body); st != 200 || led.Balance.Available != engine.MaxPoints {
			t.Fatalf("ledger: %d %s", st, body)
		}

		for _, tt := range []struct {
			name   string
			edit   func(map[string]any)
			status int
			code   string
			field  string
		}{
			{"a basket worth one minor unit more than the most", func(b map[string]any) {
				b["items"] = append(items(10), map[string]any{"line": 2, "sku": "B", "quantity": 1, "unit_price": 1})
			}, 422, "basket_too_large", "items"},
			{"eleven units at the highest price", func(b map[string]any) { b["items"] = items(11) }, 422, "basket_too_large", "items"},
			{"a quantity of MaxInt64", func(b map[string]any) {
				b["items"] = []map[string]any{{"line": 1, "sku": "A", "quantity": int64(9223372036854775807), "unit_price": 1}}
			}, 422, "quantity_invalid", "items[0].quantity"},
			{"a unit price of MaxInt64", func(b map[string]any) {
				b["items"] = []map[string]any{{"line": 1, "sku": "A", "quantity": 1, "unit_price": int64(9223372036854775807)}}
			}, 422, "price_invalid", "items[0].unit_price"},
			{"paying with more points than anyone may hold", func(b map[string]any) {
				b["transaction_id"], b["redeem_points"] = "R1-2", ledger.MaxBalance+1
			}, 422, "points_invalid", "redeem_points"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				b := map[string]any{}
				for k, v := range basket {
					b[k] = v
				}
				tt.edit(b)
				st, body, _ := e.do("POST", "/v1/checkout/commit", auth.RolePOS, b)
				if code, field := errorOf(t, body); st != tt.status || code != tt.code || field != tt.field {
					t.Fatalf("commit: %d %s, want %d %s on %s", st, body, tt.status, tt.code, tt.field)
				}
			})
		}
	})
}
