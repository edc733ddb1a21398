package web_test

import (
	"bufio"
	"context"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/journey"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/variance"
	"github.com/perk-platform/perk/internal/web"
)

// varianceEnv is the harness with the variance service wired as perk serve
// wires it, and a campaign launched five hours ago whose deliveries never
// came: its target says 300 by the end of hour 3.
func varianceEnv(t *testing.T, db *store.DB) (*env, *variance.Service, string) {
	t.Helper()
	var vs *variance.Service
	e := newEnv(t, db, func(o *web.Options) {
		vs = variance.NewService(db, o.Campaigns, variance.Options{})
		o.Variance = vs
	})
	ctx := t.Context()
	for i := range 3 {
		if _, err := e.members.Enrol(ctx, member.EnrolRequest{Profile: member.Profile{Phone: fmt.Sprintf("07400 22345%d", i)},
			Channel: member.ChannelAPI, Consent: true}); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now().UTC()
	c, err := e.campaigns.Create(ctx, campaign.Spec{Name: "Stalled", Start: now.Add(-6 * time.Hour).Format(time.RFC3339),
		End: now.Add(72 * time.Hour).Format(time.RFC3339), Audience: campaign.Audience{Kind: campaign.AudienceAll},
		Message: "10% off", Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 10}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.campaigns.Launch(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	// Launched five hours ago: the queue never delivered.
	if _, err := db.W.Exec(`UPDATE campaigns SET launched_at = $2 WHERE id = $1`, c.ID, now.Add(-5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := vs.SetTarget(ctx, c.ID, variance.Delivered, []variance.TargetPoint{{Hour: 3, Cumulative: 300}}); err != nil {
		t.Fatal(err)
	}
	if _, err := vs.Check(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	return e, vs, c.ID
}

// TestVarianceAPI_FaultyCampaignIsRed: GET /v1/campaigns/{id}/variance
// (checked against docs/openapi.yaml by the harness) shows deliveries red
// with their alert; PUT a target answers with it; a bad stage is refused.
func TestVarianceAPI_FaultyCampaignIsRed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, _, id := varianceEnv(t, db)
		st, body, _ := e.do("GET", "/v1/campaigns/"+id+"/variance", auth.RoleReporting, nil)
		if st != 200 {
			t.Fatalf("variance: %d %s", st, body)
		}
		var v struct {
			Source string `json:"source"`
			Stages []struct {
				Stage string `json:"stage"`
				Worst string `json:"worst"`
			} `json:"stages"`
			Alerts []struct {
				Stage string `json:"stage"`
				Level string `json:"level"`
			} `json:"alerts"`
		}
		jsonUnmarshal(t, body, &v)
		if v.Source != "target" || len(v.Stages) != 1 || v.Stages[0].Worst != "red" || len(v.Alerts) != 1 || v.Alerts[0].Level != "red" {
			t.Fatalf("variance = %s", body)
		}
		for _, tc := range []struct {
			stage string
			want  int
		}{{"redemptions", 200}, {"visits", 422}} {
			st, body, _ := e.do("PUT", "/v1/campaigns/"+id+"/variance/targets/"+tc.stage, auth.RoleManager,
				map[string]any{"points": []map[string]any{{"hour": 24, "cumulative": 2}}})
			if st != tc.want {
				t.Errorf("PUT target %s: %d %s", tc.stage, st, body)
			}
		}
		if st, _, _ := e.do("GET", "/v1/campaigns/nope/variance", auth.RoleReporting, nil); st != 404 {
			t.Errorf("unknown campaign: %d", st)
		}
	})
}

// TestVariancePage_InChromium: a faulty campaign's page shows its
// deliveries red, the alert with its corrections, and the overview lists
// the alert; pausing from the corrections pauses it.
func TestVariancePage_InChromium(t *testing.T) {
	db := storetest.SQLite(t)
	e, _, id := varianceEnv(t, db)
	email := e.newOperator(auth.RoleManager)
	b := newBrowser(t)
	err := chromedp.Do(b,
		chromedp.Navigate(e.url+"/manage/campaigns/"+id),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), operatorPassword),
		chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS("#stage-delivered")),
	)
	if err != nil {
		t.Fatal(err)
	}
	if level := liveText(t, b, "#stage-delivered .status"); level != "red" {
		t.Errorf("deliveries shown %q, want red", level)
	}
	if got := liveText(t, b, "#variance-alerts"); !strings.Contains(got, "Messages delivered") || !strings.Contains(got, "red") {
		t.Errorf("alerts = %q", got)
	}
	if got := liveText(t, b, "#variance-findings"); !strings.Contains(got, "resend") || !strings.Contains(got, "pause") {
		t.Errorf("corrections offered = %q", got)
	}
	if got := text(t, b, "#corrections"); !strings.Contains(got, "Resend to those not delivered") || !strings.Contains(got, "Extend") {
		t.Errorf("correction forms = %q", got)
	}
	fitsWidth(t, b)
	screenshot(t, b, "variance-red-360")
	if err := chromedp.Do(b, chromedp.Click(chromedp.CSS("#fix-pause-button")), chromedp.WaitVisible(chromedp.CSS("#notice"))); err != nil {
		t.Fatal(err)
	}
	if got := text(t, b, "#campaign-status"); got != "paused" {
		t.Errorf("status after pausing from the corrections = %q", got)
	}
	if c, err := e.campaigns.Get(context.Background(), id); err != nil || c.Status != campaign.Paused {
		t.Errorf("stored status %v %v", c, err)
	}
	if err := chromedp.Do(b, chromedp.Navigate(e.url+"/manage/"), chromedp.WaitVisible(chromedp.CSS("#overview-alerts"))); err != nil {
		t.Fatal(err)
	}
	if got := text(t, b, "#overview-alerts"); !strings.Contains(got, "Stalled") || !strings.Contains(got, "red") {
		t.Errorf("overview alerts = %q", got)
	}
}

