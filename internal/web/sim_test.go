package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/sms/policy"
	"github.com/perk-platform/perk/internal/sms/router"
	"github.com/perk-platform/perk/internal/sms/sim"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/web"
)

// TestSimPage_InChromium texts JOIN from the simulator page and watches the
// welcome SMS arrive on the page without a reload (server-sent events).
func TestSimPage_InChromium(t *testing.T) {
	db := storetest.SQLite(t)
	gw := sim.New(nil)
	pol, err := policy.New(policy.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	sender := sms.NewSender(sms.NewQueue(db, nil, 30*time.Second, 3), gw, sms.NewContactPolicy(db, pol, nil), nil, nil)
	// A member service of the router's own: services hold no state besides
	// the database, so it sees what the server's does.
	ms := member.NewService(db, member.Options{Region: "GB", PublicURL: "http://perk.test", Programme: "Test Rewards"})
	rt, err := router.New(db, ms, router.Options{Programme: "Test Rewards", Wake: sender.Wake})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, db, func(o *web.Options) { o.Sim = web.SimOptions{Gateway: gw, Router: rt} })
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { sender.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })

	email := e.newOperator(auth.RoleManager)
	b := newBrowser(t)
	err = chromedp.Do(b,
		// The simulator is for signed-in operators: /sim asks to sign in first.
		chromedp.Navigate(e.url+"/sim"), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), email), chromedp.SendKeys(chromedp.CSS("#password"), operatorPassword),
		chromedp.Click(chromedp.CSS("#sign-in")), chromedp.WaitNotPresent(chromedp.CSS("#sign-in")),
		chromedp.Navigate(e.url+"/sim"),
		chromedp.WaitVisible(chromedp.CSS("#sim-form")),
		chromedp.SetValue(chromedp.CSS("#sim-from"), "07700 900124"),
		chromedp.SetValue(chromedp.CSS("#sim-text"), "JOIN Zoë"),
		chromedp.Click(chromedp.CSS("#sim-form button")),
		chromedp.WaitVisible(chromedp.CSS("#sim-log li.sim-mt")),
	)
	if err != nil {
		t.Fatal(err)
	}
	mt := text(t, b, "#sim-log li.sim-mt")
	m, err := e.members.ByPhone(t.Context(), "07700900124")
	if err != nil || m.FirstName != "Zoë" {
		t.Fatalf("member after JOIN from the simulator: %+v, %v", m, err)
	}
	if !strings.Contains(mt, "Welcome to") || !strings.Contains(mt, string(m.Code)) {
		t.Errorf("welcome shown on the page: %q", mt)
	}
	if err := chromedp.Do(b, chromedp.WaitVisible(chromedp.CSS("#sim-log li.sim-dlr"))); err != nil {
		t.Fatalf("no delivery receipt on the page: %v", err)
	}
	fitsWidth(t, b)
	screenshot(t, b, "sim-360")
}

// The simulator texts Perk as any number and shows the replies, which carry
// that member's code and card link: only a signed-in operator who may change
// members reaches it.
func TestSim_OnlyForSignedInOperators(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		gw := sim.New(nil)
		ms := member.NewService(db, member.Options{Region: "GB", PublicURL: "http://perk.test", Programme: "Test Rewards"})
		rt, err := router.New(db, ms, router.Options{Programme: "Test Rewards", Wake: func() {}})
		if err != nil {
			t.Fatal(err)
		}
		e := newEnv(t, db, func(o *web.Options) { o.Sim = web.SimOptions{Gateway: gw, Router: rt} })
		if _, err := e.members.Enrol(t.Context(), member.EnrolRequest{Profile: member.Profile{Phone: "07700 900001"},
			Channel: member.ChannelAPI, Consent: true}); err != nil {
			t.Fatal(err)
		}
		inbound := url.Values{"from": {"07700 900001"}, "text": {"CODE"}}
		tests := []struct {
			name   string
			client *http.Client
			status int
		}{
			{"a stranger", e.browser(), http.StatusUnauthorized},
			{"a reporting operator", e.signIn(auth.RoleReporting), http.StatusForbidden},
			{"a manager", e.signIn(auth.RoleManager), http.StatusOK},
		}
		for _, tt := range tests {
			for _, path := range []string{"/sim", "/sim/events"} {
				if tt.status == http.StatusOK && path == "/sim/events" {
					continue // a stream that stays open
				}
				res, err := tt.client.Get(e.url + path)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				if res.StatusCode != tt.status {
					t.Errorf("%s: GET %s = %d, want %d", tt.name, path, res.StatusCode, tt.status)
				}
			}
			res, body := e.form(tt.client, "/sim/inbound", inbound)
			want := tt.status
			if want == http.StatusOK {
				want = http.StatusAccepted
			}
			if res.StatusCode != want {
				t.Errorf("%s: POST /sim/inbound = %d %s, want %d", tt.name, res.StatusCode, body, want)
			}
			// The code is queued by the member service, not as a router
			// reply: the answer still says a reply was queued, and to whom.
			if want == http.StatusAccepted && (!strings.Contains(string(body), `"replied":true`) || !strings.Contains(string(body), `"member_id":"mem_`)) {
				t.Errorf("%s: POST /sim/inbound answered %s, want replied true and the member", tt.name, body)
			}
		}
		// Only the manager's CODE reached the simulator (its reply waits in
		// the queue: no sender runs here).
		if got := len(gw.History("")); got != 1 {
			t.Errorf("simulator saw %d messages, want the manager's CODE only", got)
		}
	})
}
