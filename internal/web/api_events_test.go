package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
	"github.com/perk-platform/perk/internal/web"
)

var eventsNow = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)

func eventJSON(id, typ string, minutes int, person, props string) string {
	return fmt.Sprintf(`{"event_id":%q,"type":%q,"time":%q,"channel":"web",%s,"properties":%s}`,
		id, typ, eventsNow.Add(time.Duration(minutes)*time.Minute).Format(time.RFC3339), person, props)
}

func TestAPI_EventsKeepGoodEventsAndListRejected(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clock := testenv.NewClock(eventsNow)
		e := newEnv(t, db, func(o *web.Options) { o.Now = clock.Now })
		ann := e.enrol("+447700900123")
		body := `{"events":[` + strings.Join([]string{
			eventJSON("e1", "page_viewed", -10, `"anonymous_id":"b1"`, `{"url":"https://shop.test/coffee"}`),
			eventJSON("e2", "cart_updated", -9, `"anonymous_id":"b1"`, `{"items":[{"sku":"COF","quantity":1,"price":"3.50"}]}`),
			eventJSON("e3", "cart_updated", -8, `"anonymous_id":"b1"`, `{"items":[{"sku":"COF","quantity":1,"price":350}]}`),
			eventJSON("e4", "identified", -7, `"anonymous_id":"b1","member":"`+ann.Code+`"`, `{}`),
		}, ",") + `]}`
		st, res, _ := e.do("POST", "/v1/events", auth.RolePOS, body)
		if st != http.StatusOK {
			t.Fatalf("%d %s", st, res)
		}
		var out struct {
			Accepted, Duplicates int
			Rejected             []struct {
				Index               int
				Code, Field, Reason string
			}
		}
		jsonUnmarshal(t, res, &out)
		if out.Accepted != 3 || len(out.Rejected) != 1 || out.Rejected[0].Index != 1 || out.Rejected[0].Field != "properties.items.price" {
			t.Fatalf("answer = %s", res)
		}
		// The earlier anonymous events are now Ann's, with the merge, newest first.
		st, res, _ = e.do("GET", "/v1/members/"+ann.ID+"/timeline?limit=10", auth.RoleReporting, nil)
		var tl struct {
			Events []struct{ EventID, Type, MemberID string } `json:"events"`
		}
		jsonUnmarshal(t, res, &tl)
		var got []string
		for _, ev := range tl.Events {
			if ev.Type != "member_joined" { // written on the member service's own clock
				got = append(got, ev.Type)
			}
		}
		if st != http.StatusOK || strings.Join(got, ",") != "identity_merged,identified,cart_updated,page_viewed" {
			t.Errorf("timeline %d: %v", st, got)
		}
		st, res, _ = e.do("GET", "/v1/members/"+ann.ID+"/sessions", auth.RoleReporting, nil)
		if st != http.StatusOK || !strings.Contains(string(res), `"events":3`) || !strings.Contains(string(res), `"open":true`) {
			t.Errorf("sessions %d: %s", st, res)
		}
	})
}

func TestAPI_EventsKeysAndLimits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clock := testenv.NewClock(eventsNow)
		e := newEnv(t, db, func(o *web.Options) { o.Now = clock.Now; o.IngestPerMinute = 2 })
		one := `{"events":[` + eventJSON("x1", "page_viewed", 0, `"anonymous_id":"b1"`, `{"url":"/"}`) + `]}`
		post := func(query string, role auth.Role, body string) (int, string, http.Header) {
			st, res, h := e.do("POST", "/v1/events"+query, role, body)
			return st, string(res), h
		}
		steps := []struct {
			say    string
			query  string
			role   auth.Role
			body   string
			status int
			code   string
		}{
			{say: "no key", body: one, status: 401, code: "unauthorized"},
			{say: "a reporting key may not write", role: auth.RoleReporting, body: one, status: 403, code: "forbidden"},
			{say: "an admin key in the URL is refused", query: "?write_key=" + e.keys[auth.RoleAdmin], body: one, status: 403, code: "key_in_url"},
			{say: "an ingest key may not read members", status: 0},
			{say: "the public key in the URL", query: "?write_key=" + e.keys[auth.RoleIngest], body: one, status: 200},
			{say: "a second batch in the minute", query: "?write_key=" + e.keys[auth.RoleIngest], body: one, status: 200},
			{say: "a third is limited", query: "?write_key=" + e.keys[auth.RoleIngest], body: one, status: 429, code: "rate_limited"},
			{say: "a till's key is not limited", role: auth.RolePOS, body: one, status: 200},
			{say: "not a batch", role: auth.RolePOS, body: `[1]`, status: 400, code: "batch_invalid"},
			{say: "over 1 MiB", role: auth.RolePOS, body: `{"events":[` + strings.Repeat(" ", 1<<20) + `]}`, status: 413, code: "body_too_large"},
		}
		for _, st := range steps {
			if st.status == 0 {
				s, _, _ := e.do("GET", "/v1/members", auth.RoleIngest, nil)
				if s != 403 {
					t.Errorf("%s: %d", st.say, s)
				}
				continue
			}
			status, res, h := post(st.query, st.role, st.body)
			if status != st.status {
				t.Errorf("%s: %d %s, want %d", st.say, status, res, st.status)
				continue
			}
			if st.code != "" {
				if code, _ := errorOf(t, []byte(res)); code != st.code {
					t.Errorf("%s: code %s, want %s", st.say, code, st.code)
				}
			}
			if h.Get("Access-Control-Allow-Origin") != "*" {
				t.Errorf("%s: no CORS header", st.say)
			}
		}
		clock.Advance(time.Minute)
		if status, res, _ := post("?write_key="+e.keys[auth.RoleIngest], "", one); status != 200 {
			t.Errorf("a minute later: %d %s", status, res)
		}
	})
}

