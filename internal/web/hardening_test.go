package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// Text PostgreSQL cannot store is refused with a 400 JSON error on both
// databases, wherever it comes in: path, query, form or JSON body.
func TestText_NULAndInvalidUTF8AreRefusedBeforeTheDatabase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		tests := []struct {
			name, method, path string
			body               any
			field              string
		}{
			{"member search", "GET", "/v1/members?query=%00", nil, "query"},
			{"lookup by external id", "GET", "/v1/members/lookup?external_id=%00", nil, "external_id"},
			{"lookup by card token", "GET", "/v1/members/lookup?card_token=a%00b", nil, "card_token"},
			{"outbox status", "GET", "/v1/sms/outbox?status=%00", nil, "status"},
			{"campaign id", "GET", "/v1/campaigns/cmp%00", nil, "path"},
			{"import id", "GET", "/v1/imports/imp%00", nil, "path"},
			{"member key", "GET", "/v1/members/%00", nil, "path"},
			{"invalid UTF-8 in a query", "GET", "/v1/members?query=%ff%fe", nil, "query"},
			{"NUL in a JSON name", "POST", "/v1/members", `{"phone":"07400 123456","first_name":"A\u0000n","consent":{"sms":true}}`, "first_name"},
			{"NUL in a nested JSON field", "POST", "/v1/members", `{"phone":"07400 123456","consent":{"sms":true,"source":"\u0000"}}`, "consent.source"},
			{"NUL in a till's member", "POST", "/v1/checkout/evaluate", `{"store":"S001","currency":"GBP","member":"\u0000","items":[{"sku":"A","quantity":1,"unit_price":100}]}`, "member"},
			{"NUL in a basket line", "POST", "/v1/checkout/evaluate", `{"store":"S001","currency":"GBP","items":[{"sku":"A\u0000","quantity":1,"unit_price":100}]}`, "items[0].sku"},
		}
		for _, tt := range tests {
			status, out, _ := e.do(tt.method, tt.path, auth.RoleAdmin, tt.body)
			if status != http.StatusBadRequest {
				t.Errorf("%s: %s %s = %d %s, want 400", tt.name, tt.method, tt.path, status, out)
				continue
			}
			if code, field := errorOf(t, out); code != "invalid_text" || field != tt.field {
				t.Errorf("%s: error %s on %q, want invalid_text on %q", tt.name, code, field, tt.field)
			}
		}
		// A form on a shopper page is checked the same way.
		res, err := http.Post(e.url+"/join", "application/x-www-form-urlencoded",
			strings.NewReader("phone=07400123456&first_name=A%00&consent=yes"))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("POST /join with a NUL = %d, want 400", res.StatusCode)
		}
		// An API body is JSON whatever the Content-Type (curl -d sends a
		// form type): it is not read as a form.
		req, _ := http.NewRequest("POST", e.url+"/v1/members", strings.NewReader(`{"phone":"07400 654321","consent":{"sms":true}}`))
		req.Header.Set("Authorization", "Bearer "+e.keys[auth.RoleAdmin])
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusCreated {
			t.Errorf("JSON enrolment sent as a form type = %d, want 201", res.StatusCode)
		}
		// Nothing was enrolled by any of the refused requests.
		if status, out, _ := e.do("GET", "/v1/members/07400123456", auth.RoleAdmin, nil); status != http.StatusNotFound {
			t.Errorf("after refused requests the member exists: %d %s", status, out)
		}
	})
}

func TestHeaders_NoSniffEverywhereAndNoStoreOnPersonalData(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		status, out, _ := e.do("POST", "/v1/members", auth.RoleAdmin, map[string]any{"phone": "07400 123456", "consent": map[string]any{"sms": true}})
		if status != http.StatusCreated {
			t.Fatalf("enrol = %d %s", status, out)
		}
		card := decodeMember(t, out).CardURL
		cardPath := card[strings.Index(card, "/c/"):]
		tests := []struct {
			name, path string
			role       auth.Role
			noStore    bool
		}{
			{"member", "/v1/members/07400123456", auth.RoleAdmin, true},
			{"member list", "/v1/members", auth.RoleAdmin, true},
			{"an API error", "/v1/members/07999999999", auth.RoleAdmin, true},
			{"card page", cardPath, "", true},
			{"sign-up form", "/join", "", true},
			{"static asset", "/static/style.css", "", false},
		}
		for _, tt := range tests {
			status, out, hdr := e.do("GET", tt.path, tt.role, nil)
			if status >= 500 {
				t.Errorf("%s: %d %s", tt.name, status, out)
			}
			if got := hdr.Get("X-Content-Type-Options"); got != "nosniff" {
				t.Errorf("%s: X-Content-Type-Options = %q, want nosniff", tt.name, got)
			}
			if got := hdr.Get("Cache-Control"); strings.Contains(got, "no-store") != tt.noStore {
				t.Errorf("%s: Cache-Control = %q, want no-store: %v", tt.name, got, tt.noStore)
			}
		}
	})
}
