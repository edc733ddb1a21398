package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/chromedp"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/sms/router"
	"github.com/perk-platform/perk/internal/sms/sim"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/web"
	"github.com/perk-platform/perk/internal/webhook"
)

// TestShopperPagesPassAxe_InChromium walks a shopper's way through Perk
// (home, the form empty, with mistakes, signed up, the welcome page from
// the SMS link, the card, the form after too many sign-ups) and runs
// axe-core's WCAG 2.1 A and AA rules on every page.
func TestShopperPagesPassAxe_InChromium(t *testing.T) {
	axe := axeScript(t)
	db := storetest.SQLite(t)
	e := newEnv(t, db, func(o *web.Options) { o.DoubleOptIn = true; o.JoinPerMinute = 2 })
	liveCampaign(t, e, "Coffee week")
	b := newBrowser(t)
	step := func(name string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(b, actions...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkAxeWidths(t, b, axe, name)
		screenshot(t, b, "a11y-"+strings.ReplaceAll(name, " ", "-")+"-360")
	}
	step("home", chromedp.Navigate(e.url+"/"), chromedp.WaitVisible(chromedp.CSS("h1")))
	step("join", chromedp.Navigate(e.url+"/join"), chromedp.WaitVisible(chromedp.CSS("#phone")))
	step("join with errors", chromedp.SendKeys(chromedp.CSS("#phone"), "0740"), chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#error-summary")))
	step("joined", chromedp.SetValue(chromedp.CSS("#phone"), "07400 123456"), chromedp.Click(chromedp.CSS("#consent")),
		chromedp.Click(chromedp.CSS("button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#joined")))

	var msg string
	db.R.QueryRow(`SELECT body FROM sms_outbox WHERE purpose = 'confirm_optin'`).Scan(&msg)
	confirm := regexp.MustCompile(`http://perk.test(/join/confirm/\S+)`).FindStringSubmatch(msg)
	if confirm == nil {
		t.Fatalf("no confirmation link in %q", msg)
	}
	step("welcome", chromedp.Navigate(e.url+confirm[1]), chromedp.WaitVisible(chromedp.CSS("#card-link")))
	if got := text(t, b, "#card-link"); got != "Open your member card" {
		t.Errorf("welcome page link reads %q", got)
	}
	step("card", chromedp.Click(chromedp.CSS("#card-link")), chromedp.WaitVisible(chromedp.CSS("#offers")))
	step("confirmation link not valid", chromedp.Navigate(e.url+"/join/confirm/no-such-token"), chromedp.WaitVisible(chromedp.CSS("h1")))
	step("card not found", chromedp.Navigate(e.url+"/c/no-such-card"), chromedp.WaitVisible(chromedp.CSS("h1")))
	step("join rate-limited", chromedp.Navigate(e.url+"/join"), chromedp.WaitVisible(chromedp.CSS("#phone")),
		chromedp.SendKeys(chromedp.CSS("#phone"), "07400 123457"), chromedp.Click(chromedp.CSS("#consent")),
		chromedp.Click(chromedp.CSS("button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#form-problem")))
}

// TestConsolePagesPassAxe_InChromium runs axe-core's WCAG 2.1 A and AA rules
// on the sign-in page and every page of the signed-in console, each with
// something to show, and on the SMS simulator.
func TestConsolePagesPassAxe_InChromium(t *testing.T) {
	axe := axeScript(t)
	db := storetest.SQLite(t)
	// A member service of the router's own: services hold no state besides
	// the database.
	ms := member.NewService(db, member.Options{Region: "GB", PublicURL: "http://perk.test", Programme: "Test Rewards"})
	rt, err := router.New(db, ms, router.Options{Programme: "Test Rewards"})
	if err != nil {
		t.Fatal(err)
	}
	hooks := webhook.NewService(db, webhook.Options{AllowPrivate: true})
	if _, err := hooks.Create(t.Context(), webhook.Spec{URL: "http://127.0.0.1:1/crm", Description: "CRM", EventTypes: []string{"member.created"}}); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, db, func(o *web.Options) { o.Sim, o.Webhooks = web.SimOptions{Gateway: sim.New(nil), Router: rt}, hooks })
	c := liveCampaign(t, e, "Coffee week")
	enr, err := e.members.Enrol(t.Context(), member.EnrolRequest{Profile: member.Profile{Phone: "07400 123450", FirstName: "Ann"},
		Channel: member.ChannelAPI, Consent: true})
	if err != nil {
		t.Fatal(err)
	}
	st, body, _ := e.do("POST", "/v1/checkout/commit", auth.RolePOS, map[string]any{"transaction_id": "T-1", "member": string(enr.Member.Code),
		"currency": "GBP", "items": []map[string]any{{"line": 1, "sku": "TEA", "quantity": 1, "unit_price": 300}}})
	if st != http.StatusOK {
		t.Fatalf("commit: %d %s", st, body)
	}
	if st, body, _ := e.do("POST", "/v1/imports/members?filename=m.csv", auth.RoleManager, "Mobile,First Name\n07400 100001,Bo\n0740,Bad\n"); st != http.StatusAccepted {
		t.Fatalf("import: %d %s", st, body)
	}
	email := e.newOperator(auth.RoleAdmin)
	b := newBrowser(t)
	step := func(name, path, ready string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if path != "" {
			actions = append([]chromedp.Action[chromedp.Void]{chromedp.Navigate(e.url + path)}, actions...)
		}
		if err := chromedp.Do(b, append(actions, chromedp.WaitVisible(chromedp.CSS(ready)))...); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		checkAxeWidths(t, b, axe, name)
	}
	step("sign-in", "/manage/", "#email")
	step("sign-in error", "", "#login-error", chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), "not my password"), chromedp.Click(chromedp.CSS("#sign-in")))
	step("overview", "", "#overview", chromedp.SendKeys(chromedp.CSS("#password"), operatorPassword), chromedp.Click(chromedp.CSS("#sign-in")))
	for _, p := range []struct{ name, path, ready string }{
		{"campaigns", "/manage/campaigns", "#campaigns"},
		{"campaign", "/manage/campaigns/" + c.ID, "#live"},
		{"new campaign", "/manage/campaigns/new", "#campaign-form"},
		{"edit campaign", "/manage/campaigns/" + c.ID + "/edit", "#campaign-form"},
		{"members", "/manage/members?q=Ann", "#members"},
		{"member", "/manage/members/" + enr.Member.ID, "#history"},
		{"imports", "/manage/imports", "#imports"},
		{"products", "/manage/catalogue?category=drinks", "#products"},
		{"stores", "/manage/catalogue/stores", "#stores"},
		{"unknown SKUs", "/manage/catalogue/unknown", "#unknown"},
		{"webhooks", "/manage/webhooks", "#endpoints"},
		{"referrals", "/manage/referrals", "#referral-report"},
	} {
		step(p.name, p.path, p.ready)
	}
	step("new campaign with errors", "/manage/campaigns/new", "#campaign-form .error",
		chromedp.WaitVisible(chromedp.CSS("#name")), chromedp.SetValue(chromedp.CSS("#name"), "Winter warmers"),
		chromedp.SetValue(chromedp.CSS("#benefits-0-percent"), "150"), chromedp.Click(chromedp.CSS("#save")))
	step("referral settings with errors", "/manage/referrals", "#error-summary",
		chromedp.WaitVisible(chromedp.CSS("#spec")), chromedp.SetValue(chromedp.CSS("#spec"), "enabled: true\nqualify: later\n"),
		chromedp.Click(chromedp.CSS("#save")))
	step("sms simulator", "/sim", "#sim-form")
	// A mistake is said in the form's alert region, not in a dialog box.
	if err := chromedp.Do(b, chromedp.SetValue(chromedp.CSS("#sim-from"), "12"), chromedp.Click(chromedp.CSS("#sim-form button"))); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Run(b, chromedp.Poll[bool](`document.querySelector("#sim-error").textContent !== ""`)); err != nil {
		t.Fatalf("no error shown for a bad number: %v", err)
	}
	if got := text(t, b, "#sim-error"); !strings.HasPrefix(got, "from: ") {
		t.Errorf("simulator error = %q, want the field and the reason", got)
	}
	// New traffic is read out as it arrives, politely, as a log.
	if role, name := axNode(t, b, "#sim-log-region"); role != "log" || name != "Traffic" {
		t.Errorf("the simulator's traffic is a %q named %q, want a log named Traffic", role, name)
	}
	live, err := chromedp.Run(b, chromedp.Evaluate[string](`document.querySelector("#sim-log-region").getAttribute("aria-live") + " " +
		!!document.querySelector("#sim-log-region #sim-log")`))
	if err != nil || live != "polite true" {
		t.Errorf("traffic region: aria-live and the list inside = %q (%v), want polite true", live, err)
	}
}