func TestPerkJS_IsServedSmallAndFirstParty(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	st, body, h := e.do("GET", "/perk.js", "", nil)
	if st != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/javascript") {
		t.Fatalf("%d %s", st, h.Get("Content-Type"))
	}
	if len(body) > 8<<10 {
		t.Errorf("perk.js is %d bytes, want a few KB", len(body))
	}
	for _, word := range []string{"sendBeacon", "perk_aid", "identify", "track"} {
		if !strings.Contains(string(body), word) {
			t.Errorf("perk.js lacks %s", word)
		}
	}
	// Every address in the script is the Perk host's own (from its src).
	if strings.Contains(string(body), "//") && strings.Contains(string(body), "https://") &&
		strings.Count(string(body), "https://") != strings.Count(string(body), "https://perk.example/perk.js") {
		t.Errorf("perk.js names another host")
	}
}

// TestAPI_PublicKeyIdentifiesOnlyWithPerksToken is the fix for a public key
// (it sits in web pages, anyone may copy it) tying a browser to any member
// whose code it sent: with it an event may name a member only with an
// identify token Perk issued for that member and not yet expired; a secret
// key still names members on its own.
func TestAPI_PublicKeyIdentifiesOnlyWithPerksToken(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clock := testenv.NewClock(eventsNow)
		events := event.NewService(db, event.Options{Now: clock.Now})
		e := newEnv(t, db, func(o *web.Options) { o.Now = clock.Now; o.Events = events })
		ann, bob := e.enrol("+447700900123"), e.enrol("+447700900124")
		ctx := context.Background()
		annToken, err := events.IdentifyToken(ctx, ann.ID)
		if err != nil {
			t.Fatal(err)
		}
		clock.Advance(event.IdentifyTokenTTL + time.Second)
		expired := annToken
		annToken, _ = events.IdentifyToken(ctx, ann.ID)
		parts := strings.Split(annToken, ".")
		forged := strings.Join([]string{parts[0], bob.ID, parts[2], parts[3]}, ".") // Ann's signature on Bob's id
		identify := func(id, anon, fields string) string {
			return `{"events":[` + eventJSON(id+"-view", "page_viewed", 0, `"anonymous_id":"`+anon+`"`, `{"url":"/"}`) + `,` +
				eventJSON(id, "identified", 1, `"anonymous_id":"`+anon+`",`+fields, `{}`) + `]}`
		}
		public := "?write_key=" + e.keys[auth.RoleIngest]
		for _, tc := range []struct {
			say    string
			query  string
			role   auth.Role
			body   string
			status int
			code   string
		}{
			{"a member's code alone", public, "", identify("i1", "b1", `"member":"`+ann.Code+`"`), 403, "identify_token_required"},
			{"a forged token", public, "", identify("i2", "b1", `"identify_token":"`+forged+`"`), 403, "identify_token_invalid"},
			{"not a token at all", public, "", identify("i3", "b1", `"identify_token":"v1.x"`), 403, "identify_token_invalid"},
			{"an expired token", public, "", identify("i4", "b1", `"identify_token":"`+expired+`"`), 403, "identify_token_expired"},
			{"Bob's token for Ann", public, "", identify("i6", "b1", `"member":"`+ann.ID+`","identify_token":"`+mustToken(t, events, bob.ID)+`"`), 403, "identify_token_other_member"},
			{"Ann's own token", public, "", identify("i7", "b1", `"identify_token":"`+annToken+`"`), 200, ""},
			{"a secret key names a member on its own", "", auth.RolePOS, identify("i8", "b2", `"member":"`+bob.Code+`"`), 200, ""},
		} {
			st, res, _ := e.do("POST", "/v1/events"+tc.query, tc.role, tc.body)
			if st != tc.status {
				t.Errorf("%s: %d %s, want %d", tc.say, st, res, tc.status)
				continue
			}
			if tc.code != "" {
				if code, field := errorOf(t, res); code != tc.code || field != "events[1].identify_token" {
					t.Errorf("%s: %s at %s, want %s at events[1].identify_token", tc.say, code, field, tc.code)
				}
			}
		}
		for anon, want := range map[string]string{"b1": ann.ID, "b2": bob.ID} {
			if got, err := events.Identity(ctx, anon); err != nil || got != want {
				t.Errorf("browser %s belongs to %q, want %q", anon, got, want)
			}
		}
		var kept int
		if err := db.R.QueryRow(`SELECT COUNT(*) FROM events WHERE event_id IN ('i1-view', 'i2-view', 'i3-view', 'i4-view', 'i6-view')`).Scan(&kept); err != nil || kept != 0 {
			t.Errorf("%d events of refused batches kept (%v)", kept, err)
		}
	})
}

