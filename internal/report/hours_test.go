package report

import (
	"fmt"
	"testing"
	"time"
)

func TestHourSplit_WholeHoursAndEdgesCoverTheRangeExactly(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	hour := func(s string) int64 { return at(s).Unix() / 3600 }
	tests := []struct {
		name        string
		from, to    string
		first, last string // whole hours [first, last)
		edges       string
	}{
		{"aligned at both ends", "2027-01-01T10:00:00Z", "2027-01-01T13:00:00Z", "2027-01-01T10:00:00Z", "2027-01-01T13:00:00Z", "[]"},
		{"partial at both ends", "2027-01-01T10:20:00Z", "2027-01-01T13:05:00Z", "2027-01-01T11:00:00Z", "2027-01-01T13:00:00Z",
			"[{10:20:00 11:00:00} {13:00:00 13:05:00}]"},
		{"a fraction of a second past the hour", "2027-01-01T10:00:00.5Z", "2027-01-01T12:00:00Z", "2027-01-01T11:00:00Z", "2027-01-01T12:00:00Z",
			"[{10:00:00.5 11:00:00}]"},
		{"inside one hour", "2027-01-01T10:20:00Z", "2027-01-01T10:40:00Z", "2027-01-01T11:00:00Z", "2027-01-01T11:00:00Z",
			"[{10:20:00 10:40:00}]"},
		{"across one boundary, no whole hour", "2027-01-01T10:20:00Z", "2027-01-01T11:40:00Z", "2027-01-01T11:00:00Z", "2027-01-01T11:00:00Z",
			"[{10:20:00 11:40:00}]"},
		{"empty", "2027-01-01T10:20:00Z", "2027-01-01T10:20:00Z", "2027-01-01T11:00:00Z", "2027-01-01T11:00:00Z", "[]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			first, last, edges := hourSplit(at(tt.from), at(tt.to))
			if first != hour(tt.first) || last != hour(tt.last) {
				t.Errorf("whole hours [%d, %d), want [%d, %d)", first, last, hour(tt.first), hour(tt.last))
			}
			if got := fmtSpans(edges); got != tt.edges {
				t.Errorf("edges %s, want %s", got, tt.edges)
			}
		})
	}
	t.Run("open end: a zone half an hour off UTC", func(t *testing.T) {
		first, last, edges := hourSplit(at("2027-01-01T18:30:00Z"), time.Time{})
		if first != hour("2027-01-01T19:00:00Z") || last != maxHour || fmtSpans(edges) != "[{18:30:00 19:00:00}]" {
			t.Errorf("got [%d, %d) %s", first, last, fmtSpans(edges))
		}
	})
}

func fmtSpans(s []span) string {
	out := "["
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += fmt.Sprintf("{%s %s}", x.From.Format("15:04:05.999"), x.To.Format("15:04:05.999"))
	}
	return out + "]"
}
