package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/perk-platform/perk/internal/journey"
	"github.com/perk-platform/perk/internal/testenv"
)

// rehearsal is a perk serve started with --clock simulated, driven only
// through its HTTP surface: the API with an admin, an ingest and a till's
// key, and the console in Chromium.
type rehearsal struct {
	t                *testing.T
	url              string
	admin, ingest    string // API keys
	operator, passwd string // a manager's sign-in
}

// advance is POST /v1/clock/advance; it answers once the due work has run,
// so the test reads the outcome at once, without a sleep.
func (r *rehearsal) advance(by string) time.Time {
	r.t.Helper()
	var c struct {
		Now       time.Time `json:"now"`
		Simulated bool      `json:"simulated"`
	}
	if st := api(r.t, "POST", r.url+"/v1/clock/advance", r.admin, map[string]any{"by": by}, &c); st != 200 || !c.Simulated {
		r.t.Fatalf("advance by %s: %d %+v", by, st, c)
	}
	return c.Now
}

// events sends a batch of events with key, stamped with the simulated time
// now, as /perk.js or an app would.
func (r *rehearsal) events(key string, now time.Time, evs ...map[string]any) {
	r.t.Helper()
	for _, ev := range evs {
		ev["time"] = now.Format(time.RFC3339Nano)
		if ev["properties"] == nil {
			ev["properties"] = map[string]any{}
		}
	}
	var res struct {
		Accepted int `json:"accepted"`
	}
	if st := api(r.t, "POST", r.url+"/v1/events", key, map[string]any{"events": evs}, &res); st != 200 || res.Accepted != len(evs) {
		r.t.Fatalf("POST /v1/events: %d, accepted %d of %d", st, res.Accepted, len(evs))
	}
}

// counts is GET /v1/journeys/{name}/counts.
func (r *rehearsal) counts(name string) journey.Report {
	r.t.Helper()
	var rep journey.Report
	if st := api(r.t, "GET", r.url+"/v1/journeys/"+name+"/counts", r.admin, nil, &rep); st != 200 {
		r.t.Fatalf("counts: %d", st)
	}
	return rep
}

// outboxEntry is a message of GET /v1/sms/outbox.
type outboxEntry struct {
	Body       string     `json:"body"`
	Purpose    string     `json:"purpose"`
	Status     string     `json:"status"`
	HeldReason string     `json:"held_reason"`
	SendAfter  *time.Time `json:"send_after"`
	SentAt     *time.Time `json:"sent_at"`
}

// outbox is the member's outbound texts whose purpose starts with purpose.
func (r *rehearsal) outbox(memberID, purpose string) []outboxEntry {
	r.t.Helper()
	var res struct{ Messages []outboxEntry }
	if st := api(r.t, "GET", r.url+"/v1/sms/outbox?member_id="+memberID, r.admin, nil, &res); st != 200 {
		r.t.Fatalf("outbox: %d", st)
	}
	var out []outboxEntry
	for _, m := range res.Messages {
		if strings.HasPrefix(m.Purpose, purpose) {
			out = append(out, m)
		}
	}
	return out
}

// member enrols shoppers through the API until one falls on the wanted
// side of the built-in journey's holdout (a stable hash of the id the
// enrolment draws), and returns its id and phone.
func (r *rehearsal) member(first string, holdout bool, from int) (string, string) {
	r.t.Helper()
	for i := from; i < from+400; i++ {
		phone := fmt.Sprintf("+447700900%03d", i)
		var m struct {
			ID string `json:"id"`
		}
		if st := api(r.t, "POST", r.url+"/v1/members", r.admin, map[string]any{"phone": phone, "first_name": first,
			"consent": map[string]any{"sms": true, "source": "test"}}, &m); st != 201 {
			r.t.Fatalf("enrol %s: %d", first, st)
		}
		if journey.InHoldout(journey.AbandonmentJourney, m.ID, 10) == holdout {
			return m.ID, phone
		}
	}
	r.t.Fatalf("no member with holdout=%v in 400", holdout)
	return "", ""
}

