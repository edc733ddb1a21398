package web_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
)

// newBrowser starts headless Debian Chromium with a phone-sized window. It
// needs PERK_TEST_CHROMIUM or chromium on PATH.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	path := testenv.Binary(t, "PERK_TEST_CHROMIUM", "chromium", "headless Chromium")
	// Chromium's own output goes to a file, shown when the test fails: a
	// browser that dies (one segfaulted under -race in CI) says why there.
	logPath := filepath.Join(t.TempDir(), "chromium.log")
	out, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(360, 800), chromedp.CombinedOutput(out),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc()
		out.Close()
		if t.Failed() {
			logTail(t, logPath, 40)
		}
	})
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 740)); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// logTail logs the last n lines of the file at path.
func logTail(t *testing.T, path string, n int) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil || len(b) == 0 {
		return
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	t.Logf("the last %d lines of chromium's output:\n%s", len(lines), strings.Join(lines, "\n"))
}

// screenshot saves a full-page PNG in the test's temp dir, or in
// PERK_SCREENSHOT_DIR when set (so CI or a person can look at it).
func screenshot(t *testing.T, ctx context.Context, name string) string {
	t.Helper()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	dir := os.Getenv("PERK_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	os.MkdirAll(dir, 0o755)
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	if len(png) < 1000 {
		t.Fatalf("screenshot %s is only %d bytes", p, len(png))
	}
	t.Logf("screenshot: %s", p)
	return p
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// fitsWidth fails the test if the page scrolls sideways at 360 px.
func fitsWidth(t *testing.T, ctx context.Context) {
	t.Helper()
	w, err := chromedp.Run(ctx, chromedp.Evaluate[int]("document.documentElement.scrollWidth"))
	if err != nil {
		t.Fatal(err)
	}
	if w > 360 {
		t.Errorf("page is %d px wide at a 360 px viewport", w)
	}
}

func TestCardPage_InChromium(t *testing.T) {
	db := storetest.SQLite(t)
	e := newEnv(t, db)
	enr, err := e.members.Enrol(t.Context(), member.EnrolRequest{Profile: member.Profile{Phone: "07400 123456",
		FirstName: "Siân", LastName: "O'Brien"}, Channel: member.ChannelAPI, Consent: true})
	if err != nil {
		t.Fatal(err)
	}
	ctx := newBrowser(t)
	if err := chromedp.Do(ctx, chromedp.Navigate(e.url+"/c/"+enr.CardToken), chromedp.WaitVisible(chromedp.CSS("#member-card"))); err != nil {
		t.Fatal(err)
	}
	code := string(enr.Member.Code)
	if got := text(t, ctx, "#member-name"); got != "Siân O'Brien" {
		t.Errorf("name = %q", got)
	}
	if got := text(t, ctx, "#member-code"); got != code[:4]+" "+code[4:] {
		t.Errorf("code = %q, want %s", got, code)
	}
	drawn, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(i => i.complete && i.naturalWidth > 0)(document.querySelector("#barcode img"))`))
	if err != nil || !drawn {
		t.Errorf("barcode image not drawn (%v)", err)
	}
	width, _ := chromedp.Run(ctx, chromedp.Evaluate[float64](`document.querySelector("#barcode img").getBoundingClientRect().width`))
	if width < 200 {
		t.Errorf("barcode is %.0f px wide: too small to scan from a phone", width)
	}
	external, _ := chromedp.Run(ctx, chromedp.Evaluate[int](
		`[...document.querySelectorAll("[src],[href]")].filter(e => !(e.src||e.href).startsWith(location.origin) && !(e.src||e.href).startsWith("data:")).length`))
	if external != 0 {
		t.Errorf("%d external assets on the card page", external)
	}
	fitsWidth(t, ctx)
	screenshot(t, ctx, "card-page-360")

	// A revoked link stops working at once.
	if _, err := e.members.ReissueCardToken(t.Context(), enr.Member.ID); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(e.url+"/c/"+enr.CardToken)); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, "h1"); got != "Card not found" {
		t.Errorf("revoked link shows %q", got)
	}
}

func TestJoinForm_InChromium(t *testing.T) {
	db := storetest.SQLite(t)
	e := newEnv(t, db)
	ctx := newBrowser(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.url+"/join"),
		chromedp.WaitVisible(chromedp.CSS("#phone")),
		chromedp.SendKeys(chromedp.CSS("#phone"), "020 7946 0018"),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
	)
	if err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#phone-error"))); err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, "#phone-error"); !strings.Contains(got, "not a mobile number") {
		t.Errorf("phone error = %q", got)
	}
	if got := text(t, ctx, ".consent + .error"); !strings.Contains(got, "Tick the box") {
		t.Errorf("consent error = %q", got)
	}
	fitsWidth(t, ctx)
	screenshot(t, ctx, "join-errors-360")

	if _, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("#phone").value = ""`)); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#phone"), "07400 123456"),
		chromedp.SendKeys(chromedp.CSS("#first_name"), "Ann"),
		chromedp.Click(chromedp.CSS("input[name=consent]")),
		chromedp.Click(chromedp.CSS("button[type=submit]")),
		chromedp.WaitVisible(chromedp.CSS("#joined")),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := text(t, ctx, "h1"); got != "Check your phone" {
		t.Errorf("heading = %q", got)
	}
	fitsWidth(t, ctx)
	screenshot(t, ctx, "join-done-360")
	m, err := e.members.ByPhone(t.Context(), "07400123456")
	if err != nil || m.Channel != member.ChannelWeb || m.Status != member.StatusActive {
		t.Fatalf("member after web sign-up: %+v, %v", m, err)
	}
	// The card went by text, not on the page.
	var welcome string
	db.R.QueryRow(`SELECT body FROM sms_outbox WHERE member_id = $1 AND purpose = 'welcome'`, m.ID).Scan(&welcome)
	link := regexp.MustCompile(`http://perk.test/c/\S+`).FindString(welcome)
	token := strings.TrimPrefix(link, "http://perk.test/c/")
	if byToken, err := e.members.ByCardToken(t.Context(), token); err != nil || byToken.ID != m.ID {
		t.Fatalf("card link %q does not lead to the member: %v", link, err)
	}
}

