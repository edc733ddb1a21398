package web_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/sms/policy"
	"github.com/perk-platform/perk/internal/sms/router"
	"github.com/perk-platform/perk/internal/sms/sim"
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
	sender := sms.NewSender(sms.NewQueue(db, nil, 30*time.Second, 3), gw, sms.NewContactPolicy(db, pol), nil, nil)
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

	b := newBrowser(t)
	err = chromedp.Do(b,
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