// TestCardPage_NamesTheCodeForScreenReaders_InChromium: the card page has a
// heading, the code under a visible "Member code" label, and the barcode is
// one image named as the member code, as Chromium's accessibility tree (what
// a screen reader reads) computes them.
func TestCardPage_NamesTheCodeForScreenReaders_InChromium(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	enr, err := e.members.Enrol(t.Context(), member.EnrolRequest{Profile: member.Profile{Phone: "07400 123456", FirstName: "Ann"},
		Channel: member.ChannelAPI, Consent: true})
	if err != nil {
		t.Fatal(err)
	}
	code := string(enr.Member.Code)
	spaced := code[:4] + " " + code[4:]
	b := newBrowser(t)
	if err := chromedp.Do(b, chromedp.Navigate(e.url+"/c/"+enr.CardToken), chromedp.WaitVisible(chromedp.CSS("#member-code-label"))); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ what, sel, role, name string }{
		{"the page's heading", "h1", "heading", "Your member card"},
		{"the barcode", "#barcode img", "image", "Barcode of member code " + spaced},
		{"the code's label", "#member-code-label", "term", "Member code"},
		{"the code", "#member-code", "definition", ""},
	} {
		role, name := axNode(t, b, tt.sel)
		if role != tt.role || name != tt.name {
			t.Errorf("%s (%s) is a %q named %q, want a %q named %q", tt.what, tt.sel, role, name, tt.role, tt.name)
		}
	}
	if got := text(t, b, "#member-code-label"); got != "Member code" {
		t.Errorf("label = %q", got)
	}
	if got := text(t, b, "#member-code"); got != spaced {
		t.Errorf("code = %q, want %s", got, spaced)
	}
}

