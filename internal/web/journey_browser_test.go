package web_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/journey"
	"github.com/perk-platform/perk/internal/links"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/sms/policy"
	"github.com/perk-platform/perk/internal/sms/router"
	"github.com/perk-platform/perk/internal/sms/sim"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
	"github.com/perk-platform/perk/internal/web"
)

// abandonEnv is the harness wired as perk serve wires journeys and SMS, all
// on one simulated clock: the event stream, the tills, the tracked links,
// the journey runner with its abandonment watcher, and the SMS queue and
// sender with the contact policy (08:00-21:00 in the member's zone) in
// front of the simulator gateway. The built-in journeys are installed as
// perk serve installs them on its first start.
type abandonEnv struct {
	*env
	clk      *testenv.Clock
	journeys *journey.Service
	links    *links.Service
	gw       *sim.Gateway
	sender   *sms.Sender
}

func newAbandonEnv(t *testing.T, db *store.DB, at time.Time) *abandonEnv {
	t.Helper()
	a := &abandonEnv{clk: testenv.NewClock(at), gw: nil}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a.links = links.NewService(db, "http://perk.test", a.clk.Now)
	a.gw = sim.New(a.clk.Now)
	cfg := policy.DefaultConfig()
	cfg.DefaultZone = "Europe/London"
	pol, err := policy.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ms := member.NewService(db, member.Options{Region: "GB", PublicURL: "http://perk.test", Programme: "Test Rewards"})
	e := newEnv(t, db, func(o *web.Options) {
		o.Now = a.clk.Now
		o.Links = a.links
		o.Checkout = o.Checkout.WithClock(a.clk.Now)
		a.journeys = journey.NewService(db, journey.Options{Now: a.clk.Now, Log: log, Offers: o.Campaigns, Links: a.links,
			PublicURL: "http://perk.test", Programme: "Test Rewards"})
		o.Journeys = a.journeys
		a.sender = sms.NewSender(sms.NewQueue(db, a.clk.Now, time.Minute, 3), a.gw, sms.NewContactPolicy(db, pol, o.Campaigns), log, a.clk.Now)
		rt, err := router.New(db, ms, router.Options{Programme: "Test Rewards", Wake: a.sender.Wake, Now: a.clk.Now, Log: log})
		if err != nil {
			t.Fatal(err)
		}
		o.Sim = web.SimOptions{Gateway: a.gw, Router: rt}
	})
	a.env = e
	if _, err := a.journeys.InstallBuiltin(t.Context()); err != nil {
		t.Fatal(err)
	}
	return a
}

// tick is one tick of perk serve's journey runner and one pass of its SMS
// sender, at the simulated time.
func (a *abandonEnv) tick() {
	a.t.Helper()
	ctx := context.Background()
	for range 2 {
		if err := a.journeys.Poll(ctx); err != nil {
			a.t.Fatalf("journeys: %v", err)
		}
		if _, err := a.sender.Once(ctx); err != nil {
			a.t.Fatalf("sms sender: %v", err)
		}
	}
}

// advance moves the simulated clock and ticks.
func (a *abandonEnv) advance(d time.Duration) {
	a.clk.Advance(d)
	a.tick()
}

// post sends a batch of events as /perk.js does: text/plain JSON with the
// site's public (ingest) key, stamped with the browser's clock, here the
// simulated one.
func (a *abandonEnv) post(events ...map[string]any) {
	a.t.Helper()
	for _, ev := range events {
		ev["time"] = a.clk.Now().Format(time.RFC3339Nano)
		ev["channel"] = "web"
		if ev["properties"] == nil {
			ev["properties"] = map[string]any{}
		}
	}
	b, _ := json.Marshal(map[string]any{"events": events})
	st, body, _ := a.do("POST", "/v1/events", auth.RoleIngest, string(b))
	if st != http.StatusOK || !strings.Contains(string(body), fmt.Sprintf(`"accepted":%d`, len(events))) {
		a.t.Fatalf("POST /v1/events: %d %s", st, body)
	}
}

// counts is GET /v1/journeys/{name}/counts.
func (a *abandonEnv) counts(name string) journey.Report {
	a.t.Helper()
	st, body, _ := a.do("GET", "/v1/journeys/"+name+"/counts", auth.RoleReporting, nil)
	if st != http.StatusOK {
		a.t.Fatalf("counts: %d %s", st, body)
	}
	var r journey.Report
	jsonUnmarshal(a.t, body, &r)
	return r
}

// reminders are the simulator's outbound texts to phone that are the
// abandonment reminder.
func (a *abandonEnv) reminders(phone string) []sim.Event {
	var out []sim.Event
	for _, ev := range a.gw.History(phone) {
		if ev.Dir == "mt" && strings.Contains(ev.Text, "your basket is still waiting") {
			out = append(out, ev)
		}
	}
	return out
}

