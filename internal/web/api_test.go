package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/web"
)

func TestAPI_KeysAndRoles(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		body := map[string]any{"phone": "07400 123456", "consent": map[string]any{"sms": true}}
		tests := []struct {
			name   string
			method string
			path   string
			role   auth.Role
			body   any
			status int
		}{
			{"no key", "GET", "/v1/members", "", nil, http.StatusUnauthorized},
			{"reporting cannot enrol", "POST", "/v1/members", auth.RoleReporting, body, http.StatusForbidden},
			{"pos enrols at its till", "POST", "/v1/members", auth.RolePOS, body, http.StatusCreated},
			{"pos cannot browse members", "GET", "/v1/members", auth.RolePOS, nil, http.StatusForbidden},
			{"reporting reads", "GET", "/v1/members/07400123456", auth.RoleReporting, nil, http.StatusOK},
			{"manager cannot erase", "DELETE", "/v1/members/07400123456", auth.RoleManager, nil, http.StatusForbidden},
			{"admin erases", "DELETE", "/v1/members/07400123456", auth.RoleAdmin, nil, http.StatusNoContent},
		}
		for _, tt := range tests {
			status, out, hdr := e.do(tt.method, tt.path, tt.role, tt.body)
			if status != tt.status {
				t.Errorf("%s: %s %s = %d %s, want %d", tt.name, tt.method, tt.path, status, out, tt.status)
				continue
			}
			if status >= 400 {
				errorOf(t, out)
			}
			if status == http.StatusUnauthorized && hdr.Get("WWW-Authenticate") == "" {
				t.Errorf("%s: 401 without WWW-Authenticate", tt.name)
			}
		}
		// The pos enrolment above was recorded as the till's channel and store.
		m, err := e.members.Lookup(t.Context(), "07400123456")
		if err == nil {
			t.Fatalf("erased member still found by phone: %+v", m)
		}
		status, _, _ := e.do("GET", "/v1/members", "", nil)
		req, _ := http.NewRequest("GET", e.url+"/v1/members", nil)
		req.Header.Set("Authorization", "Bearer "+e.keys[auth.RoleAdmin]+"x")
		res, _ := http.DefaultClient.Do(req)
		res.Body.Close()
		if status != 401 || res.StatusCode != 401 {
			t.Errorf("tampered key: %d", res.StatusCode)
		}
	})
}

func TestAPI_EnrolIsIdempotentByPhone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		req := map[string]any{"phone": "07400 123456", "first_name": "Ann", "store": "S002",
			"attributes": map[string]string{"tier": "gold"}, "consent": map[string]any{"sms": true, "source": "poster"}}
		status, out, hdr := e.do("POST", "/v1/members", auth.RoleManager, req)
		if status != http.StatusCreated {
			t.Fatalf("first POST = %d %s", status, out)
		}
		first := decodeMember(t, out)
		if first.ID == "" || len(first.Code) != 8 || first.Phone != "+447400123456" || first.Status != "active" ||
			!strings.HasPrefix(first.CardURL, "http://perk.test/c/") || hdr.Get("Location") != "/v1/members/"+first.ID {
			t.Fatalf("created member %+v (Location %q)", first, hdr.Get("Location"))
		}
		req["phone"] = "+44 7400-123456"
		status, out, _ = e.do("POST", "/v1/members", auth.RoleManager, req)
		again := decodeMember(t, out)
		if status != http.StatusOK || again.ID != first.ID || again.Code != first.Code || again.CardURL != first.CardURL {
			t.Fatalf("second POST = %d %+v, want 200 with the same member", status, again)
		}
		for _, key := range []string{first.ID, first.Code, "07400123456", "%2B447400123456"} {
			status, out, _ := e.do("GET", "/v1/members/"+key, auth.RoleReporting, nil)
			if got := decodeMember(t, out); status != 200 || got.ID != first.ID || got.CardURL != first.CardURL {
				t.Errorf("GET /v1/members/%s = %d %s", key, status, out)
			}
		}
	})
}