// TestServeSimulatedClock_AnAbandonedWebCartIsRemindedWithinQuietHoursAndRecoveredAtTheTill_InChromium
// is issue 13's "Done when" through the real binary, on both databases:
// perk serve runs on a simulated clock from Tuesday 14 January 2031, 19:30
// in London. Ann opens the card link of her welcome text in her browser,
// which identifies it; her anonymous browsing and the coffee she puts in
// the web cart are hers. She does not buy; at 21:30 (2 h later, advanced
// through the API) the built-in abandonment journey queues her reminder,
// which quiet hours hold (the journey page says so) until 08:00, when the
// built-in simulator receives it; she buys at the till at 09:00. The
// journey page, her timeline and the recovery against the holdout (Bob,
// who left a cart too and is held out) show it in Chromium.
func TestServeSimulatedClock_AnAbandonedWebCartIsRemindedWithinQuietHoursAndRecoveredAtTheTill_InChromium(t *testing.T) {
	chromium := testenv.Binary(t, "PERK_TEST_CHROMIUM", "chromium", "headless Chromium")
	start := time.Date(2031, 1, 14, 19, 30, 0, 0, time.UTC)
	at := func(day, hour, minute int) time.Time { return time.Date(2031, 1, day, hour, minute, 0, 0, time.UTC) }
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			env := []string{"PERK_DB=" + dsn(t), "PERK_DATA_DIR=" + dir, "PERK_LOG_LEVEL=warn", "PERK_DEFAULT_ZONE=Europe/London",
				"PERK_QUIET_HOURS=08:00-21:00"}
			if _, stderr, err := perk(t, env, "migrate"); err != nil {
				t.Fatalf("migrate: %v\n%s", err, stderr)
			}
			importStores(t, env, dir, "S001")
			r := &rehearsal{t: t, operator: "ops@shop.example", passwd: "correct horse battery"}
			for role, p := range map[string]*string{"admin": &r.admin, "ingest": &r.ingest} {
				out, stderr, err := perk(t, env, "keys", "create", "--role", role)
				if err != nil {
					t.Fatalf("keys create %s: %v\n%s", role, err, stderr)
				}
				*p = strings.TrimSpace(out)
			}
			out, stderr, err := perk(t, env, "keys", "create", "--role", "pos", "--store", "S001")
			if err != nil {
				t.Fatalf("keys create pos: %v\n%s", err, stderr)
			}
			till := strings.TrimSpace(out)
			if _, stderr, err := perkIn(t, env, r.passwd+"\n", "users", "create", "--email", r.operator, "--role", "manager", "--password-stdin"); err != nil {
				t.Fatalf("users create: %v\n%s", err, stderr)
			}
			r.url, _ = serve(t, env, "--addr", "127.0.0.1:0", "--clock", "simulated:"+start.Format(time.RFC3339))

			ann, annPhone := r.member("Ann", false, 100)
			bob, bobPhone := r.member("Bob", true, 500)
			now := r.advance("0s") // the welcome texts go; the journeys' cursor starts
			if !now.Equal(start) {
				t.Fatalf("the clock reads %v after advancing by 0s, want %v", now, start)
			}
			welcome := r.outbox(ann, "welcome")
			if len(welcome) != 1 || welcome[0].Status != "sent" || !strings.Contains(welcome[0].Body, r.url+"/c/") {
				t.Fatalf("Ann's welcome text: %+v", welcome)
			}
			cardLink := r.url + "/c/" + strings.Fields(welcome[0].Body[strings.Index(welcome[0].Body, r.url+"/c/")+len(r.url+"/c/"):])[0]

			// Ann's browser on the shop, anonymous; then the card link of
			// her text, whose page hands /perk.js the identify token.
			aid := "0123456789abcdef0123456789abcdef"
			r.events(r.ingest, now, map[string]any{"event_id": "pv-1", "type": "page_viewed", "anonymous_id": aid, "channel": "web",
				"properties": map[string]any{"url": "https://shop.test/"}})
			b := browserFor(t, chromium, 8*time.Minute)
			if err := chromedp.Do(b, chromedp.Navigate(cardLink), chromedp.WaitVisible(chromedp.CSS("#member-card"))); err != nil {
				t.Fatalf("the card link %s: %v", cardLink, err)
			}
			attr, err := chromedp.Run(b, chromedp.AttributeValue(chromedp.CSS("#member-card"), "data-perk-identify"))
			if err != nil || attr.Value == "" {
				t.Fatalf("the card page %s gives no identify token (%v)", cardLink, err)
			}
			token := attr.Value
			r.events(r.ingest, now,
				map[string]any{"event_id": "id-1", "type": "identified", "anonymous_id": aid, "identify_token": token, "channel": "web"},
				map[string]any{"event_id": "cart-1", "type": "cart_updated", "anonymous_id": aid, "channel": "web",
					"properties": map[string]any{"items": []map[string]any{{"sku": "COF-250", "quantity": 1, "price": 350}}}})
			// Bob, who is held out, leaves a cart in the app.
			r.events(r.admin, now, map[string]any{"event_id": "cart-bob", "type": "cart_updated", "channel": "app", "member": bob,
				"properties": map[string]any{"items": []map[string]any{{"sku": "TEA", "quantity": 1, "price": 300}}}})
			r.advance("0s")

			if now = r.advance("119m"); !now.Equal(at(14, 21, 29)) {
				t.Fatalf("the clock reads %v, want 21:29", now)
			}
			if c := r.counts(journey.AbandonmentJourney); c.Entered != 0 {
				t.Fatalf("entered before the carts were abandoned: %+v", c)
			}
			r.advance("1m") // 21:30: abandoned; the reminder is queued and held
			rem := r.outbox(ann, "journey:"+journey.AbandonmentJourney)
			if len(rem) != 1 || rem[0].Status != "queued" || rem[0].HeldReason != "quiet_hours" || rem[0].SendAfter == nil || !rem[0].SendAfter.Equal(at(15, 8, 0)) {
				t.Fatalf("Ann's reminder at 21:30: %+v, want one queued, held for quiet_hours until 08:00", rem)
			}
			if c := r.counts(journey.AbandonmentJourney); c.Entered != 2 || len(c.Steps) != 1 || c.Steps[0].Messages["queued: quiet_hours"] != 1 {
				t.Errorf("counts while held: %+v", c)
			}

			// The console: the simulated clock's banner, and the journey
			// page with the held reminder and its reason.
			page := r.url + "/manage/journeys/" + journey.AbandonmentJourney
			if err := chromedp.Do(b, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("#email")),
				chromedp.SendKeys(chromedp.CSS("#email"), r.operator), chromedp.SendKeys(chromedp.CSS("#password"), r.passwd),
				chromedp.Click(chromedp.CSS("#sign-in")), chromedp.WaitVisible(chromedp.CSS("#version-1"))); err != nil {
				t.Fatalf("sign in to the journey page: %v", err)
			}
			if got := textOf(t, b, "#simulated-clock"); !strings.Contains(got, "Simulated clock") || !strings.Contains(got, "Tue 14 Jan 2031 21:30 UTC") {
				t.Errorf("the banner says %q", got)
			}
			if got := textOf(t, b, "#step-1-reminder .messages"); got != "queued, held for quiet hours: 1" {
				t.Errorf("the reminder step's messages say %q", got)
			}

			r.advance("10h29m") // 07:59
			if rem := r.outbox(ann, "journey:"+journey.AbandonmentJourney); len(rem) != 1 || rem[0].Status != "queued" {
				t.Fatalf("Ann's reminder at 07:59: %+v, want still held", rem)
			}
			r.advance("1m") // 08:00: the window opens, the simulator receives it
			rem = r.outbox(ann, "journey:"+journey.AbandonmentJourney)
			if len(rem) != 1 || rem[0].Status != "sent" || rem[0].SentAt == nil || !rem[0].SentAt.Equal(at(15, 8, 0)) ||
				!strings.Contains(rem[0].Body, "your basket is still waiting") || !strings.Contains(rem[0].Body, r.url+"/c/") {
				t.Fatalf("Ann's reminder at 08:00: %+v, want sent at 08:00 with her card link", rem)
			}
			if got := r.outbox(bob, "journey:"); len(got) != 0 {
				t.Errorf("the holdout was texted: %+v", got)
			}
			// The simulator's traffic, as the operator sees it.
			if err := chromedp.Do(b, chromedp.Navigate(r.url+"/sim"), chromedp.WaitReady(chromedp.CSS("#sim-log"))); err != nil {
				t.Fatal(err)
			}
			simTexts := func(phone string) string {
				s, err := chromedp.Run(b, chromedp.Evaluate[string](fmt.Sprintf(
					`[...document.querySelectorAll('#sim-log li.sim-mt[data-phone=%q]')].map(li => li.textContent.replace(/\s+/g, " ").trim()).join("\n")`, phone)))
				if err != nil {
					t.Fatal(err)
				}
				return s
			}
			simAnn, simBob := simTexts(annPhone), simTexts(bobPhone)
			if !strings.Contains(simAnn, "08:00:00 mt "+annPhone+" Perk Rewards: your basket is still waiting") {
				t.Errorf("the simulator shows Ann's texts as:\n%s", simAnn)
			}
			if strings.Contains(simBob, "your basket") {
				t.Errorf("the simulator shows a reminder to Bob:\n%s", simBob)
			}

			// Ann buys the coffee at the till at 09:00.
			r.advance("1h")
			if st := api(t, "POST", r.url+"/v1/checkout/commit", till, map[string]any{"store": "S001", "member": annPhone,
				"currency": "GBP", "transaction_id": "T-ann", "items": []map[string]any{{"line": 1, "sku": "COF-250", "quantity": 1, "unit_price": 350}}}, nil); st != 200 {
				t.Fatalf("commit at the till: %d", st)
			}
			r.advance("0s")

			// The recovery against the holdout, through the API...
			c := r.counts(journey.AbandonmentJourney)
			if c.Treated.Entered != 1 || c.Treated.Converted != 1 || c.Holdout.Entered != 1 || c.Holdout.Converted != 0 || c.Uplift == nil ||
				c.Uplift.Difference != 1 || c.Steps[0].Messages["sent: quiet_hours"] != 1 {
				t.Errorf("recovery: treated %+v holdout %+v uplift %+v steps %+v", c.Treated, c.Holdout, c.Uplift, c.Steps)
			}
			// ... and on the journey page, redrawn by its live feed.
			if err := chromedp.Do(b, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS("#version-1"))); err != nil {
				t.Fatal(err)
			}
			for sel, want := range map[string]string{
				"#goal-treated .converted":    "1",
				"#goal-holdout .converted":    "0",
				"#goal-treated td:last-child": "100.0%",
				"#step-1-reminder .passed":    "1",
				"#step-1-reminder .messages":  "sent after a hold for quiet hours: 1",
				"#count-entered":              "2",
				"#version-1 .version-counts":  "Version 1: 1 treated entered, 0 in progress, 1 converted.",
			} {
				if got := textOf(t, b, sel); got != want {
					t.Errorf("journey page %s = %q, want %q", sel, got, want)
				}
			}
			if got := textOf(t, b, "#simulated-clock"); !strings.Contains(got, "Wed 15 Jan 2031 09:00 UTC") {
				t.Errorf("the banner says %q at 09:00", got)
			}
			// Her timeline on her member page: the cart of her anonymous
			// browser, the abandonment, the reminder at 08:00, the purchase
			// and the recovery.
			if err := chromedp.Do(b, chromedp.Navigate(r.url+"/manage/members/"+ann), chromedp.WaitVisible(chromedp.CSS("#member-timeline"))); err != nil {
				t.Fatal(err)
			}
			timeline, err := chromedp.Run(b, chromedp.Evaluate[string](
				`[...document.querySelectorAll('#member-timeline li')].reverse().map(li => li.textContent.replace(/\s+/g, " ").trim()).join("\n")`))
			if err != nil {
				t.Fatal(err)
			}
			var seen []string
			for _, line := range strings.Split(timeline, "\n") {
				for _, typ := range []string{"cart_updated", journey.CartAbandoned, "sms_sent", "basket_committed", journey.CartRecovered} {
					if strings.Contains(line, " "+typ+" ·") && (typ != "sms_sent" || strings.HasPrefix(line, "15 Jan 2031 08:00")) {
						seen = append(seen, line[len("15 Jan 2031 "):len("15 Jan 2031 15:04")]+" "+typ)
					}
				}
			}
			want := "[19:30 cart_updated 21:30 cart_abandoned 08:00 sms_sent 09:00 basket_committed 09:00 cart_recovered]"
			if fmt.Sprint(seen) != want {
				t.Errorf("Ann's timeline shows %v, want %s; the page:\n%s", seen, want, timeline)
			}
		})
	}
}

