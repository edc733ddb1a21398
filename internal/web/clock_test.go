package web_test

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/sms/router"
	"github.com/perk-platform/perk/internal/sms/sim"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
	"github.com/perk-platform/perk/internal/web"
)

// Whatever the server does by the time of day or by time passing, it does
// by its clock (web.Options.Now), never the wall clock's.
func TestServerClock_DecidesEverythingThatDependsOnTime(t *testing.T) {
	at := time.Date(2031, 5, 6, 15, 4, 5, 0, time.UTC)
	clk := testenv.NewClock(at)
	db := storetest.SQLite(t)
	gw := sim.New(nil)
	ms := member.NewService(db, member.Options{Region: "GB", PublicURL: "http://perk.test", Programme: "Test Rewards"})
	rt, err := router.New(db, ms, router.Options{Programme: "Test Rewards", Wake: func() {}, Now: clk.Now,
		Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, db, func(o *web.Options) {
		o.Now = clk.Now
		o.JoinPerMinute = 2
		o.Sim = web.SimOptions{Gateway: gw, Router: rt}
	})

	t.Run("the overview's today", func(t *testing.T) {
		status, out, _ := e.do("GET", "/v1/reports/overview", auth.RoleAdmin, nil)
		var o struct{ Since time.Time }
		jsonUnmarshal(t, out, &o)
		if want := time.Date(2031, 5, 6, 0, 0, 0, 0, time.UTC); status != http.StatusOK || !o.Since.Equal(want) {
			t.Errorf("GET /v1/reports/overview = %d, since %v; want today, %v", status, o.Since, want)
		}
	})

	t.Run("a new campaign's default dates", func(t *testing.T) {
		res, body := e.get(e.signIn(auth.RoleManager), "/manage/campaigns/new")
		for _, want := range []string{`name="start" value="2031-05-06"`, `name="end" value="2031-05-20"`} {
			if res.StatusCode != http.StatusOK || !strings.Contains(body, want) {
				t.Errorf("GET /manage/campaigns/new = %d without %s", res.StatusCode, want)
			}
		}
	})

	t.Run("a simulated text's arrival", func(t *testing.T) {
		res, body := e.form(e.signIn(auth.RoleAdmin), "/sim/inbound", url.Values{"from": {"07700 900001"}, "text": {"HELP"}})
		if res.StatusCode != http.StatusAccepted {
			t.Fatalf("POST /sim/inbound = %d %s", res.StatusCode, body)
		}
		if h := gw.History(""); len(h) == 0 || !h[0].At.Equal(at) {
			t.Errorf("simulator history %+v, want the text received at %v", h, at)
		}
	})

	t.Run("sign-ups per minute", func(t *testing.T) {
		steps := []struct {
			say        string
			wait       time.Duration
			limited    bool
			retryAfter string
		}{
			{say: "a first sign-up"},
			{say: "a second"},
			{say: "a third within the minute waits the minute", limited: true, retryAfter: "60"},
			{say: "half a minute later, half a minute", wait: 30 * time.Second, limited: true, retryAfter: "30"},
			{say: "a minute after the first, it goes", wait: 30 * time.Second},
		}
		c := e.browser()
		for i, st := range steps {
			clk.Advance(st.wait)
			res, _ := e.form(c, "/join", url.Values{"phone": {"07400 1234" + string(rune('0'+i)) + "0"}})
			if limited := res.StatusCode == http.StatusTooManyRequests; limited != st.limited || res.Header.Get("Retry-After") != st.retryAfter {
				t.Errorf("step %d, %s: %d Retry-After %q", i+1, st.say, res.StatusCode, res.Header.Get("Retry-After"))
			}
		}
	})
}