func TestAPI_BadInputGetsA4xxJSONError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		status, out, _ := e.do("POST", "/v1/members", auth.RoleAdmin, `{"phone":"07400123456"}`)
		if status != http.StatusCreated {
			t.Fatalf("setup: %d %s", status, out)
		}
		m := decodeMember(t, out)
		typo := m.Code[:7] + fmt.Sprint((int(m.Code[7]-'0')+1)%10)
		tests := []struct {
			name, method, path, body string
			status                   int
			code, field              string
		}{
			{"malformed JSON", "POST", "/v1/members", `{"phone":`, 400, "bad_request", ""},
			{"wrong type", "POST", "/v1/members", `{"phone":447400123456}`, 400, "bad_request", "phone"},
			{"unknown field", "POST", "/v1/members", `{"phone":"07400123457","frist_name":"A"}`, 400, "bad_request", "frist_name"},
			{"two objects", "POST", "/v1/members", `{"phone":"07400123457"}{}`, 400, "bad_request", ""},
			{"empty body", "POST", "/v1/members", ``, 400, "bad_request", ""},
			{"landline", "POST", "/v1/members", `{"phone":"020 7946 0018"}`, 422, "phone_invalid", "phone"},
			{"too short", "POST", "/v1/members", `{"phone":"0740"}`, 422, "phone_invalid", "phone"},
			{"bad email", "POST", "/v1/members", `{"phone":"07400123457","email":"x@"}`, 422, "email_invalid", "email"},
			{"huge body", "POST", "/v1/members", `{"phone":"` + strings.Repeat("1", 2<<20) + `"}`, 413, "body_too_large", ""},
			{"mistyped code", "GET", "/v1/members/" + typo, "", 422, "code_invalid", "code"},
			{"unknown member", "GET", "/v1/members/mem_0000000000000000000000000a", "", 404, "member_not_found", ""},
			{"unknown phone", "GET", "/v1/members/07400999999", "", 404, "member_not_found", ""},
			{"patch other's phone", "PATCH", "/v1/members/" + m.ID, `{"phone":"07400123457"}`, 200, "", ""},
			{"bad limit", "GET", "/v1/members?limit=9999", "", 422, "limit_invalid", "limit"},
			{"bad cursor", "GET", "/v1/members?cursor=zzz", "", 422, "cursor_invalid", "cursor"},
			{"bad status filter", "GET", "/v1/members?status=gold", "", 422, "status_invalid", "status"},
			{"no such endpoint", "GET", "/v1/nothing", "", 404, "no_such_endpoint", ""},
			{"unknown import", "GET", "/v1/imports/imp_x", "", 404, "import_not_found", ""},
		}
		for _, tt := range tests {
			var body any
			if tt.body != "" {
				body = tt.body
			}
			status, out, _ := e.do(tt.method, tt.path, auth.RoleAdmin, body)
			if status != tt.status {
				t.Errorf("%s: %d %.200s, want %d", tt.name, status, out, tt.status)
				continue
			}
			if tt.code == "" {
				continue
			}
			code, field := errorOf(t, out)
			if code != tt.code || field != tt.field {
				t.Errorf("%s: error code %q field %q, want %q %q", tt.name, code, field, tt.code, tt.field)
			}
		}
		// After the patch above moved the member to ...457, that number is taken.
		e.do("POST", "/v1/members", auth.RoleAdmin, `{"phone":"07400123458"}`)
		status, out, _ = e.do("PATCH", "/v1/members/07400123458", auth.RoleAdmin, `{"phone":"07400123457"}`)
		if code, _ := errorOf(t, out); status != 409 || code != "phone_taken" {
			t.Errorf("phone clash: %d %s", status, out)
		}
	})
}

func TestAPI_PatchListConsentAndErase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		for i := 0; i < 3; i++ {
			e.do("POST", "/v1/members", auth.RoleAdmin, fmt.Sprintf(`{"phone":"0740012345%d","first_name":"N%d","consent":{"sms":true}}`, i, i))
		}
		status, out, _ := e.do("PATCH", "/v1/members/07400123450", auth.RoleManager, `{"last_name":"Lee","tags":["vip"]}`)
		if status != 200 || !strings.Contains(string(out), `"last_name":"Lee"`) || !strings.Contains(string(out), `"tags":["vip"]`) {
			t.Fatalf("PATCH = %d %s", status, out)
		}
		var page struct {
			Members    []memberJSON `json:"members"`
			NextCursor string       `json:"next_cursor"`
		}
		_, out, _ = e.do("GET", "/v1/members?limit=2", auth.RoleReporting, nil)
		json.Unmarshal(out, &page)
		if len(page.Members) != 2 || page.NextCursor == "" {
			t.Fatalf("first page %s", out)
		}
		_, out, _ = e.do("GET", "/v1/members?limit=2&cursor="+page.NextCursor, auth.RoleReporting, nil)
		page.Members, page.NextCursor = nil, ""
		json.Unmarshal(out, &page)
		if len(page.Members) != 1 || page.NextCursor != "" {
			t.Fatalf("second page %s", out)
		}
		status, out, _ = e.do("POST", "/v1/members/07400123451/opt-out", auth.RoleManager, `{"source":"call centre"}`)
		if status != 200 || decodeMember(t, out).Status != "opted_out" {
			t.Fatalf("opt-out = %d %s", status, out)
		}
		_, out, _ = e.do("GET", "/v1/members/07400123451/consents", auth.RoleReporting, nil)
		if !strings.Contains(string(out), `"action":"withdrawn"`) || !strings.Contains(string(out), `"source":"call centre"`) {
			t.Fatalf("consents %s", out)
		}
		status, out, _ = e.do("POST", "/v1/members/07400123452/card-token", auth.RoleManager, nil)
		if status != 200 || !strings.Contains(string(out), "http://perk.test/c/") {
			t.Fatalf("reissue = %d %s", status, out)
		}
		id := decodeMember(t, mustGet(t, e, "/v1/members/07400123452")).ID
		if status, _, _ := e.do("DELETE", "/v1/members/"+id, auth.RoleAdmin, nil); status != 204 {
			t.Fatalf("erase = %d", status)
		}
		_, out, _ = e.do("GET", "/v1/members/"+id, auth.RoleAdmin, nil)
		if got := decodeMember(t, out); got.Status != "erased" || got.Phone != "" || got.FirstName != "" {
			t.Fatalf("after erasure %s", out)
		}
	})
}