func mustToken(t *testing.T, s *event.Service, member string) string {
	t.Helper()
	tok, err := s.IdentifyToken(context.Background(), member)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestAPI_ABackendMintsAnIdentifyTokenForItsShopper: a retailer's backend
// that knows its signed-in shopper asks Perk for a token with its secret key
// and hands it to its page, whose /perk.js identifies the browser with the
// public key; the public key itself cannot mint one.
func TestAPI_ABackendMintsAnIdentifyTokenForItsShopper(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clock := testenv.NewClock(eventsNow)
		events := event.NewService(db, event.Options{Now: clock.Now})
		e := newEnv(t, db, func(o *web.Options) { o.Now = clock.Now; o.Events = events })
		ann := e.enrol("+447700900123")
		for _, tc := range []struct {
			say    string
			role   auth.Role
			key    string
			status int
			code   string
		}{
			{"a manager's backend, by code", auth.RoleManager, ann.Code, 201, ""},
			{"a till's key, by member id", auth.RolePOS, ann.ID, 201, ""},
			{"the public key", auth.RoleIngest, ann.Code, 403, "public_key_cannot_mint"},
			{"a reporting key", auth.RoleReporting, ann.Code, 403, "forbidden"},
			{"a mistyped code", auth.RoleManager, "99999999", 422, "code_invalid"},
			{"a number that is nobody's", auth.RoleManager, "+447700900999", 404, "member_not_found"},
		} {
			st, res, _ := e.do("POST", "/v1/members/"+tc.key+"/identify-token", tc.role, "")
			if st != tc.status {
				t.Errorf("%s: %d %s, want %d", tc.say, st, res, tc.status)
				continue
			}
			if tc.code != "" {
				if code, _ := errorOf(t, res); code != tc.code {
					t.Errorf("%s: %s, want %s", tc.say, code, tc.code)
				}
				continue
			}
			var got struct {
				MemberID      string    `json:"member_id"`
				IdentifyToken string    `json:"identify_token"`
				ExpiresAt     time.Time `json:"expires_at"`
			}
			if err := json.Unmarshal(res, &got); err != nil {
				t.Fatal(err)
			}
			if got.MemberID != ann.ID || !got.ExpiresAt.Equal(clock.Now().Add(event.IdentifyTokenTTL).Truncate(time.Second)) {
				t.Errorf("%s: %+v, want Ann's token expiring in an hour", tc.say, got)
			}
			// The page sends it with the public key: this browser is now Ann.
			anon := "browser-" + string(tc.role)
			body := `{"events":[` + eventJSON("id-"+anon, "identified", 0, `"anonymous_id":"`+anon+`","identify_token":"`+got.IdentifyToken+`"`, `{}`) + `]}`
			if st, res, _ := e.do("POST", "/v1/events?write_key="+e.keys[auth.RoleIngest], "", body); st != 200 {
				t.Fatalf("%s: identify with the minted token: %d %s", tc.say, st, res)
			}
			if who, err := events.Identity(context.Background(), anon); err != nil || who != ann.ID {
				t.Errorf("%s: the browser belongs to %q (%v), want Ann", tc.say, who, err)
			}
		}
	})
}
