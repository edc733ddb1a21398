package main

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/perk-platform/perk/internal/demo"
	"github.com/perk-platform/perk/internal/testenv"
)

// viewports are the screens the console is shown on: a desktop and a phone.
var viewports = []struct {
	name          string
	width, height int64
}{{"desktop", 1280, 800}, {"phone", 360, 740}}

// TestServeDemo_InChromium starts the real binary with --demo, signs in to
// /manage as the demo's operator and looks at the pages a newcomer tours:
// the overview, the campaigns, the live campaign, a member's history and
// their card, at desktop and phone widths. Each page must show the seeded
// programme, and its screenshot is kept (docs/screenshots/README.md).
func TestServeDemo_InChromium(t *testing.T) {
	chromium := testenv.Binary(t, "PERK_TEST_CHROMIUM", "chromium", "headless Chromium")
	url, startLog, _ := serveLogged(t, []string{"PERK_DATA_DIR=" + t.TempDir()}, "--addr", "127.0.0.1:0", "--demo")
	password := logged(t, startLog, `password=(\S+)`)
	key := logged(t, startLog, `key=(perk_\S+)`)
	card := logged(t, startLog, `name="Ann Lee" card=(\S+)`)

	// The ids and figures, read through the API as a till or CRM would.
	var list struct {
		Campaigns []struct {
			ID          string `json:"id"`
			Name        string `json:"name"`
			Status      string `json:"status"`
			Redemptions int64  `json:"redemptions"`
		} `json:"campaigns"`
	}
	getJSON(t, url+"/v1/campaigns", key, &list)
	var live struct {
		ID, Name    string
		Redemptions int64
	}
	for _, c := range list.Campaigns {
		if c.Status == "active" {
			live.ID, live.Name, live.Redemptions = c.ID, c.Name, c.Redemptions
		}
	}
	if live.ID == "" || live.Redemptions == 0 {
		t.Fatalf("no live campaign with redemptions in %+v", list)
	}
	var ann struct {
		ID string `json:"id"`
	}
	getJSON(t, url+"/v1/members/07700900001", key, &ann)

	b := browser(t, chromium)
	err := chromedp.Do(b,
		chromedp.Navigate(url+"/manage/"),
		chromedp.WaitVisible(chromedp.CSS("#email")),
		chromedp.SendKeys(chromedp.CSS("#email"), demo.Operator),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS("#sign-in")),
		chromedp.WaitVisible(chromedp.CSS("#ov-redemptions")),
	)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	pages := []struct {
		name, path, ready string
		viewport          bool // screenshot the first screen only: the whole page is too long to be useful
		check             func(t *testing.T, b context.Context, body string)
	}{
		{"overview", "/manage/", "#ov-redemptions", false, func(t *testing.T, b context.Context, _ string) {
			for _, sel := range []string{"#ov-members", "#ov-campaigns", "#ov-redemptions", "#ov-sms"} {
				if n := number(t, b, sel); n <= 0 {
					t.Errorf("overview %s = %d, want more than 0", sel, n)
				}
			}
		}},
		{"campaigns", "/manage/campaigns", "main", false, func(t *testing.T, _ context.Context, body string) {
			for _, c := range list.Campaigns {
				if !strings.Contains(body, c.Name) {
					t.Errorf("campaign list lacks %q", c.Name)
				}
			}
			for _, status := range []string{"active", "ended", "scheduled", "draft"} {
				if !strings.Contains(body, status) {
					t.Errorf("campaign list shows no %s campaign", status)
				}
			}
		}},
		{"campaign-live", "/manage/campaigns/" + live.ID, "#live-redemptions", false, func(t *testing.T, b context.Context, body string) {
			if !strings.Contains(body, live.Name) {
				t.Errorf("campaign page lacks its name %q", live.Name)
			}
			if n := number(t, b, "#live-redemptions"); n != live.Redemptions {
				t.Errorf("campaign page shows %d redemptions, the API %d", n, live.Redemptions)
			}
		}},
		{"member-history", "/manage/members/" + ann.ID, "#history", true, func(t *testing.T, _ context.Context, body string) {
			for _, want := range []string{"Ann Lee", "S001"} {
				if !strings.Contains(body, want) {
					t.Errorf("member history lacks %q", want)
				}
			}
		}},
		{"member-card", strings.TrimPrefix(card, url), "#member-card", false, func(t *testing.T, _ context.Context, body string) {
			if !strings.Contains(body, "Ann Lee") {
				t.Errorf("card page lacks the member's name:\n%s", body)
			}
		}},
	}
	dir := os.Getenv("PERK_SCREENSHOT_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, v := range viewports {
		if err := chromedp.Do(b, chromedp.EmulateViewport(v.width, v.height)); err != nil {
			t.Fatal(err)
		}
		for _, p := range pages {
			t.Run(p.name+"-"+v.name, func(t *testing.T) {
				if err := chromedp.Do(b, chromedp.Navigate(url+p.path), chromedp.WaitVisible(chromedp.CSS(p.ready))); err != nil {
					t.Fatalf("%s: %v", p.path, err)
				}
				body, err := chromedp.Run(b, chromedp.Text(chromedp.CSS("body")))
				if err != nil {
					t.Fatal(err)
				}
				shoot := chromedp.FullScreenshot(100)
				if p.viewport {
					shoot = chromedp.CaptureScreenshot()
				}
				shot, err := chromedp.Run(b, shoot)
				if err != nil {
					t.Fatal(err)
				}
				p.check(t, b, body)
				cfg, err := png.DecodeConfig(bytes.NewReader(shot))
				if err != nil {
					t.Fatalf("screenshot is not a PNG: %v", err)
				}
				if cfg.Width != int(v.width) {
					t.Errorf("screenshot is %d px wide at a %d px viewport: the page scrolls sideways", cfg.Width, v.width)
				}
				file := filepath.Join(dir, p.name+"-"+v.name+".png")
				if err := os.WriteFile(file, shot, 0o644); err != nil {
					t.Fatal(err)
				}
				t.Logf("screenshot %s: %dx%d, %d KB", file, cfg.Width, cfg.Height, len(shot)/1024)
			})
		}
	}
}

// browser starts headless Chromium for one test, for at most 2 minutes.
func browser(t *testing.T, path string) context.Context {
	t.Helper()
	return browserFor(t, path, 2*time.Minute)
}

// browserFor is browser for a test whose pages take longer than 2
// minutes in all (a story of many steps on a busy machine).
func browserFor(t *testing.T, path string, limit time.Duration) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-gpu", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true), chromedp.WindowSize(1280, 800),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, limit)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// logged returns the first submatch of re in the log.
func logged(t *testing.T, log, re string) string {
	t.Helper()
	m := regexp.MustCompile(re).FindStringSubmatch(log)
	if m == nil {
		t.Fatalf("the start-up log has no %s:\n%s", re, log)
	}
	return strings.Trim(m[1], `"`)
}

func getJSON(t *testing.T, url, key string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d", url, res.StatusCode)
	}
	if err := json.NewDecoder(res.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}

// number reads the integer a page shows in sel (digits only: "1,204" is
// 1204).
func number(t *testing.T, b context.Context, sel string) int64 {
	t.Helper()
	s, err := chromedp.Run(b, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("%s: %v", sel, err)
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, s)
	n, err := strconv.ParseInt(digits, 10, 64)
	if err != nil {
		t.Fatalf("%s shows %q, not a number", sel, s)
	}
	return n
}