func mustGet(t *testing.T, e *env, path string) []byte {
	t.Helper()
	status, out, _ := e.do("GET", path, auth.RoleAdmin, nil)
	if status != 200 {
		t.Fatalf("GET %s = %d %s", path, status, out)
	}
	return out
}

func TestLogs_NeverHoldAFullPhoneNumber(t *testing.T) {
	db := storetest.SQLite(t)
	e := newEnv(t, db)
	e.do("POST", "/v1/members", auth.RoleAdmin, `{"phone":"07400 123456","consent":{"sms":true}}`)
	e.do("GET", "/v1/members/07400123456", auth.RoleAdmin, nil)
	e.do("GET", "/v1/members/%2B447400123456", auth.RoleAdmin, nil)
	e.do("POST", "/v1/members", auth.RoleAdmin, `{"phone":"020 7946 0018"}`)
	logs := e.logs.String()
	if !strings.Contains(logs, "+44 74** ***456") {
		t.Fatalf("expected the masked number in the enrolment log:\n%s", logs)
	}
	for _, leak := range []string{"7400123456", "74001 23456", "7946 0018", "79460018"} {
		if strings.Contains(logs, leak) {
			t.Fatalf("log holds %q:\n%s", leak, logs)
		}
	}
}

func TestLogs_RequestLineNamesTheAPIKey(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	tests := []struct {
		name   string
		method string
		path   string
		role   auth.Role
		status int
	}{
		{"a key that may", "GET", "/v1/members", auth.RoleAdmin, http.StatusOK},
		{"a key whose handler fails", "GET", "/v1/members/07400999999", auth.RoleReporting, http.StatusNotFound},
		{"a key that may not", "GET", "/v1/members", auth.RolePOS, http.StatusForbidden},
		{"no key", "GET", "/v1/members", "", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		before := len(e.logs.String())
		if status, out, _ := e.do(tt.method, tt.path, tt.role, nil); status != tt.status {
			t.Fatalf("%s: %s %s = %d %s, want %d", tt.name, tt.method, tt.path, status, out, tt.status)
		}
		var line string
		waitFor(t, func() bool {
			for l := range strings.Lines(e.logs.String()[before:]) {
				if strings.Contains(l, `msg="http request"`) {
					line = l
					return true
				}
			}
			return false
		})
		want := "key=" + e.keyIDs[tt.role]
		if tt.role == "" {
			if strings.Contains(line, "key=") {
				t.Errorf("%s: request log names a key: %s", tt.name, line)
			}
		} else if !strings.Contains(line, want+" ") && !strings.HasSuffix(strings.TrimSpace(line), want) {
			t.Errorf("%s: request log lacks %s: %s", tt.name, want, line)
		}
	}
}

func TestHealthReadyMetrics(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	e.do("GET", "/v1/members", auth.RoleAdmin, nil)
	tests := []struct {
		path   string
		role   auth.Role
		status int
		want   string
	}{
		{"/healthz", "", 200, `"ok"`},
		{"/readyz", "", 200, `"ready"`},
		{"/metrics", auth.RoleReporting, 200, `perk_http_requests_total{code="200",route="GET /v1/members"} 1`},
		{"/metrics", auth.RoleAdmin, 200, `perk_http_requests_total`},
		{"/metrics", "", http.StatusUnauthorized, `"unauthorized"`},
		{"/metrics", auth.RolePOS, http.StatusForbidden, `"forbidden"`},
	}
	for _, tt := range tests {
		status, out, _ := e.do("GET", tt.path, tt.role, nil)
		if status != tt.status || !strings.Contains(string(out), tt.want) {
			t.Errorf("GET %s as %q = %d, want %d with %s", tt.path, tt.role, status, tt.status, tt.want)
		}
	}
	e.db.Close()
	if status, _, _ := e.do("GET", "/readyz", "", nil); status != http.StatusServiceUnavailable {
		t.Errorf("readyz with the database closed = %d, want 503", status)
	}
}

func TestMetrics_OnTheirOwnListenerAndNotOnTheMainOne(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), func(o *web.Options) { o.MetricsElsewhere = true })
	if status, out, _ := e.do("GET", "/metrics", auth.RoleAdmin, nil); status != http.StatusNotFound {
		t.Errorf("GET /metrics on the main listener = %d %s, want 404", status, out)
	}
}