// axNode returns the role and accessible name Chromium computes for the
// first element sel matches ("" for an element left out of the tree).
func axNode(t *testing.T, ctx context.Context, sel string) (role, name string) {
	t.Helper()
	nodes, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(sel)))
	if err != nil || len(nodes) == 0 {
		t.Fatalf("%s: %v", sel, err)
	}
	no := false
	res, err := chromedp.Run(ctx, func(ctx context.Context, tg *chromedp.Target) (accessibility.GetPartialAXTreeResult, error) {
		return cdp.Call(ctx, tg, accessibility.GetPartialAXTree, accessibility.GetPartialAXTreeParams{NodeID: nodes[0].NodeID, FetchRelatives: &no})
	})
	if err != nil {
		t.Fatalf("accessibility node of %s: %v", sel, err)
	}
	if len(res.Nodes) == 0 || res.Nodes[0].Ignored {
		return "", ""
	}
	str := func(v *accessibility.Value) string {
		var s string
		if v != nil {
			json.Unmarshal(v.Value, &s)
		}
		return s
	}
	return str(res.Nodes[0].Role), str(res.Nodes[0].Name)
}

// liveCampaign launches a campaign for every member, 20% off, that runs
// until 2099.
func liveCampaign(t *testing.T, e *env, name string) *campaign.Campaign {
	t.Helper()
	c, err := e.campaigns.Create(t.Context(), campaign.Spec{Name: name, Description: "20% off every coffee",
		Start: time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), End: "2099-12-01T00:00:00Z",
		Audience: campaign.Audience{Kind: campaign.AudienceAll}, Limits: campaign.Limits{PerMember: 2},
		Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 20}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.campaigns.Launch(t.Context(), c.ID); err != nil {
		t.Fatal(err)
	}
	return c
}
