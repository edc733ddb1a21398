package web_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestAPI_CRMGivesPersonalOffersTheTillsRedeem: a CRM gives an offer to the
// members it names by CRM id; each named member is announced it once and
// redeems it once at the till, members not named never see it, the same
// offer given again lands in the same campaign without a second
// announcement, an unknown CRM id is listed without losing the others, and
// a bad offer is refused naming the offer's own field.
func TestAPI_CRMGivesPersonalOffersTheTillsRedeem(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		codes := map[string]string{}
		for i := 1; i <= 4; i++ {
			st, body, _ := e.do("POST", "/v1/members", auth.RoleAdmin, map[string]any{"phone": fmt.Sprintf("07700 90012%d", i),
				"first_name": fmt.Sprintf("M%d", i), "external_id": fmt.Sprintf("CRM-%d", i), "consent": map[string]any{"sms": true}})
			if st != http.StatusCreated {
				t.Fatalf("enrol: %d %s", st, body)
			}
			codes[fmt.Sprintf("CRM-%d", i)] = decodeMember(t, body).Code
		}
		offer := map[string]any{"description": "£2 off your coffee", "start": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339),
			"end": "2099-01-01", "message": "{{.FirstName}}, £2 off your coffee: {{.CardURL}}",
			"benefit": map[string]any{"kind": "amount_off", "amount": 200, "scope": map[string]any{"categories": []string{"coffee"}}}}
		type given struct {
			Campaign                  struct{ ID, Status string }
			Added, Already, Announced int
			Errors                    []struct {
				Index        int
				Member, Code string
			}
		}
		st, body, _ := e.do("POST", "/v1/crm/offers", auth.RoleManager, map[string]any{"offer": offer,
			"members": []string{"ext:CRM-1", "ext:CRM-2", "ext:CRM-9"}})
		g := decode[given](t, body)
		if st != 200 || g.Added != 2 || g.Announced != 2 || g.Campaign.Status != "active" || len(g.Errors) != 1 ||
			g.Errors[0].Index != 2 || g.Errors[0].Code != "member_not_found" {
			t.Fatalf("give: %d %s", st, body)
		}
		st, body, _ = e.do("POST", "/v1/crm/offers", auth.RoleManager, map[string]any{"offer": offer,
			"members": []string{"ext:CRM-2", "ext:CRM-3"}})
		again := decode[given](t, body)
		if st != 200 || again.Campaign.ID != g.Campaign.ID || again.Added != 1 || again.Already != 1 || again.Announced != 1 {
			t.Fatalf("give again: %d %s", st, body)
		}
		var announced int
		db.R.QueryRow(`SELECT COUNT(*) FROM sms_outbox WHERE campaign_id = $1`, g.Campaign.ID).Scan(&announced)
		if announced != 3 {
			t.Errorf("%d announcements, want one to each of CRM-1, CRM-2, CRM-3", announced)
		}

		// The shopper's card shows what the offer gives, not the name the
		// operator sees.
		card := decodeMember(t, mustGet(t, e, "/v1/members/ext:CRM-2")).CardURL
		res, err := http.Get(e.url + strings.TrimPrefix(card, "http://perk.test"))
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if !strings.Contains(string(page), "<strong>£2 off your coffee</strong>") || strings.Contains(string(page), "CRM offer") {
			t.Errorf("card page offers:\n%s", page)
		}

		till := func(crm, tx string) int64 {
			t.Helper()
			st, body, _ := e.do("POST", "/v1/checkout/commit", auth.RolePOS, map[string]any{"store": "S001", "currency": "GBP",
				"member": "ext:" + crm, "transaction_id": tx,
				"items": []map[string]any{{"line": 1, "sku": "LATTE", "categories": []string{"coffee"}, "quantity": 1, "unit_price": 325}}})
			if st != 200 {
				t.Fatalf("commit %s: %d %s", tx, st, body)
			}
			return decode[checkout.Response](t, body).TotalDiscount
		}
		for _, c := range []struct {
			crm, tx string
			want    int64
		}{
			{"CRM-1", "T1", 200}, {"CRM-1", "T2", 0}, // single use
			{"CRM-3", "T3", 200}, {"CRM-4", "T4", 0}, // never given it
		} {
			if got := till(c.crm, c.tx); got != c.want {
				t.Errorf("%s at the till (%s): discount %d, want %d", c.crm, c.tx, got, c.want)
			}
		}

		bad := map[string]any{"description": "Too good", "start": "2026-01-01", "end": "2099-01-01",
			"benefit": map[string]any{"kind": "percent_off", "percent": 150}}
		st, body, _ = e.do("POST", "/v1/crm/offers", auth.RoleManager, map[string]any{"offer": bad, "members": []string{"ext:CRM-1"}})
		if code, field := errorOf(t, body); st != http.StatusUnprocessableEntity || field != "offer.benefit.percent" {
			t.Errorf("bad offer: %d %s %s %s", st, code, field, body)
		}
		st, body, _ = e.do("POST", "/v1/campaigns", auth.RoleManager, map[string]any{"name": "For all", "start": "2026-01-01",
			"end": "2099-01-01", "audience": map[string]any{"kind": "all"}, "benefits": []map[string]any{{"kind": "percent_off", "percent": 5}}})
		if st != http.StatusCreated {
			t.Fatalf("create: %d %s", st, body)
		}
		all := decode[struct{ ID string }](t, body)
		st, body, _ = e.do("POST", "/v1/campaigns/"+all.ID+"/members", auth.RoleManager, map[string]any{"members": []string{"ext:CRM-1"}})
		if code, _ := errorOf(t, body); st != http.StatusConflict || code != "audience_not_a_list" {
			t.Errorf("assign to an all-members campaign: %d %s", st, body)
		}
	})
}