// textOf is the trimmed text of the first element sel matches.
func textOf(t *testing.T, b context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(b, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("%s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// TestServe_ClockFlagIsRefusedWhenItCannotBeHonoured: a simulated clock
// with a real SMS gateway (its texts would reach real phones at simulated
// times) and a --clock perk cannot read stop perk serve before it starts.
func TestServe_ClockFlagIsRefusedWhenItCannotBeHonoured(t *testing.T) {
	for _, c := range []struct{ clock, sms, want string }{
		{"simulated", "smpp://user:secret@127.0.0.1:2775", "--clock simulated needs --sms sim or none, not smpp"},
		{"simulated:2031-01-14T19:30:00Z", "kannel://127.0.0.1:13013", "needs --sms sim or none, not kannel"},
		{"simulated:tomorrow", "sim", "--clock: \"simulated:tomorrow\": the start is not an RFC 3339 time"},
		{"fake", "none", "want real, simulated or simulated:TIME"},
	} {
		t.Run(c.clock+" "+c.sms, func(t *testing.T) {
			_, stderr, err := perk(t, []string{"PERK_DATA_DIR=" + t.TempDir()}, "serve", "--addr", "127.0.0.1:0", "--clock", c.clock, "--sms", c.sms)
			if err == nil || !strings.Contains(stderr, c.want) {
				t.Errorf("perk serve --clock %s --sms %s: %v\n%s", c.clock, c.sms, err, stderr)
			}
			if strings.Contains(stderr, "secret") {
				t.Errorf("the error shows the gateway's password:\n%s", stderr)
			}
		})
	}
}