// member enrols members until one falls on the wanted side of the built-in
// journey's holdout (a stable hash of the member's id, which enrolment
// draws), and returns it.
func (a *abandonEnv) member(first string, holdout bool, from int) *member.Member {
	a.t.Helper()
	for i := from; i < from+400; i++ {
		en, err := a.members.Enrol(context.Background(), member.EnrolRequest{Profile: member.Profile{
			Phone: fmt.Sprintf("+447700900%03d", i), FirstName: first}, Channel: member.ChannelAPI, Consent: true})
		if err != nil {
			a.t.Fatal(err)
		}
		if journey.InHoldout(journey.AbandonmentJourney, en.Member.ID, 10) == holdout {
			return en.Member
		}
	}
	a.t.Fatalf("no member with holdout=%v in 400", holdout)
	return nil
}

// TestJourneyDoneWhen_AnAbandonedWebCartIsRemindedWithinQuietHoursAndRecoveredAtTheTill_InChromium
// is issue 13's "Done when", on the simulated clock of the server: an
// anonymous visitor, identified by the SMS link she opens, puts coffee in
// her web cart at 19:30 and does not buy; the built-in abandonment journey
// texts her 2 h later, at 21:30, which is within quiet hours in London, so
// the contact policy holds the reminder (the journey page says so, with the
// reason) until 08:00, when the simulator receives it; she buys at the till
// at 09:00; the journey page, her timeline and the recovery against the
// holdout (Bob, who abandoned his cart too and is held out) all show it.
func TestJourneyDoneWhen_AnAbandonedWebCartIsRemindedWithinQuietHoursAndRecoveredAtTheTill_InChromium(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// Tuesday 14 January 2031, 19:30 in London (GMT).
		a := newAbandonEnv(t, db, time.Date(2031, 1, 14, 19, 30, 0, 0, time.UTC))
		ann := a.member("Ann", false, 100)
		bob := a.member("Bob", true, 500)
		a.tick() // the welcome texts go; the runner's cursor starts

		// Ann's browser on the shop, anonymous, then the SMS link.
		aid := "0123456789abcdef0123456789abcdef"
		a.post(map[string]any{"event_id": "pv-1", "type": "page_viewed", "anonymous_id": aid,
			"properties": map[string]any{"url": "https://shop.test/"}})
		link, err := a.links.Shorten(ctx, nil, links.Link{URL: "https://shop.test/coffee", MemberID: ann.ID})
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", a.url+"/l/"+link[strings.LastIndex(link, "/")+1:], nil)
		req.AddCookie(&http.Cookie{Name: "perk_aid", Value: aid})
		res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		target, _ := url.Parse(res.Header.Get("Location"))
		token := target.Query().Get("perk_it")
		if res.StatusCode != http.StatusFound || token == "" {
			t.Fatalf("GET /l/: %d to %q, want a redirect carrying the identify token", res.StatusCode, target)
		}
		// /perk.js on the page the link opened identifies the browser,
		// and Ann puts coffee in the cart.
		a.post(map[string]any{"event_id": "id-1", "type": "identified", "anonymous_id": aid, "identify_token": token})
		a.post(map[string]any{"event_id": "cart-1", "type": "cart_updated", "anonymous_id": aid,
			"properties": map[string]any{"items": []map[string]any{{"sku": "COF-250", "quantity": 1, "price": 350}}}})
		// Bob, who is held out, leaves a cart too (an app naming him).
		if st, body, _ := a.do("POST", "/v1/events", auth.RolePOS, fmt.Sprintf(`{"events":[{"event_id":"cart-bob","type":"cart_updated",
			"time":%q,"channel":"app","member":%q,"properties":{"items":[{"sku":"TEA","quantity":1,"price":300}]}}]}`, a.clk.Now().Format(time.RFC3339), bob.ID)); st != 200 || !strings.Contains(string(body), `"accepted":1`) {
			t.Fatalf("Bob's cart: %d %s", st, body)
		}
		a.tick()

		a.advance(119 * time.Minute) // 21:29
		if r := a.counts(journey.AbandonmentJourney); r.Entered != 0 {
			t.Fatalf("entered before the carts were abandoned: %+v", r)
		}
		a.advance(time.Minute) // 21:30: abandoned; the reminder is queued and held
		var status, reason string
		var sendAfter time.Time
		if err := db.R.QueryRow(`SELECT status, held_reason, send_after FROM sms_outbox WHERE member_id = $1 AND purpose = $2`,
			ann.ID, "journey:"+journey.AbandonmentJourney).Scan(&status, &reason, &sendAfter); err != nil {
			t.Fatalf("the reminder is not in the outbox: %v", err)
		}
		if wantAt := time.Date(2031, 1, 15, 8, 0, 0, 0, time.UTC); status != sms.StatusQueued || reason != "quiet_hours" || !sendAfter.Equal(wantAt) {
			t.Errorf("reminder %s, held for %q until %v; want queued, held for quiet_hours until %v", status, reason, sendAfter.UTC(), wantAt)
		}
		if got := a.reminders(ann.Phone.String()); len(got) != 0 {
			t.Fatalf("sent within quiet hours: %+v", got)
		}
		r := a.counts(journey.AbandonmentJourney)
		if r.Entered != 2 || len(r.Steps) != 1 || r.Steps[0].Messages["queued: quiet_hours"] != 1 {
			t.Errorf("counts while held: %+v", r)
		}

		// The journey page says so, with the reason.
		email := a.newOperator(auth.RoleManager)
		b := newBrowser(t)
		page := a.url + "/manage/journeys/" + journey.AbandonmentJourney
		if err := chromedp.Do(b, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("#email")),
			chromedp.SendKeys(chromedp.CSS("#email"), email), chromedp.SendKeys(chromedp.CSS("#password"), operatorPassword),
			chromedp.Click(chromedp.CSS("#sign-in")), chromedp.WaitVisible(chromedp.CSS("#version-1"))); err != nil {
			t.Fatal(err)
		}
		if got := text(t, b, "#step-1-reminder .messages"); got != "queued, held for quiet hours: 1" {
			t.Errorf("the reminder step's messages say %q", got)
		}

		a.advance(10*time.Hour + 29*time.Minute) // 07:59
		if got := a.reminders(ann.Phone.String()); len(got) != 0 {
			t.Fatalf("sent within quiet hours: %+v", got)
		}
		a.advance(time.Minute) // 08:00: the window opens
		got := a.reminders(ann.Phone.String())
		if len(got) != 1 || !got[0].At.Equal(time.Date(2031, 1, 15, 8, 0, 0, 0, time.UTC)) || !strings.Contains(got[0].Text, "http://perk.test/c/") {
			t.Fatalf("reminders in the simulator %+v, want one with the card link at 08:00; all: %+v; phone %q", got, a.gw.History(""), ann.Phone.String())
		}
		if got := a.reminders(bob.Phone.String()); len(got) != 0 {
			t.Errorf("the holdout was texted: %+v", got)
		}

		// Ann buys at the till at 09:00.
		a.advance(time.Hour)
		if st, body, _ := a.do("POST", "/v1/checkout/commit", auth.RolePOS, map[string]any{"store": "S001", "member": string(ann.Code),
			"currency": "GBP", "transaction_id": "T-ann", "items": []map[string]any{{"line": 1, "sku": "COF-250", "quantity": 1, "unit_price": 350}}}); st != 200 {
			t.Fatalf("commit: %d %s", st, body)
		}
		a.tick()

		// The recovery against the holdout.
		r = a.counts(journey.AbandonmentJourney)
		if r.Treated.Entered != 1 || r.Treated.Converted != 1 || r.Holdout.Entered != 1 || r.Holdout.Converted != 0 || r.Uplift == nil ||
			r.Uplift.Difference != 1 || r.Steps[0].Messages["sent: quiet_hours"] != 1 {
			t.Errorf("recovery: treated %+v holdout %+v uplift %+v steps %+v", r.Treated, r.Holdout, r.Uplift, r.Steps)
		}
		// Her timeline.
		st, body, _ := a.do("GET", "/v1/members/"+ann.ID+"/timeline?limit=100", auth.RoleReporting, nil)
		var tl struct{ Events []event.Event }
		jsonUnmarshal(t, body, &tl)
		var seen []string
		for i := len(tl.Events) - 1; i >= 0; i-- { // newest first on the wire
			switch ev := tl.Events[i]; ev.Type {
			case "cart_updated", journey.CartAbandoned, "sms_sent", journey.CartRecovered, "basket_committed":
				if ev.Type != "sms_sent" || ev.Time.Equal(time.Date(2031, 1, 15, 8, 0, 0, 0, time.UTC)) {
					seen = append(seen, ev.Type+"@"+ev.Time.UTC().Format("15:04"))
				}
			}
		}
		want := "[cart_updated@19:30 cart_abandoned@21:30 sms_sent@08:00 basket_committed@09:00 cart_recovered@09:00]"
		if st != 200 || fmt.Sprint(seen) != want {
			t.Errorf("timeline %v, want %s", seen, want)
		}

		// The page, redrawn by its live feed without a reload.
		if _, err := chromedp.Run(b, chromedp.Poll[bool](`document.querySelector("#goal-treated .converted").textContent === "1"`,
			chromedp.WithPollingTimeout(20*time.Second))); err != nil {
			t.Fatalf("the page did not show the conversion: %v", err)
		}
		for sel, want := range map[string]string{
			"#goal-holdout .converted":    "0",
			"#step-1-reminder .passed":    "1",
			"#step-1-reminder .does":      `text "{{.Programme}}: your basket is still waiting for you. Your card: {{.CardURL}}"`,
			"#count-entered":              "2",
			"#version-1 .version-counts":  "Version 1: 1 treated entered, 0 in progress, 1 converted.",
			"#version-1-title":            "Version 1 (live)",
			"#step-1-reminder .messages":  "sent after a hold for quiet hours: 1",
			"#goal-treated td:last-child": "100.0%",
		} {
			if got := text(t, b, sel); got != want {
				t.Errorf("%s = %q, want %q", sel, got, want)
			}
		}
		screenshot(t, b, "journey-abandonment-"+string(db.Dialect))
	})
}
