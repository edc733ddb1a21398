package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/journey"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// followup is a journey with every structure the page must make readable:
// a wait, a wait for an event with both ways out, a branch, a text and an
// exit. Version 2 shortens the wait.
const followup = `{"name":"coffee-followup","description":"Follow up a coffee cart","trigger":{"event":"cart_updated"},
"goal":{"event":"basket_committed","within":"72h"},"holdout":10,
"steps":[{"id":"pause","wait":"1h"},
{"id":"await","wait_for":{"event":"page_viewed","timeout":"2h","on_event":"nudge","on_timeout":"check"}},
{"id":"check","branch":{"if":{"event_seen":"order_placed"},"then":"done"}},
{"id":"nudge","sms":"Your coffee is waiting: {{.CardURL}}"},
{"id":"done","exit":true}]}`

// journeyPagesEnv has the built-in journey untouched and coffee-followup
// in two versions at 22:00 London time: three treated members entered
// version 1 (one texted, the text held for quiet hours; two still waiting
// for an event), then version 2 took one more, at its first wait.
func journeyPagesEnv(t *testing.T, db *store.DB) *abandonEnv {
	t.Helper()
	a := newAbandonEnv(t, db, time.Date(2031, 1, 14, 19, 0, 0, 0, time.UTC))
	put := func(def string) {
		if st, body, _ := a.do("PUT", "/v1/journeys/coffee-followup", auth.RoleManager, def); st != http.StatusOK {
			t.Fatalf("PUT journey: %d %s", st, body)
		}
	}
	put(followup)
	if st, body, _ := a.do("POST", "/v1/journeys/coffee-followup/launch", auth.RoleManager, nil); st != http.StatusOK {
		t.Fatalf("launch: %d %s", st, body)
	}
	cart := func(id string, memberID string) {
		if st, body, _ := a.do("POST", "/v1/events", auth.RolePOS, fmt.Sprintf(`{"events":[{"event_id":%q,"type":"cart_updated",
			"time":%q,"channel":"app","member":%q,"properties":{"items":[{"sku":"COF","quantity":1,"price":350}]}}]}`,
			id, a.clk.Now().Format(time.RFC3339), memberID)); st != 200 || !strings.Contains(string(body), `"accepted":1`) {
			t.Fatalf("cart: %d %s", st, body)
		}
	}
	var treated []string
	for i := 0; len(treated) < 4; i++ {
		m := a.member(fmt.Sprint("M", i), false, 100+i*20)
		if !journey.InHoldout("coffee-followup", m.ID, 10) {
			treated = append(treated, m.ID)
		}
	}
	a.tick()
	for i, m := range treated[:3] {
		cart(fmt.Sprint("c", i), m)
	}
	a.tick()                    // 19:00: they enter version 1
	a.advance(90 * time.Minute) // 20:30: all three wait for a page view
	if st, body, _ := a.do("POST", "/v1/events", auth.RolePOS, fmt.Sprintf(`{"events":[{"event_id":"pv","type":"page_viewed",
		"time":%q,"channel":"web","member":%q,"properties":{"url":"https://shop.test/coffee"}}]}`, a.clk.Now().Format(time.RFC3339), treated[0])); st != 200 ||
		!strings.Contains(string(body), `"accepted":1`) {
		t.Fatalf("page view: %d %s", st, body)
	}
	a.clk.Advance(time.Hour) // 21:30: the first is texted, within quiet hours
	a.tick()
	put(strings.Replace(followup, `"wait":"1h"`, `"wait":"30m"`, 1))
	cart("c3", treated[3])
	a.tick()
	return a
}