// liveText reads an element of the live panel in one script run. The
// stream may replace the panel at any time (a new hour judged, a till);
// chromedp's Text first finds the node and then reads it in a second call,
// and a node the swap took out of the page in between reads as "" (its
// script returns "" for an element that is not rendered): what CI's race
// pass saw. Within one script run the page cannot change.
func liveText(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(function () {
		var el = document.querySelector(%q);
		return el ? el.textContent.trim() : "(no " + %q + ")";
	})()`, sel, sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

// TestCampaignLiveStream_RedrawsOnlyWhatChanged: the page hands its
// panel's version to the stream, whose first message then says
// "unchanged" instead of replacing the panel with the same figures; a
// stream opened without a version (or by a page of other figures) gets the
// panel at once.
func TestCampaignLiveStream_RedrawsOnlyWhatChanged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, _, id := varianceEnv(t, db)
		c := e.signIn(auth.RoleManager)
		res, page := e.get(c, "/manage/campaigns/"+id)
		if res.StatusCode != 200 {
			t.Fatalf("page: %d", res.StatusCode)
		}
		m := regexp.MustCompile(`data-src="([^"]+)"`).FindStringSubmatch(page)
		if m == nil || !strings.Contains(m[1], "?v=") {
			t.Fatalf("no versioned stream address in the page: %v", m)
		}
		src := html.UnescapeString(m[1])
		for _, tc := range []struct {
			path, want string
		}{
			{src, ": unchanged"},
			{"/manage/campaigns/" + id + "/live", "event: report"},
			{"/manage/campaigns/" + id + "/live?v=0123", "event: report"},
		} {
			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			req, _ := http.NewRequestWithContext(ctx, "GET", e.url+tc.path, nil)
			res, err := c.Do(req)
			if err != nil {
				cancel()
				t.Fatal(err)
			}
			first, err := bufio.NewReader(res.Body).ReadString('\n')
			res.Body.Close()
			cancel()
			if err != nil || !strings.HasPrefix(first, tc.want) {
				t.Errorf("%s: first line %q (%v), want %q", tc.path, first, err, tc.want)
			}
		}
	})
}

