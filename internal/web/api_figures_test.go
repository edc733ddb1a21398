package web_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// Over HTTP, after a partial return of a sale paid partly with points and a
// void: the till is given back money as money and points as points, and
// GET /v1/campaigns and the campaign report show the same figures
// (docs/figures.md).
func TestAPI_ReturnsAndVoidsAgreeAcrossTheCampaignListAndTheReport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		st, body, _ := e.do("POST", "/v1/members", auth.RoleAdmin, map[string]any{"phone": "07700 900123", "first_name": "Ann", "consent": map[string]any{"sms": true}})
		if st != http.StatusCreated {
			t.Fatalf("enrol: %d %s", st, body)
		}
		m := decodeMember(t, body)
		if _, err := e.ledger.Adjust(context.Background(), m.ID, 1000, "welcome", "ops@test"); err != nil {
			t.Fatal(err)
		}
		now := time.Now().UTC()
		st, body, _ = e.do("POST", "/v1/campaigns", auth.RoleManager, map[string]any{"name": "Bread",
			"start": now.Add(-time.Hour).Format(time.RFC3339), "end": now.Add(24 * time.Hour).Format(time.RFC3339),
			"audience": map[string]any{"kind": "all"}, "limits": map[string]any{"budget": 100000},
			"benefits": []map[string]any{{"kind": "percent_off", "percent": 20, "scope": map[string]any{"skus": []string{"A"}}},
				{"kind": "points_bonus", "points": 50}}})
		c := decode[struct{ ID string }](t, body)
		if st != http.StatusCreated {
			t.Fatalf("create: %d %s", st, body)
		}
		if st, body, _ := e.do("POST", "/v1/campaigns/"+c.ID+"/launch", auth.RoleManager, nil); st != 200 {
			t.Fatalf("launch: %d %s", st, body)
		}
		commit := func(txn string, redeem int64) {
			t.Helper()
			st, body, _ := e.do("POST", "/v1/checkout/commit", auth.RolePOS, map[string]any{"store": "S001", "member": m.Code, "currency": "GBP",
				"transaction_id": txn, "redeem_points": redeem, "items": []map[string]any{{"line": 1, "sku": "A", "quantity": 2, "unit_price": 500},
					{"line": 2, "sku": "B", "quantity": 1, "unit_price": 900}}})
			if cm := decode[checkout.Response](t, body); st != 200 || cm.Total != 1700 || cm.AmountDue != 1700-redeem {
				t.Fatalf("commit %s: %d %s", txn, st, body)
			}
		}
		// T1: 1000 of A less 200, 900 of B; 300 paid with points, 1400 in money.
		commit("T1", 300)
		commit("T2", 0)
		for _, tc := range []struct {
			name, path                    string
			body                          map[string]any
			value, refund, pointsRefunded int64
		}{
			// One A: 500 less its 100 of the discount; 400 of the 1700 paid 1400 + 300.
			{"a return of one A of T1", "/v1/checkout/return", map[string]any{"transaction_id": "T1", "return_id": "R1",
				"items": []map[string]any{{"line": 1, "quantity": 1}}}, 400, 1400 * 400 / 1700, 300 * 400 / 1700},
			{"a void of T2, paid in money", "/v1/checkout/void", map[string]any{"transaction_id": "T2"}, 1700, 1700, 0},
		} {
			st, body, _ := e.do("POST", tc.path, auth.RolePOS, tc.body)
			r := decode[checkout.ReturnResponse](t, body)
			if st != 200 || r.Value != tc.value || r.Refund != tc.refund || r.PointsRefunded != tc.pointsRefunded {
				t.Errorf("%s: %d %s; want value %d, refund %d, points refunded %d", tc.name, st, body, tc.value, tc.refund, tc.pointsRefunded)
			}
		}

		// T1 stands with 200 - 100 off and its 50 points; T2 was voided.
		type figures struct{ Redemptions, DiscountGiven, PointsGiven int64 }
		want := figures{Redemptions: 1, DiscountGiven: 100, PointsGiven: 50}
		st, body, _ = e.do("GET", "/v1/campaigns", auth.RoleReporting, nil)
		list := decode[struct {
			Campaigns []struct {
				ID            string
				Redemptions   int64 `json:"redemptions"`
				DiscountGiven int64 `json:"discount_given"`
				PointsGiven   int64 `json:"points_given"`
			}
		}](t, body)
		if st != 200 || len(list.Campaigns) != 1 {
			t.Fatalf("GET /v1/campaigns: %d %s", st, body)
		}
		if got := (figures{list.Campaigns[0].Redemptions, list.Campaigns[0].DiscountGiven, list.Campaigns[0].PointsGiven}); got != want {
			t.Errorf("GET /v1/campaigns: %+v, want %+v", got, want)
		}
		st, body, _ = e.do("GET", "/v1/campaigns/"+c.ID+"/report", auth.RoleReporting, nil)
		rep := decode[struct {
			Redemptions   int64 `json:"redemptions"`
			DiscountGiven int64 `json:"discount_given"`
			PointsGiven   int64 `json:"points_given"`
			Revenue       int64 `json:"revenue"`
		}](t, body)
		if got := (figures{rep.Redemptions, rep.DiscountGiven, rep.PointsGiven}); st != 200 || got != want || rep.Revenue != 1700-400 {
			t.Errorf("GET /v1/campaigns/{id}/report: %d %+v revenue %d, want %+v revenue %d", st, got, rep.Revenue, want, 1700-400)
		}
	})
}
