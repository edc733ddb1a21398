package web_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/money"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/web"
)

// consoleEnv is a programme with something on every console page: members
// (one with a long name), a launched campaign with a control group and
// redemptions, and an operator signed in on a browser.
type consoleEnv struct {
	*env
	b          context.Context
	campaignID string
	memberID   string
}

func newConsole(t *testing.T) *consoleEnv {
	t.Helper()
	e := newEnv(t, storetest.SQLite(t))
	ctx := t.Context()
	c, err := e.campaigns.Create(ctx, campaign.Spec{Name: "A rather long campaign name for a small screen", Start: "2026-01-01", End: "2099-01-01",
		Audience: campaign.Audience{Kind: campaign.AudienceAll}, ControlGroup: 20, Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 10}}})
	if err != nil {
		t.Fatal(err)
	}
	var memberID string
	for i := range 6 {
		enr, err := e.members.Enrol(ctx, member.EnrolRequest{Profile: member.Profile{Phone: fmt.Sprintf("07400 12345%d", i),
			FirstName: "Bartholomew-Maximilian", LastName: "Featherstonehaugh-Cholmondeley"}, Channel: member.ChannelAPI, Consent: true})
		if err != nil {
			t.Fatal(err)
		}
		memberID = enr.Member.ID
	}
	if _, err := e.campaigns.Launch(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	// The baskets are a treated member's, so the campaign redeems.
	if err := e.db.R.QueryRowContext(ctx, `SELECT id FROM members
		WHERE id NOT IN (SELECT member_id FROM campaign_members WHERE campaign_id = $1 AND control = 1) ORDER BY id LIMIT 1`,
		c.ID).Scan(&memberID); err != nil {
		t.Fatal(err)
	}
	m, err := e.members.Get(ctx, memberID)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		st, body, _ := e.do("POST", "/v1/checkout/commit", auth.RolePOS, map[string]any{"transaction_id": fmt.Sprintf("T-%d", i), "member": string(m.Code),
			"currency": "GBP", "items": []map[string]any{{"line": 1, "sku": "TEA", "quantity": 2, "unit_price": 1250}}})
		if st != 200 {
			t.Fatalf("commit: %d %s", st, body)
		}
	}
	return &consoleEnv{env: e, b: e.browse(t, auth.RoleAdmin, 360, "/manage/", "#overview"), campaignID: c.ID, memberID: memberID}
}

// browse starts a browser window width px wide, opens path, signs in as a
// new operator of role and waits for ready.
func (e *env) browse(t *testing.T, role auth.Role, width int64, path, ready string) context.Context {
	t.Helper()
	b := newBrowser(t)
	email := e.newOperator(role)
	if err := chromedp.Do(b, chromedp.EmulateViewport(width, 900), chromedp.Navigate(e.url+path), chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), email), chromedp.SendKeys(chromedp.CSS("#password"), operatorPassword),
		chromedp.Click(chromedp.CSS("#sign-in")), chromedp.WaitVisible(chromedp.CSS(ready))); err != nil {
		t.Fatalf("sign in to %s: %v", path, err)
	}
	return b
}

// open loads a console page at a window width and waits for ready.
func (c *consoleEnv) open(t *testing.T, width int, path, ready string) {
	t.Helper()
	if err := chromedp.Do(c.b, chromedp.EmulateViewport(int64(width), 900), chromedp.Navigate(c.url+path),
		chromedp.WaitVisible(chromedp.CSS(ready))); err != nil {
		t.Fatalf("%s at %d px: %v", path, width, err)
	}
}

type box struct{ Left, Right, Top, Bottom float64 }

func (c *consoleEnv) box(t *testing.T, sel string) box {
	t.Helper()
	b, err := chromedp.Run(c.b, chromedp.Evaluate[box](fmt.Sprintf(`(() => { const r = document.querySelector(%q).getBoundingClientRect();
		return {Left: r.left, Right: r.right, Top: r.top, Bottom: r.bottom}; })()`, sel)))
	if err != nil {
		t.Fatalf("box of %s: %v", sel, err)
	}
	return b
}

// besides reports whether a and b sit side by side: one wholly left of the
// other, on rows that overlap.
func besides(a, b box) bool {
	return (a.Right <= b.Left || b.Right <= a.Left) && a.Top < b.Bottom && b.Top < a.Bottom
}

