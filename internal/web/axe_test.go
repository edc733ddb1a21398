package web_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/perk-platform/perk/internal/testenv"
)

// axeTags are the rule sets the pages are held to: WCAG 2.0 and 2.1, levels
// A and AA.
const axeTags = `['wcag2a','wcag2aa','wcag21a','wcag21aa']`

// axeScript returns axe-core's browser bundle from the node_modules folder
// named by PERK_TEST_AXE_NODE_MODULES (.ci/run installs it from npm),
// skipping the test without it (failing under CI=true).
func axeScript(t *testing.T) string {
	t.Helper()
	dir := testenv.Env(t, "PERK_TEST_AXE_NODE_MODULES", "axe-core (npm) for the accessibility checks")
	b, err := os.ReadFile(filepath.Join(dir, "axe-core", "axe.min.js"))
	if err != nil {
		t.Fatalf("PERK_TEST_AXE_NODE_MODULES=%s: %v (npm install axe-core there)", dir, err)
	}
	return string(b)
}

// axeViolation is what the test reports of one failed axe rule.
type axeViolation struct {
	ID     string     `json:"id"`
	Impact string     `json:"impact"`
	Help   string     `json:"help"`
	Nodes  []axeNodes `json:"nodes"`
}

type axeNodes struct {
	Target  []any  `json:"target"` // selectors; an iframe or shadow DOM path is a nested list
	Summary string `json:"summary"`
}

// checkAxe runs axe-core on the page the browser shows and fails the test
// with every violation: its rule, impact and the nodes it found.
func checkAxe(t *testing.T, ctx context.Context, axe, page string) {
	t.Helper()
	found, err := axeRun(ctx, axe)
	if err != nil {
		t.Fatalf("%s: %v", page, err)
	}
	for _, v := range found {
		var nodes []string
		for _, n := range v.Nodes {
			nodes = append(nodes, fmt.Sprintf("    %v: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " ")))
		}
		t.Errorf("%s: axe %s (%s): %s\n%s", page, v.ID, v.Impact, v.Help, strings.Join(nodes, "\n"))
	}
}

// checkAxeWidths runs checkAxe on a phone's screen and on a desktop's:
// pages lay out differently on each (and colours can change with them).
func checkAxeWidths(t *testing.T, ctx context.Context, axe, page string) {
	t.Helper()
	checkAxe(t, ctx, axe, page+" at 360 px")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 800)); err != nil {
		t.Fatal(err)
	}
	checkAxe(t, ctx, axe, page+" at 1280 px")
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(360, 740)); err != nil {
		t.Fatal(err)
	}
}

// axeRun injects axe-core into the page and returns what its WCAG rules
// find there.
func axeRun(ctx context.Context, axe string) ([]axeViolation, error) {
	// Once per page: a page that is still loaded has it from the last run.
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof axe === "object"`))
	if err != nil {
		return nil, fmt.Errorf("look for axe-core: %w", err)
	}
	if !loaded {
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axe+"\n;true")); err != nil {
			return nil, fmt.Errorf("inject axe-core: %w", err)
		}
	}
	found, err := chromedp.Run(ctx, chromedp.Evaluate[[]axeViolation](`axe.run(document, {runOnly: `+axeTags+`}).then(r =>
		r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
			nodes: v.nodes.map(n => ({target: n.target, summary: n.failureSummary}))})))`, chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("axe.run: %w", err)
	}
	return found, nil
}

// TestAxe_FindsWhatItShould makes sure the check can fail: a page with
// known faults gets each one reported.
func TestAxe_FindsWhatItShould_InChromium(t *testing.T) {
	axe := axeScript(t)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, `<!doctype html><html><head><title>Faulty</title></head><body><main>
<img src="/bars.png"><p style="color:#aaa;background:#fff">Faint text</p><input type="text" name="phone">
</main></body></html>`)
	}))
	defer srv.Close()
	b := newBrowser(t)
	if err := chromedp.Do(b, chromedp.Navigate(srv.URL)); err != nil {
		t.Fatal(err)
	}
	found, err := axeRun(b, axe)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, v := range found {
		got[v.ID] = true
	}
	for _, want := range []string{"html-has-lang", "image-alt", "color-contrast", "label"} {
		if !got[want] {
			t.Errorf("axe did not report %s; it found %v", want, got)
		}
	}
}
