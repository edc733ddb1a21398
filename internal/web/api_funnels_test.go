package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
	"github.com/perk-platform/perk/internal/web"
)

func TestAPI_FunnelsDefineReportAndDraw(t *testing.T) {
	storetest.EachIsolated(t, func(t *testing.T, db *store.DB) {
		clock := testenv.NewClock(eventsNow)
		e := newEnv(t, db, func(o *web.Options) { o.Now = clock.Now })
		def := `{"name":"coffee","window":"1h","steps":[{"name":"saw coffee","types":["product_viewed"],"where":{"properties.sku":"COF"}},{"name":"bought","types":["order_placed"]}]}`
		steps := []struct {
			say, method, path string
			role              auth.Role
			body              string
			status            int
			has               string
		}{
			{"a reporting key may not define", "PUT", "/v1/funnels/coffee", auth.RoleReporting, def, 403, ""},
			{"bad window", "PUT", "/v1/funnels/coffee", auth.RoleManager, strings.Replace(def, `"1h"`, `"soon"`, 1), 400, "window"},
			{"one step is no funnel", "PUT", "/v1/funnels/x", auth.RoleManager, `{"name":"x","window":"1h","steps":[{"types":["a"]}]}`, 422, "steps"},
			{"define", "PUT", "/v1/funnels/coffee", auth.RoleManager, def, 200, `"changed":true`},
			{"again: unchanged", "PUT", "/v1/funnels/coffee", auth.RoleManager, def, 200, `"changed":false`},
			{"list", "GET", "/v1/funnels", auth.RoleReporting, "", 200, `"name":"coffee"`},
			{"unknown", "GET", "/v1/funnels/tea/report", auth.RoleReporting, "", 404, "funnel_not_found"},
			{"a campaign never launched", "GET", "/v1/campaigns/nope/funnel", auth.RoleReporting, "", 422, "campaign_not_launched"},
		}
		for _, st := range steps {
			status, body, _ := e.do(st.method, st.path, st.role, st.body)
			if status != st.status || !strings.Contains(string(body), st.has) {
				t.Errorf("%s: %d %s", st.say, status, body)
			}
		}
		events := `{"events":[` + strings.Join([]string{
			eventJSON("1", "product_viewed", -30, `"anonymous_id":"a"`, `{"sku":"COF"}`),
			eventJSON("2", "order_placed", -10, `"anonymous_id":"a"`, `{"order_id":"W1","total":350}`),
			eventJSON("3", "product_viewed", -30, `"anonymous_id":"b"`, `{"sku":"COF"}`),
			eventJSON("4", "product_viewed", -30, `"anonymous_id":"c"`, `{"sku":"TEA"}`),
		}, ",") + `]}`
		if st, b, _ := e.do("POST", "/v1/events", auth.RolePOS, events); st != 200 {
			t.Fatalf("events: %d %s", st, b)
		}
		st, b, _ := e.do("GET", "/v1/funnels/coffee/report?from=2026-12-05", auth.RoleReporting, nil)
		var rep struct {
			Groups []struct {
				Steps   []struct{ Count int }
				Overall float64 `json:"overall_conversion"`
				Median  *int64  `json:"median_seconds_to_convert"`
			}
		}
		jsonUnmarshal(t, b, &rep)
		if st != 200 || len(rep.Groups) != 1 || rep.Groups[0].Steps[0].Count != 2 || rep.Groups[0].Steps[1].Count != 1 ||
			rep.Groups[0].Overall != 0.5 || *rep.Groups[0].Median != 1200 {
			t.Errorf("report %d %s", st, b)
		}
		c := e.signIn(auth.RoleReporting)
		res, page := e.get(c, "/manage/funnels/coffee?from=2026-12-05")
		if res.StatusCode != 200 || !strings.Contains(page, "saw coffee") || !strings.Contains(page, "50.0%") || !strings.Contains(page, "20m0s") {
			t.Errorf("funnel page %d:\n%s", res.StatusCode, page)
		}
		res, page = e.get(c, "/manage/funnels")
		if res.StatusCode != 200 || !strings.Contains(page, `href="/manage/funnels/coffee"`) {
			t.Errorf("funnels page %d", res.StatusCode)
		}
	})
}

func TestManageMember_ShowsTheStitchedTimelineAndSessions(t *testing.T) {
	storetest.EachIsolated(t, func(t *testing.T, db *store.DB) {
		clock := testenv.NewClock(eventsNow)
		e := newEnv(t, db, func(o *web.Options) { o.Now = clock.Now })
		ann := e.enrol("+447700900123")
		body := `{"events":[` + eventJSON("p1", "page_viewed", -20, `"anonymous_id":"0123456789abcdef"`, `{"url":"/"}`) + "," +
			eventJSON("i1", "identified", -10, `"anonymous_id":"0123456789abcdef","member":"`+ann.ID+`"`, `{}`) + `]}`
		if st, b, _ := e.do("POST", "/v1/events", auth.RolePOS, body); st != http.StatusOK {
			t.Fatalf("%d %s", st, b)
		}
		res, page := e.get(e.signIn(auth.RoleReporting), "/manage/members/"+ann.ID)
		if res.StatusCode != 200 || !strings.Contains(page, `id="member-timeline"`) ||
			!strings.Contains(page, "Browser 01234567… became this member on 5 Dec via the app or site identifying them (1 earlier events moved)") ||
			!strings.Contains(page, `id="member-sessions"`) {
			t.Errorf("member page %d:\n%s", res.StatusCode, page)
		}
	})
}
