package web_test

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/perk-platform/perk/internal/store/storetest"
)

// focusRing is how the element that has the keyboard focus is drawn.
type focusRing struct {
	Element string `json:"element"` // tag#id or tag "text", to name it in failures
	Style   string `json:"style"`
	Width   string `json:"width"`
	Color   string `json:"color"`
	Behind  string `json:"behind"` // background the ring is drawn on (the parent's)
}

const readFocusRing = `(() => {
	const el = document.activeElement;
	if (!el || el === document.body) return null;
	const cs = getComputedStyle(el);
	let bg = "rgb(255, 255, 255)";
	for (let p = el.parentElement; p; p = p.parentElement) {
		const c = getComputedStyle(p).backgroundColor;
		if (c !== "rgba(0, 0, 0, 0)" && c !== "transparent") { bg = c; break; }
	}
	const name = el.id ? "#" + el.id : JSON.stringify((el.textContent || el.name || "").trim().slice(0, 30));
	return {element: el.tagName.toLowerCase() + name, style: cs.outlineStyle, width: cs.outlineWidth, color: cs.outlineColor, behind: bg};
})()`

// TestFocusIsVisible_InChromium tabs through pages as a keyboard user does
// and checks that every stop shows a focus ring at least 2 px wide with a
// contrast of 3:1 against what is behind it (WCAG 2.4.7, 1.4.11).
func TestFocusIsVisible_InChromium(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	b := newBrowser(t)
	for _, p := range []struct {
		page  string
		setup []chromedp.Action[chromedp.Void]
		stops int // at least this many focusable elements
	}{
		{"home", []chromedp.Action[chromedp.Void]{chromedp.Navigate(e.url + "/")}, 1},
		{"join with errors", []chromedp.Action[chromedp.Void]{chromedp.Navigate(e.url + "/join"), chromedp.WaitVisible(chromedp.CSS("#phone")),
			chromedp.Click(chromedp.CSS("button[type=submit]")), chromedp.WaitVisible(chromedp.CSS("#error-summary"))}, 7},
		{"sign-in", []chromedp.Action[chromedp.Void]{chromedp.Navigate(e.url + "/manage/"), chromedp.WaitVisible(chromedp.CSS("#email"))}, 3},
	} {
		t.Run(p.page, func(t *testing.T) {
			if err := chromedp.Do(b, p.setup...); err != nil {
				t.Fatal(err)
			}
			// Round the page once: from where it put the focus (autofocus)
			// to the end, out to the browser and in again from the top.
			seen := map[string]bool{}
			for range 40 {
				if err := chromedp.Do(b, chromedp.KeyEvent(kb.Tab)); err != nil {
					t.Fatal(err)
				}
				ring, err := chromedp.Run(b, chromedp.Evaluate[*focusRing](readFocusRing))
				if err != nil {
					t.Fatal(err)
				}
				if ring == nil {
					continue // out of the page
				}
				if seen[ring.Element] {
					break // round once
				}
				seen[ring.Element] = true
				if err := ring.check(); err != nil {
					t.Errorf("%s: %v", ring.Element, err)
				}
			}
			if len(seen) < p.stops {
				t.Errorf("tabbed through %d elements (%v), want at least %d", len(seen), seen, p.stops)
			}
		})
	}
}

func (r focusRing) check() error {
	w, err := strconv.ParseFloat(strings.TrimSuffix(r.Width, "px"), 64)
	if err != nil || r.Style == "none" || w < 2 {
		return fmt.Errorf("no visible focus ring: outline %s %s", r.Style, r.Width)
	}
	fg, err := parseRGB(r.Color)
	if err != nil {
		return err
	}
	bg, err := parseRGB(r.Behind)
	if err != nil {
		return err
	}
	if c := contrast(fg, bg); c < 3 {
		return fmt.Errorf("focus ring %s on %s has a contrast of %.2f:1, want 3:1", r.Color, r.Behind, c)
	}
	return nil
}

func parseRGB(s string) ([3]float64, error) {
	var c [3]float64
	if _, err := fmt.Sscanf(s, "rgb(%g, %g, %g)", &c[0], &c[1], &c[2]); err != nil {
		return c, fmt.Errorf("colour %q: %v", s, err)
	}
	return c, nil
}

// contrast is the WCAG contrast ratio of two sRGB colours.
func contrast(a, b [3]float64) float64 {
	lum := func(c [3]float64) float64 {
		var l [3]float64
		for i, v := range c {
			v /= 255
			if v <= 0.04045 {
				l[i] = v / 12.92
			} else {
				l[i] = math.Pow((v+0.055)/1.055, 2.4)
			}
		}
		return 0.2126*l[0] + 0.7152*l[1] + 0.0722*l[2]
	}
	la, lb := lum(a), lum(b)
	return (math.Max(la, lb) + 0.05) / (math.Min(la, lb) + 0.05)
}

func TestContrast(t *testing.T) {
	for _, tt := range []struct {
		a, b [3]float64
		want float64
	}{
		{[3]float64{0, 0, 0}, [3]float64{255, 255, 255}, 21},
		{[3]float64{255, 255, 255}, [3]float64{255, 255, 255}, 1},
		{[3]float64{118, 118, 118}, [3]float64{255, 255, 255}, 4.54}, // #767676, the lightest grey with 4.5:1 on white
	} {
		if got := contrast(tt.a, tt.b); math.Abs(got-tt.want) > 0.01 {
			t.Errorf("contrast(%v, %v) = %.3f, want %.2f", tt.a, tt.b, got, tt.want)
		}
	}
}
