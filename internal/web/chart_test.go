package web

import (
	"encoding/xml"
	"strings"
	"testing"
)

func TestBarChartIsWellFormedAndEscapes(t *testing.T) {
	for _, c := range []struct {
		name   string
		labels []string
		series []Series
		bars   int
	}{
		{"empty", nil, nil, 0},
		{"one series", []string{"Mon", "Tue"}, []Series{{Name: "new", Values: []int64{3, 0}, Class: "a"}}, 2},
		{"two series", []string{"1", "2", "3"}, []Series{{Name: "sent", Values: []int64{5, 6, 7}, Class: "a"}, {Name: "<b>", Values: []int64{1, 2}, Class: "b"}}, 5},
	} {
		t.Run(c.name, func(t *testing.T) {
			out := string(barChart(`A "chart" & <more>`, c.labels, c.series...))
			svg := out[:strings.Index(out, "</svg>")+len("</svg>")]
			if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
				t.Fatalf("not well-formed: %v\n%s", err, svg)
			}
			if got := strings.Count(svg, "<rect"); got != c.bars {
				t.Fatalf("%d bars, want %d", got, c.bars)
			}
			if strings.Contains(out, "<b>") {
				t.Fatal("series name not escaped")
			}
		})
	}
}
