package clock

import (
	"errors"
	"testing"
	"time"
)

func TestSimulated_AdvancesForwardAndRefusesToGoBack(t *testing.T) {
	start := time.Date(2026, 12, 7, 19, 0, 0, 0, time.UTC)
	c := NewSimulated(start)
	if got, err := c.Advance(2 * time.Hour); err != nil || !got.Equal(start.Add(2*time.Hour)) || !c.Now().Equal(got) {
		t.Fatalf("Advance(2h) = %v, %v; Now %v", got, err, c.Now())
	}
	if _, err := c.Advance(-time.Second); !errors.Is(err, ErrBackwards) {
		t.Errorf("Advance(-1s) = %v, want ErrBackwards", err)
	}
	if _, err := c.AdvanceTo(start); !errors.Is(err, ErrBackwards) {
		t.Errorf("AdvanceTo(before) = %v, want ErrBackwards", err)
	}
	if !c.Now().Equal(start.Add(2 * time.Hour)) {
		t.Errorf("a refused move moved the clock to %v", c.Now())
	}
	next := time.Date(2026, 12, 8, 8, 0, 0, 0, time.FixedZone("CET", 3600))
	if got, err := c.AdvanceTo(next); err != nil || !got.Equal(next) || got.Location() != time.UTC {
		t.Errorf("AdvanceTo(%v) = %v, %v; want the same instant in UTC", next, got, err)
	}
	if got, err := c.AdvanceTo(next); err != nil || !got.Equal(next) {
		t.Errorf("AdvanceTo(now) = %v, %v; want no move and no error", got, err)
	}
}

func TestParse(t *testing.T) {
	now := time.Date(2026, 12, 5, 23, 30, 12, 500, time.UTC)
	for _, c := range []struct {
		in      string
		want    time.Time // zero: the real clock
		wantErr bool
	}{
		{"", time.Time{}, false},
		{"real", time.Time{}, false},
		{"simulated", time.Date(2026, 12, 5, 23, 30, 12, 0, time.UTC), false},
		{"simulated:2026-12-07T19:00:00Z", time.Date(2026, 12, 7, 19, 0, 0, 0, time.UTC), false},
		{"simulated:2026-12-07T20:00:00+01:00", time.Date(2026, 12, 7, 19, 0, 0, 0, time.UTC), false},
		{"simulated:tomorrow", time.Time{}, true},
		{"fake", time.Time{}, true},
	} {
		t.Run(c.in, func(t *testing.T) {
			clk, err := Parse(c.in, now)
			switch {
			case c.wantErr:
				if err == nil {
					t.Fatalf("Parse(%q) accepted", c.in)
				}
			case err != nil:
				t.Fatalf("Parse(%q): %v", c.in, err)
			case c.want.IsZero():
				if clk != nil {
					t.Fatalf("Parse(%q) = a simulated clock at %v, want the real clock", c.in, clk.Now())
				}
			case clk == nil || !clk.Now().Equal(c.want) || clk.Now().Location() != time.UTC:
				t.Fatalf("Parse(%q) = %v, want a simulated clock at %v UTC", c.in, clk, c.want)
			}
		})
	}
}