// TestJourneyPages_CountsAreTheAPIsAndTheServices: every figure the
// journey page shows is the one GET /v1/journeys/{name}/counts answers,
// which is journey.Service.Counts (perk journeys counts prints it too:
// TestCLI_JourneyCountsAreTheServiceCounts).
func TestJourneyPages_CountsAreTheAPIsAndTheServices(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := journeyPagesEnv(t, db)
		rep, err := a.journeys.Counts(t.Context(), "coffee-followup")
		if err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(rep)
		st, got, _ := a.do("GET", "/v1/journeys/coffee-followup/counts", auth.RoleReporting, nil)
		if st != 200 || strings.TrimSpace(string(got)) != string(want) {
			t.Errorf("API counts\n%s\nservice counts\n%s", got, want)
		}
		c := a.signIn(auth.RoleReporting)
		res, page := a.get(c, "/manage/journeys/coffee-followup")
		if res.StatusCode != 200 {
			t.Fatalf("page: %d", res.StatusCode)
		}
		cell := func(row, class string) string {
			m := regexp.MustCompile(`id="` + row + `"[^\n]*?class="[^"]*\b` + class + `"[^>]*>([^<]*)<`).FindStringSubmatch(page)
			if m == nil {
				return "missing"
			}
			return m[1]
		}
		for _, s := range rep.Steps {
			row := fmt.Sprintf("step-%d-%s", s.Version, s.Step)
			for _, c := range []struct{ class, want string }{{"at", fmt.Sprint(s.At)}, {"passed", fmt.Sprint(s.Passed)}} {
				if got := cell(row, c.class); got != c.want {
					t.Errorf("page %s %s = %s, counts say %s", row, c.class, got, c.want)
				}
			}
		}
		for _, c := range []struct{ id, want string }{
			{`count-entered">`, fmt.Sprint(rep.Entered)}, {`count-active">`, fmt.Sprint(rep.Active)},
			{`journey-version">`, fmt.Sprint(rep.Version)},
		} {
			if !strings.Contains(page, c.id+c.want+"<") {
				t.Errorf("page lacks %s%s", c.id, c.want)
			}
		}
		for _, v := range rep.Versions {
			if s := fmt.Sprintf("Version %d: %d treated entered, %d in progress, %d converted.", v.Version, v.Entered, v.Active, v.Converted); !strings.Contains(page, s) {
				t.Errorf("page lacks %q", s)
			}
		}
		// The page leads to the journey's variance view, which answers.
		if !strings.Contains(page, `href="/manage/journeys/coffee-followup/variance"`) {
			t.Errorf("the journey page does not link its variance view")
		} else if res, _ := a.get(c, "/manage/journeys/coffee-followup/variance"); res.StatusCode != 200 {
			t.Errorf("variance view: %d", res.StatusCode)
		}
		// The list's figures are the same function's.
		_, list := a.get(c, "/manage/journeys")
		if s := fmt.Sprintf(`<td class="num version">%d</td><td class="num entered">%d</td><td class="num active">%d</td>`, rep.Version, rep.Entered, rep.Active); !strings.Contains(list, s) {
			t.Errorf("list lacks %s", s)
		}
		// What the setup arranged, so the comparison above compares something.
		if rep.Entered != 4 || rep.Version != 2 || len(rep.Versions) != 2 {
			t.Errorf("setup: %s", want)
		}
	})
}

// TestJourneyPages_InChromium: the list links each journey; a journey's page
// shows its steps in order per version, with the wait for an event and the
// branch saying where they go, who is at and past each step, the held
// text with its reason, and the goal against the holdout; both pass axe at
// a phone's width and a desktop's, and the console's navigation leads there.
func TestJourneyPages_InChromium(t *testing.T) {
	axe := axeScript(t)
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		a := journeyPagesEnv(t, db)
		email := a.newOperator(auth.RoleReporting)
		b := newBrowser(t)
		if err := chromedp.Do(b, chromedp.Navigate(a.url+"/manage/"), chromedp.WaitVisible(chromedp.CSS("#email")),
			chromedp.SendKeys(chromedp.CSS("#email"), email), chromedp.SendKeys(chromedp.CSS("#password"), operatorPassword),
			chromedp.Click(chromedp.CSS("#sign-in")), chromedp.WaitVisible(chromedp.CSS("#overview")),
			chromedp.Click(chromedp.CSS(`nav a[href="/manage/journeys"]`)), chromedp.WaitVisible(chromedp.CSS("#journeys"))); err != nil {
			t.Fatal(err)
		}
		checkAxeWidths(t, b, axe, "journeys")
		if got := text(t, b, `#journeys tr[data-journey="cart-abandonment"] .status`); got != "live" {
			t.Errorf("the built-in journey is %q, want live", got)
		}
		if got := text(t, b, `#journeys tr[data-journey="coffee-followup"]`); !strings.Contains(got, "coffee-followup") || !strings.Contains(got, "0 of 4 treated") {
			t.Errorf("coffee-followup row = %q", got)
		}
		if err := chromedp.Do(b, chromedp.Click(chromedp.CSS(`a[href="/manage/journeys/coffee-followup"]`)),
			chromedp.WaitVisible(chromedp.CSS("#version-2"))); err != nil {
			t.Fatal(err)
		}
		checkAxeWidths(t, b, axe, "journey")
		for sel, want := range map[string]string{
			"#version-2-title":           "Version 2 (live)",
			"#version-1-title":           "Version 1",
			"#step-2-pause .does":        "wait 30m",
			"#step-2-pause .at":          "1",
			"#step-1-await .does":        "wait for page_viewed up to 2h: on the event → nudge, on timeout → check",
			"#step-1-await .at":          "2",
			"#step-1-await .passed":      "1",
			"#step-1-check .does":        "if seen order_placed since entering → done, else → next",
			"#step-1-nudge .messages":    "queued, held for quiet hours: 1",
			"#step-1-done .passed":       "1",
			"#count-entered":             "4",
			"#goal-treated td.num":       "4",
			"#version-1 .version-counts": "Version 1: 3 treated entered, 2 in progress, 0 converted.",
		} {
			if got := text(t, b, sel); got != want {
				t.Errorf("%s = %q, want %q", sel, got, want)
			}
		}
		// Steps read in order.
		order, err := chromedp.Run(b, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#version-1 tbody tr")].map(r => r.dataset.step)`))
		if err != nil || fmt.Sprint(order) != "[pause await check nudge done]" {
			t.Errorf("version 1's steps in the order %v (%v)", order, err)
		}
		fitsWidth(t, b)
		screenshot(t, b, "journey-page-"+string(db.Dialect))
	})
}