func TestCardPageShowsPointsAndOffers_InChromium(t *testing.T) {
	db := storetest.SQLite(t)
	e := newEnv(t, db)
	ctx := t.Context()
	enr, err := e.members.Enrol(ctx, member.EnrolRequest{Profile: member.Profile{Phone: "07400 123456", FirstName: "Ann"},
		Channel: member.ChannelAPI, Consent: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.ledger.Adjust(ctx, enr.Member.ID, 250, "welcome bonus", "test"); err != nil {
		t.Fatal(err)
	}
	c, err := e.campaigns.Create(ctx, campaign.Spec{Name: "Coffee week", Description: "20% off every coffee",
		Start: time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), End: "2099-12-01T00:00:00Z",
		Audience: campaign.Audience{Kind: campaign.AudienceAll}, Limits: campaign.Limits{PerMember: 2},
		Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 20}}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.campaigns.Launch(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	b := newBrowser(t)
	if err := chromedp.Do(b, chromedp.Navigate(e.url+"/c/"+enr.CardToken), chromedp.WaitVisible(chromedp.CSS("#wallet"))); err != nil {
		t.Fatal(err)
	}
	if got := text(t, b, "#points-available"); got != "250" {
		t.Errorf("points = %q", got)
	}
	offer := text(t, b, "#offers .offer")
	for _, want := range []string{"Coffee week", "20% off every coffee", "Until 30 November", "2 uses left"} {
		if !strings.Contains(offer, want) {
			t.Errorf("offer %q lacks %q", offer, want)
		}
	}
	fitsWidth(t, b)
	screenshot(t, b, "card-wallet-360")
}

// TestCampaignManager_InChromium: a manager signs in with email and password
// (first mistyped), fills the campaign form (first with a mistake the form
// names), launches the campaign and simulates it, on a 360 px phone screen.
func TestCampaignManager_InChromium(t *testing.T) {
	db := storetest.SQLite(t)
	e := newEnv(t, db)
	var codes []string
	for i := range 3 {
		enr, err := e.members.Enrol(t.Context(), member.EnrolRequest{Profile: member.Profile{Phone: fmt.Sprintf("07400 12345%d", i), FirstName: "Ann"},
			Channel: member.ChannelAPI, Consent: true})
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, string(enr.Member.Code))
	}
	email := e.newOperator(auth.RoleManager)
	b := newBrowser(t)
	err := chromedp.Do(b,
		chromedp.Navigate(e.url+"/manage/campaigns/new"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), "not my password"),
		chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS("#login-error")),
	)
	if err != nil {
		t.Fatal(err)
	}
	fitsWidth(t, b)
	screenshot(t, b, "manager-login-error-360")
	err = chromedp.Do(b,
		chromedp.SendKeys(chromedp.CSS("#password"), operatorPassword), // the page came back with the email only
		chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS("#campaign-form")),
		chromedp.SendKeys(chromedp.CSS("#name"), "Winter warmers"),
		chromedp.SetValue(chromedp.CSS("#benefits-0-percent"), "150"),
		chromedp.Click(chromedp.CSS("#save")),
		chromedp.WaitVisible(chromedp.CSS("#campaign-form .error")),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := text(t, b, "#campaign-form .error"); !strings.Contains(got, "percent") {
		t.Errorf("error for 150%% = %q", got)
	}
	fitsWidth(t, b)
	screenshot(t, b, "manager-form-error-360")
	err = chromedp.Do(b,
		chromedp.SetValue(chromedp.CSS("#benefits-0-percent"), "15"),
		chromedp.SetValue(chromedp.CSS("#message"), "{{.FirstName}}, 15% off warm drinks: {{.CardURL}}"),
		chromedp.Click(chromedp.CSS("#save")),
		chromedp.WaitVisible(chromedp.CSS("#launch")),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := text(t, b, "#campaign-status"); got != "draft" {
		t.Errorf("status = %q", got)
	}
	if got := text(t, b, "#audience-count"); !strings.HasPrefix(got, "3 members") {
		t.Errorf("audience = %q", got)
	}
	if err := chromedp.Do(b, chromedp.Click(chromedp.CSS("#launch")), chromedp.WaitVisible(chromedp.CSS("#notice"))); err != nil {
		t.Fatal(err)
	}
	if got := text(t, b, "#notice"); !strings.Contains(got, "3 announcements queued") {
		t.Errorf("notice = %q", got)
	}
	if got := text(t, b, "#campaign-status"); got != "active" {
		t.Errorf("status after launch = %q", got)
	}
	if err := chromedp.Do(b, chromedp.Click(chromedp.CSS("#simulate")), chromedp.WaitVisible(chromedp.CSS("#simulation"))); err != nil {
		t.Fatal(err)
	}
	fitsWidth(t, b)
	screenshot(t, b, "manager-campaign-360")
	var queued int
	db.R.QueryRow(`SELECT COUNT(*) FROM sms_outbox WHERE purpose = 'campaign'`).Scan(&queued)
	if queued != 3 {
		t.Errorf("%d announcements queued, want 3", queued)
	}

	// A till commits a basket; the open page counts the redemption without
	// a reload.
	if got := text(t, b, "#live-redemptions"); got != "0" {
		t.Fatalf("redemptions before the sale = %q", got)
	}
	st, body, _ := e.do("POST", "/v1/checkout/commit", auth.RolePOS, map[string]any{"transaction_id": "T-1", "member": codes[0], "currency": "GBP",
		"items": []map[string]any{{"line": 1, "sku": "TEA", "quantity": 1, "unit_price": 300}}})
	if st != 200 {
		t.Fatalf("commit: %d %s", st, body)
	}
	wait, cancel := context.WithTimeout(b, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Run(wait, chromedp.Poll[bool](`document.querySelector("#live-redemptions").textContent === "1"`)); err != nil {
		t.Fatalf("the page did not show the redemption: %v (shows %q)", err, text(t, b, "#live-redemptions"))
	}
	if got := text(t, b, "#live-discount"); got != "0.45" {
		t.Errorf("discount shown %q, want 0.45", got)
	}
	screenshot(t, b, "manager-campaign-live-360")
}