// TestConsole_WideScreenPutsNavigationAndChartsBesideContent_InChromium: at
// 1280 px the navigation is a column beside the page, and each report's
// table sits beside its chart.
func TestConsole_WideScreenPutsNavigationAndChartsBesideContent_InChromium(t *testing.T) {
	c := newConsole(t)
	for _, p := range []struct {
		name, path, ready string
		left, right       string // a pair that must sit side by side, in either order
		shot              string
	}{
		{"overview: new members table beside its chart", "/manage/", "#overview", "#new-by-day", "svg.chart", "console-overview-1280"},
		{"campaign: uplift table beside the delivery and redemption chart", "/manage/campaigns/" + c.campaignID, "#live", "#uplift", "#live svg.chart", "console-campaign-1280"},
		{"member: profile and ledger beside the history", "/manage/members/" + c.memberID, "#history", "#profile", "#history", "console-member-1280"},
		{"campaign form: two columns of fieldsets", "/manage/campaigns/new", "#campaign-form", "#campaign-basics", "#campaign-kind", "console-new-campaign-1280"},
		{"campaigns list", "/manage/campaigns", "#campaigns", ".manage-nav", "#campaigns", "console-campaigns-1280"},
	} {
		t.Run(p.name, func(t *testing.T) {
			c.open(t, 1280, p.path, p.ready)
			if nav, main := c.box(t, ".manage-nav"), c.box(t, ".console-main"); !besides(nav, main) {
				t.Errorf("navigation %+v is not beside the content %+v", nav, main)
			}
			if l, r := c.box(t, p.left), c.box(t, p.right); !besides(l, r) {
				t.Errorf("%s %+v is not beside %s %+v", p.left, l, p.right, r)
			}
			if w, _ := chromedp.Run(c.b, chromedp.Evaluate[int]("document.documentElement.scrollWidth")); w > 1280 {
				t.Errorf("page is %d px wide at 1280 px", w)
			}
			if p.shot != "" {
				screenshot(t, c.b, p.shot)
			}
		})
	}
}

// brokenWords lists the words of table cells and tiles that the browser
// split over two lines (a word is a run without spaces or hyphens, so
// "Bartholomew-Maximilian" may break at its hyphen, "Redemptions" nowhere).
const brokenWords = `(() => {
  const broken = [];
  for (const cell of document.querySelectorAll("th, td, .tile, .manage-nav a, .page-head")) {
    const walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);
    for (let n = walk.nextNode(); n; n = walk.nextNode()) {
      const word = /[^\s\-–]+/g;
      for (let m; (m = word.exec(n.data)); ) {
        const r = document.createRange();
        r.setStart(n, m.index);
        r.setEnd(n, m.index + m[0].length);
        const lines = new Set([...r.getClientRects()].filter(b => b.width > 0).map(b => Math.round(b.top)));
        if (lines.size > 1) broken.push(cell.tagName.toLowerCase() + ": " + m[0]);
      }
    }
  }
  return broken;
})()`

// overflowing lists the elements that reach past the right edge of the
// viewport other than inside a box that scrolls sideways.
const overflowing = `(() => {
  const out = [];
  const scrolls = el => { for (let p = el.parentElement; p; p = p.parentElement) {
    if (getComputedStyle(p).overflowX === "auto" || getComputedStyle(p).overflowX === "scroll") return true; } return false; };
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.width > 0 && r.right > window.innerWidth + 0.5 && !scrolls(el)) out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : ""));
  }
  return out;
})()`