// TestJourneyVarianceAPI: GET /v1/journeys/{name}/variance (checked
// against docs/openapi.yaml by the harness) answers a journey's view: a
// journey with no past week of entrants has no norm and judges nothing; an
// unknown journey is 404.
func TestJourneyVarianceAPI(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, func(o *web.Options) {
			o.Journeys = journey.NewService(db, journey.Options{})
			o.Variance = variance.NewService(db, o.Campaigns, variance.Options{Journeys: o.Journeys})
		})
		def := map[string]any{"name": "carts", "trigger": map[string]any{"event": "cart_abandoned"},
			"steps": []map[string]any{{"id": "wait", "wait": "2h"}, {"id": "remind", "sms": "Your cart is waiting"}}}
		if st, body, _ := e.do("PUT", "/v1/journeys/carts", auth.RoleManager, def); st != 200 && st != 201 {
			t.Fatalf("put journey: %d %s", st, body)
		}
		for _, tc := range []struct {
			path   string
			status int
			source string
		}{
			{"/v1/journeys/carts/variance", 200, "none"},
			{"/v1/journeys/nope/variance", 404, ""},
		} {
			st, body, _ := e.do("GET", tc.path, auth.RoleReporting, nil)
			if st != tc.status {
				t.Fatalf("%s: %d %s", tc.path, st, body)
			}
			if st != 200 {
				continue
			}
			var v struct {
				Journey string `json:"journey"`
				Source  string `json:"source"`
				Hours   int    `json:"hours"`
				Stages  []any  `json:"stages"`
			}
			jsonUnmarshal(t, body, &v)
			if v.Journey != "carts" || v.Source != tc.source || v.Hours != variance.JourneyWindow || len(v.Stages) != 0 {
				t.Fatalf("%s = %s", tc.path, body)
			}
		}
	})
}

// TestJourneyVarianceAPI_TargetJudgesANewJourney: PUT
// /v1/journeys/{name}/variance/targets/{stage} (checked against
// docs/openapi.yaml by the harness) sets a new journey's targets, refusing
// a stage it does not have and a point out of the window by their field;
// the view then judges the stages with a target against it, saying so per
// stage, and flags the entries red when no one entered.
func TestJourneyVarianceAPI_TargetJudgesANewJourney(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, func(o *web.Options) {
			o.Journeys = journey.NewService(db, journey.Options{})
			o.Variance = variance.NewService(db, o.Campaigns, variance.Options{Journeys: o.Journeys})
		})
		def := map[string]any{"name": "carts", "trigger": map[string]any{"event": "cart_abandoned"},
			"steps": []map[string]any{{"id": "wait", "wait": "2h"}, {"id": "remind", "sms": "Your cart is waiting"}}}
		if st, body, _ := e.do("PUT", "/v1/journeys/carts", auth.RoleManager, def); st != 200 && st != 201 {
			t.Fatalf("put journey: %d %s", st, body)
		}
		for _, tc := range []struct {
			name, path string
			points     []map[string]any
			status     int
			field      string
		}{
			{"entries", "/v1/journeys/carts/variance/targets/entered", []map[string]any{{"hour": 71, "cumulative": 432}}, 200, ""},
			{"a step per entrant", "/v1/journeys/carts/variance/targets/step:remind", []map[string]any{{"hour": 2, "cumulative": 1}}, 200, ""},
			{"a campaign's stage", "/v1/journeys/carts/variance/targets/delivered", nil, 422, "stage"},
			{"an hour past the window", "/v1/journeys/carts/variance/targets/conversions",
				[]map[string]any{{"hour": 1, "cumulative": 0.1}, {"hour": 72, "cumulative": 0.2}}, 422, "points[1].hour"},
			{"an unknown journey", "/v1/journeys/nope/variance/targets/entered", nil, 404, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				st, body, _ := e.do("PUT", tc.path, auth.RoleManager, map[string]any{"points": tc.points})
				if st != tc.status {
					t.Fatalf("%d %s, want %d", st, body, tc.status)
				}
				if tc.field != "" && !strings.Contains(string(body), `"field":"`+tc.field+`"`) {
					t.Fatalf("%s: want the field %s named", body, tc.field)
				}
				if st == 200 && !strings.Contains(string(body), `"points":[{"hour":`) {
					t.Fatalf("%s: want the stage's points back", body)
				}
			})
		}
		st, body, _ := e.do("GET", "/v1/journeys/carts/variance", auth.RoleReporting, nil)
		if st != 200 {
			t.Fatalf("variance: %d %s", st, body)
		}
		var v struct {
			Source string            `json:"source"`
			Norms  map[string]string `json:"norms"`
			Stages []struct {
				Stage string `json:"stage"`
				Worst string `json:"worst"`
			} `json:"stages"`
		}
		jsonUnmarshal(t, body, &v)
		levels := map[string]string{}
		for _, s := range v.Stages {
			levels[s.Stage] = s.Worst
		}
		if v.Source != "target" || fmt.Sprint(v.Norms) != "map[entered:target step:remind:target]" || levels["entered"] != "red" || len(levels) != 2 {
			t.Fatalf("variance = %s: want the two stages with a target judged against it, entries red", body)
		}
	})
}

