package web

import (
	"fmt"
	"html/template"
	"strings"
)

// Series is one line or set of bars of a chart.
type Series struct {
	Name   string
	Values []int64
	Class  string // CSS class: colour
}

// barChart draws labelled bars (one series, or several side by side) as
// inline SVG rendered on the server: no script, no CDN, readable on a phone.
// Each bar carries a <title> with its value for hover and screen readers,
// and the largest value is written on the axis so nobody hunts for a scale.
func barChart(title string, labels []string, series ...Series) template.HTML {
	const w, h, left, bottom, top = 320.0, 160.0, 34.0, 22.0, 8.0
	var peak int64 = 1
	for _, s := range series {
		for _, v := range s.Values {
			peak = max(peak, v)
		}
	}
	n := max(len(labels), 1)
	slot := (w - left) / float64(n)
	bw := slot * 0.8 / float64(max(len(series), 1))
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s"><title>%s</title>`, w, h, template.HTMLEscapeString(title), template.HTMLEscapeString(title))
	fmt.Fprintf(&b, `<line class="axis" x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f"/>`, left, h-bottom, w, h-bottom)
	fmt.Fprintf(&b, `<text class="tick" x="%.0f" y="%.0f" text-anchor="end">%d</text><text class="tick" x="%.0f" y="%.0f" text-anchor="end">0</text>`,
		left-3, top+8, peak, left-3, h-bottom)
	for i, lab := range labels {
		for j, s := range series {
			if i >= len(s.Values) {
				continue
			}
			v := s.Values[i]
			bh := float64(v) / float64(peak) * (h - bottom - top)
			x := left + float64(i)*slot + slot*0.1 + float64(j)*bw
			fmt.Fprintf(&b, `<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s %s: %d</title></rect>`,
				template.HTMLEscapeString(s.Class), x, h-bottom-bh, bw, bh, template.HTMLEscapeString(s.Name), template.HTMLEscapeString(lab), v)
		}
		// Label every bar when there are few, else about six of them.
		if n <= 8 || i%((n+5)/6) == 0 {
			fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%.0f" text-anchor="middle">%s</text>`, left+float64(i)*slot+slot/2, h-6, template.HTMLEscapeString(lab))
		}
	}
	b.WriteString(`</svg>`)
	if len(series) > 1 {
		b.WriteString(`<p class="legend">`)
		for _, s := range series {
			fmt.Fprintf(&b, `<span class="key %s"></span> %s `, template.HTMLEscapeString(s.Class), template.HTMLEscapeString(s.Name))
		}
		b.WriteString(`</p>`)
	}
	return template.HTML(b.String()) // every text in it went through HTMLEscapeString
}