// TestConsole_PhoneScreenBreaksNoWordAndScrollsOnlyTables_InChromium: at
// 360 px every console page is one column, no header or cell is split
// inside a word ("Redem ptions"), and only table boxes scroll sideways.
func TestConsole_PhoneScreenBreaksNoWordAndScrollsOnlyTables_InChromium(t *testing.T) {
	c := newConsole(t)
	for _, p := range []struct{ path, ready, shot string }{
		{"/manage/", "#overview", "console-overview-360"},
		{"/manage/campaigns", "#campaigns", "console-campaigns-360"},
		{"/manage/campaigns/new", "#campaign-form", "console-new-campaign-360"},
		{"/manage/campaigns/" + c.campaignID, "#per-store", "console-campaign-360"},
		{"/manage/campaigns/" + c.campaignID + "/edit", "#campaign-form", "console-edit-campaign-360"},
		{"/manage/members?q=Bart", "#members", "console-members-360"},
		{"/manage/members/" + c.memberID, "#history", "console-member-360"},
		{"/manage/imports", "#imports", "console-imports-360"},
	} {
		t.Run(p.path, func(t *testing.T) {
			c.open(t, 360, p.path, p.ready)
			fitsWidth(t, c.b)
			broken, err := chromedp.Run(c.b, chromedp.Evaluate[[]string](brokenWords))
			if err != nil {
				t.Fatal(err)
			}
			if len(broken) > 0 {
				t.Errorf("words split over two lines: %q", broken)
			}
			over, err := chromedp.Run(c.b, chromedp.Evaluate[[]string](overflowing))
			if err != nil {
				t.Fatal(err)
			}
			if len(over) > 0 {
				t.Errorf("past the right edge outside a scroll box: %q", over)
			}
			if nav, main := c.box(t, ".manage-nav"), c.box(t, ".console-main"); nav.Bottom > main.Top {
				t.Errorf("navigation %+v is not above the content %+v on a phone", nav, main)
			}
			screenshot(t, c.b, p.shot)
		})
	}
}

// TestCampaignForm_EditShowsEveryFieldAndSavesItUnchanged_InChromium: the
// edit form is filled with the whole spec (every benefit, the days, the
// filter ...), so saving it untouched leaves the campaign as it was.
func TestCampaignForm_EditShowsEveryFieldAndSavesItUnchanged_InChromium(t *testing.T) {
	for _, tt := range []struct{ json, heading, shot string }{
		{everyFieldJSON, "Edit Weekend treats API", "console-edit-every-field-1280"},
		{everyFieldNBOJSON, "Edit Picks API", "console-edit-next-best-offer-1280"},
	} {
		e := newEnv(t, storetest.SQLite(t), func(o *web.Options) { o.Currency = money.MustCurrency("GBP") })
		before := e.createByAPI(tt.json)
		b := e.browse(t, auth.RoleManager, 1280, "/manage/campaigns/"+before.ID+"/edit", "#campaign-form")
		if got := text(t, b, "h1"); got != tt.heading {
			t.Errorf("heading = %q, want %q", got, tt.heading)
		}
		screenshot(t, b, tt.shot)
		if err := chromedp.Do(b, chromedp.Click(chromedp.CSS("#save")), chromedp.WaitVisible(chromedp.CSS("#campaign-name"))); err != nil {
			t.Fatal(err)
		}
		after, err := e.campaigns.Get(t.Context(), before.ID)
		if err != nil {
			t.Fatal(err)
		}
		sameSpec(t, "saved unchanged, the campaign became", after.Spec, "was", before.Spec)
	}
}

// TestCampaignForm_BenefitRowShowsTheFieldsOfItsKind_InChromium: a benefit
// row shows the inputs its kind uses, follows a change of kind, never hides
// an input that holds a value, and a blank row shows only its kind.
func TestCampaignForm_BenefitRowShowsTheFieldsOfItsKind_InChromium(t *testing.T) {
	c := newConsole(t)
	c.open(t, 360, "/manage/campaigns/new", "#campaign-form")
	shown := func(sel string) bool {
		t.Helper()
		v, err := chromedp.Run(c.b, chromedp.Evaluate[bool](fmt.Sprintf(`document.querySelector(%q).offsetParent !== null`, sel)))
		if err != nil {
			t.Fatalf("%s: %v", sel, err)
		}
		return v
	}
	check := func(step string, want map[string]bool) {
		t.Helper()
		for sel, w := range want {
			if got := shown(sel); got != w {
				t.Errorf("%s: %s shown = %v, want %v", step, sel, got, w)
			}
		}
	}
	check("percent off", map[string]bool{"#benefits-0-percent": true, "#benefits-0-scope-skus": true, "#benefits-0-amount": false,
		"#benefits-0-pool": false, "#benefits-1-kind": true, "#benefits-1-percent": false, "#benefits-1-description": false})
	if err := chromedp.Do(c.b, chromedp.SetValue(chromedp.CSS("#benefits-0-kind"), "free_content")); err != nil {
		t.Fatal(err)
	}
	check("free content, its percent still typed", map[string]bool{"#benefits-0-pool": true, "#benefits-0-percent": true,
		"#benefits-0-scope-skus": false, "#benefits-0-amount": false})
}