// journeyVarianceEnv is the harness with a live journey "carts" whose four
// past weeks entered six members an hour who all ran its reminder two
// hours later, and whose reminder stopped running at hour 30 of the last
// three days; the variance service's clock is fixed, so every redraw
// judges the same hours.
func journeyVarianceEnv(t *testing.T, db *store.DB) (*env, *journey.Service) {
	t.Helper()
	now := time.Now().UTC()
	var js *journey.Service
	e := newEnv(t, db, func(o *web.Options) {
		js = journey.NewService(db, journey.Options{})
		o.Journeys = js
		o.Variance = variance.NewService(db, o.Campaigns, variance.Options{Journeys: js, Now: func() time.Time { return now }})
	})
	ctx := t.Context()
	def := journey.Definition{Name: "carts", Trigger: journey.Filter{Event: "cart_abandoned"},
		Steps: []journey.Step{{ID: "wait", Wait: journey.Duration(2 * time.Hour)}, {ID: "remind", SMS: "Your cart is waiting"}}}
	if _, err := js.Apply(ctx, def); err != nil {
		t.Fatal(err)
	}
	if _, err := js.Launch(ctx, "carts"); err != nil {
		t.Fatal(err)
	}
	tx, err := db.W.Begin()
	if err != nil {
		t.Fatal(err)
	}
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			t.Fatal(err)
		}
	}
	windowStart := now.Truncate(time.Hour).Add(-variance.JourneyWindow * time.Hour)
	n := 0
	for week := 4; week >= 0; week-- {
		from := windowStart.Add(-time.Duration(week) * 7 * 24 * time.Hour)
		for h := range variance.JourneyWindow {
			for k := range 6 {
				n++
				id := fmt.Sprintf("enr%05d", n)
				at := from.Add(time.Duration(h)*time.Hour + time.Duration(k*9)*time.Minute)
				exec(`INSERT INTO journey_enrolments (id, journey, version, member_id, state, trigger_seq, entered_at) VALUES ($1, 'carts', 1, $2, 'active', 0, $3)`,
					id, fmt.Sprint("m", n), at)
				remind := at.Add(2 * time.Hour)
				if remind.Before(now.Truncate(time.Hour)) && (week > 0 || remind.Before(windowStart.Add(30*time.Hour))) {
					exec(`INSERT INTO journey_steps (enrolment_id, n, journey, version, step, kind, outcome, at) VALUES ($1, 1, 'carts', 1, 'remind', 'sms', 'queued', $2)`, id, remind)
				}
			}
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return e, js
}

// TestJourneyVariancePage_InChromium: a journey whose reminder stopped
// shows the step red on its live page with the correction "stop" offered;
// stopping it from the page stops the journey; the page fits a phone and
// passes axe at 360 and 1280 px.
func TestJourneyVariancePage_InChromium(t *testing.T) {
	db := storetest.SQLite(t)
	e, js := journeyVarianceEnv(t, db)
	email := e.newOperator(auth.RoleManager)
	b := newBrowser(t)
	err := chromedp.Do(b,
		chromedp.Navigate(e.url+"/manage/journeys/carts/variance"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), operatorPassword),
		chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS("#variance-findings")),
	)
	if err != nil {
		t.Fatal(err)
	}
	if level := liveText(t, b, `[id="stage-step:remind"] .status`); level != "red" {
		t.Errorf("the reminder step shown %q, want red", level)
	}
	if level := liveText(t, b, `[id="stage-step:wait"] .status`); level != "ok" {
		t.Errorf("the wait step shown %q, want ok", level)
	}
	if got := liveText(t, b, "#variance-findings"); !strings.Contains(got, "Step remind") || !strings.Contains(got, "stop") {
		t.Errorf("findings = %q", got)
	}
	fitsWidth(t, b)
	screenshot(t, b, "journey-variance-red-360")
	checkAxeWidths(t, b, axeScript(t), "journey variance")
	if err := chromedp.Do(b, chromedp.Click(chromedp.CSS("#fix-stop-button")), chromedp.WaitVisible(chromedp.CSS("#notice"))); err != nil {
		t.Fatal(err)
	}
	if got := liveText(t, b, "#journey-status"); got != "stopped" {
		t.Errorf("status after stopping from the corrections = %q", got)
	}
	if j, err := js.Get(context.Background(), "carts"); err != nil || j.Status != journey.Stopped {
		t.Errorf("stored journey %v %v", j, err)
	}
}