// TestAPI_CRMSubsetSync: PUT /v1/crm/members upserts the subset from a CSV
// body keyed by CRM id, answering the stats and every rejected row; with
// full=true the members of the subset it leaves out leave it; a bad header
// or flag is a 4xx naming it; a till's key may not sync.
func TestAPI_CRMSubsetSync(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		type answer struct {
			Stats struct {
				Rows, Created, Updated, Rejected int
				LeftSubset                       int `json:"left_subset"`
			}
			Errors []struct {
				Row            int
				Column, Reason string
			}
		}
		st, body, _ := e.do("PUT", "/v1/crm/members?welcome=false", auth.RoleManager,
			"external_id,phone,tags,consent\nCRM-1,07700900301,gold,yes\nCRM-2,07700900302,,yes\n,07700900303,,yes\n")
		a := decode[answer](t, body)
		if st != 200 || a.Stats.Created != 2 || a.Stats.Rejected != 1 || len(a.Errors) != 1 || a.Errors[0].Row != 4 || a.Errors[0].Column != "external_id" {
			t.Fatalf("sync: %d %s", st, body)
		}
		st, body, _ = e.do("PUT", "/v1/crm/members?full=true", auth.RoleManager, "external_id,tags\nCRM-2,silver\n")
		if a := decode[answer](t, body); st != 200 || a.Stats.LeftSubset != 1 || a.Stats.Updated != 1 {
			t.Fatalf("full sync: %d %s", st, body)
		}
		for key, want := range map[string]string{"ext:CRM-1": `"tags":["gold"]`, "ext:CRM-2": `"tags":["silver","crm"]`} {
			if got := mustGet(t, e, "/v1/members/"+key); !strings.Contains(string(got), want) {
				t.Errorf("%s: %s, want %s", key, got, want)
			}
		}
		for _, c := range []struct {
			path, body string
			role       auth.Role
			status     int
			field      string
		}{
			{"/v1/crm/members?full=maybe", "external_id\nCRM-1\n", auth.RoleManager, 422, "full"},
			{"/v1/crm/members", "external_id,external_id\nCRM-1,CRM-1\n", auth.RoleManager, 422, "file"},
			{"/v1/crm/members", "external_id\nCRM-1\n", auth.RolePOS, 403, ""},
		} {
			st, body, _ := e.do("PUT", c.path, c.role, c.body)
			if _, field := errorOf(t, body); st != c.status || field != c.field {
				t.Errorf("PUT %s as %s: %d %s, want %d on field %q", c.path, c.role, st, body, c.status, c.field)
			}
		}
	})
}
