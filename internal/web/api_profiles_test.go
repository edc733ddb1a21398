package web_test

import (
	"net/http"
	"testing"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestProfileAPI_RefreshThenReadAMembersProfile: a member with no purchase
// has the empty profile; after a basket and POST /v1/profiles/refresh the
// profile shows the basket's figures and a segment. Roles as documented.
func TestProfileAPI_RefreshThenReadAMembersProfile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		m := e.enrol("+447700900123")
		type prof struct {
			Frequency  int64  `json:"frequency"`
			Monetary   int64  `json:"monetary"`
			Segment    string `json:"segment"`
			Categories []struct {
				Key   string  `json:"key"`
				Share float64 `json:"share"`
			} `json:"categories"`
		}
		get := func() prof {
			t.Helper()
			st, body, _ := e.do("GET", "/v1/members/"+m.Code+"/profile", auth.RoleReporting, nil)
			if st != http.StatusOK {
				t.Fatalf("get profile: %d %s", st, body)
			}
			var p prof
			jsonUnmarshal(t, body, &p)
			return p
		}
		if p := get(); p.Segment != "" || p.Frequency != 0 {
			t.Errorf("before any purchase: %+v, want the empty profile", p)
		}
		st, body, _ := e.do("POST", "/v1/checkout/commit", auth.RolePOS, map[string]any{"transaction_id": "T-1", "member": m.Code,
			"currency": "GBP", "items": []map[string]any{{"line": 1, "sku": "TEA", "quantity": 2, "unit_price": 300, "categories": []string{"drinks"}}}})
		if st != http.StatusOK {
			t.Fatalf("commit: %d %s", st, body)
		}
		for _, tt := range []struct {
			role auth.Role
			want int
		}{{auth.RolePOS, http.StatusForbidden}, {auth.RoleReporting, http.StatusForbidden}, {auth.RoleManager, http.StatusOK}} {
			if st, body, _ := e.do("POST", "/v1/profiles/refresh", tt.role, nil); st != tt.want {
				t.Errorf("refresh as %s: %d %s, want %d", tt.role, st, body, tt.want)
			}
		}
		p := get()
		if p.Frequency != 1 || p.Monetary != 600 || p.Segment == "" || len(p.Categories) != 1 || p.Categories[0].Key != "drinks" {
			t.Errorf("after a basket and a refresh: %+v, want 1 basket of 600, a segment, all of it in drinks", p)
		}
		if st, _, _ := e.do("GET", "/v1/members/00000000/profile", auth.RoleReporting, nil); st != http.StatusNotFound {
			t.Errorf("profile of an unknown member: %d, want 404", st)
		}
	})
}