func TestAPI_POSKeyEnrolsIntoItsStore(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	status, out, _ := e.do("POST", "/v1/members", auth.RolePOS, `{"phone":"07400123456"}`)
	if status != http.StatusCreated {
		t.Fatalf("pos enrolment = %d %s", status, out)
	}
	_, out, _ = e.do("GET", "/v1/members/07400123456", auth.RoleAdmin, nil)
	if m := decodeMember(t, out); m.Channel != "pos" || m.HomeStore != "S001" {
		t.Fatalf("member enrolled at a till: %s", out)
	}
	status, out, _ = e.do("POST", "/v1/members", auth.RolePOS, `{"phone":"07400123457","store":"S009"}`)
	if code, field := errorOf(t, out); status != http.StatusForbidden || code != "store_mismatch" || field != "store" {
		t.Fatalf("another store's enrolment = %d %s", status, out)
	}
}

// A pos key has no right to read members, so enrolling a number that is
// already a member tells the till what a checkout answer would (id, code,
// points) and nothing of the profile, another store's home store, or the
// card link, which is a bearer link to the member's card.
func TestAPI_ATillLearnsOnlyWhatATillNeeds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		full := `{"phone":"07400123456","first_name":"Ann","last_name":"Lee","email":"ann@example.com","birthday":"1990-04-01",
			"store":"S009","external_id":"CRM-1","consent":{"sms":true}}`
		if status, out, _ := e.do("POST", "/v1/members", auth.RoleAdmin, full); status != http.StatusCreated {
			t.Fatalf("enrol = %d %s", status, out)
		}
		for _, body := range []string{`{"phone":"07400123456"}`, `{"phone":"+44 7400 123456","first_name":"Someone"}`} {
			status, out, _ := e.do("POST", "/v1/members", auth.RolePOS, body)
			if status != http.StatusOK {
				t.Fatalf("pos enrolment of a member's number = %d %s", status, out)
			}
			var got map[string]any
			jsonUnmarshal(t, out, &got)
			keys := make([]string, 0, len(got))
			for k := range got {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			if want := "code id points_balance points_pending"; strings.Join(keys, " ") != want {
				t.Errorf("a till sees %s, want only %s", out, want)
			}
		}
	})
}

func TestAPI_SMSListsForOperators(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		e.do("POST", "/v1/members", auth.RoleAdmin, `{"phone":"07400123456","consent":{"sms":true}}`)
		e.do("POST", "/v1/members", auth.RoleAdmin, `{"phone":"07400123457"}`)
		now := time.Now().UTC()
		db.W.Exec(`INSERT INTO sms_inbox (id, from_phone, body, keyword, received_at) VALUES ('mo_1', '+447400123456', 'what?', '', $1),
			('mo_2', '+447400123456', 'STOP', 'STOP', $1)`, now)
		var out struct {
			Messages []struct {
				To, From, Purpose, Body, Keyword string
			} `json:"messages"`
		}
		status, body, _ := e.do("GET", "/v1/sms/outbox?phone=07400%20123456", auth.RoleReporting, nil)
		jsonUnmarshal(t, body, &out)
		if status != 200 || len(out.Messages) != 1 || out.Messages[0].Purpose != "welcome" || out.Messages[0].To != "+447400123456" {
			t.Fatalf("outbox = %d %s", status, body)
		}
		status, body, _ = e.do("GET", "/v1/sms/outbox?limit=1", auth.RoleReporting, nil)
		out.Messages = nil
		jsonUnmarshal(t, body, &out)
		if status != 200 || len(out.Messages) != 1 {
			t.Fatalf("limited outbox = %d %s", status, body)
		}
		status, body, _ = e.do("GET", "/v1/sms/inbox?unrecognised=true", auth.RoleReporting, nil)
		out.Messages = nil
		jsonUnmarshal(t, body, &out)
		if status != 200 || len(out.Messages) != 1 || out.Messages[0].Body != "what?" {
			t.Fatalf("unrecognised inbox = %d %s", status, body)
		}
		if status, _, _ := e.do("GET", "/v1/sms/inbox?limit=0", auth.RoleReporting, nil); status != 422 {
			t.Fatalf("bad limit = %d", status)
		}
		if status, _, _ := e.do("GET", "/v1/sms/inbox", auth.RolePOS, nil); status != 403 {
			t.Fatalf("pos key reading SMS = %d", status)
		}
	})
}
