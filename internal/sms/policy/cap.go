package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// maxPer bounds Cap.Per: a rolling window longer than a year is a typo
// (7w for 7d, say), and the bound keeps the arithmetic far from overflow.
const maxPer = 366 * 24 * time.Hour

// Cap is at most N marketing messages per rolling Per duration; N == 0
// disables the cap.
type Cap struct {
	N   int
	Per time.Duration
}

// ParseCap parses "3/7d", "5/24h", "1/1w" or "0" (disabled). The period is
// a whole number of days (d) or weeks (w), or a Go duration such as "36h"
// or "90m".
func ParseCap(s string) (Cap, error) {
	ns, per, hasPer := strings.Cut(strings.TrimSpace(s), "/")
	n, err := parseDigits(strings.TrimSpace(ns), 6)
	if err != nil {
		return Cap{}, fmt.Errorf("policy: cap %q: want COUNT/PERIOD such as 3/7d, or 0 for no cap", s)
	}
	if !hasPer {
		if n != 0 {
			return Cap{}, fmt.Errorf("policy: cap %q: a count needs a period, such as %d/7d", s, n)
		}
		return Cap{}, nil
	}
	d, err := parsePeriod(strings.TrimSpace(per))
	if err != nil {
		return Cap{}, fmt.Errorf("policy: cap %q: period: %w", s, err)
	}
	c := Cap{N: n, Per: d}
	if err := c.valid(); err != nil {
		return Cap{}, fmt.Errorf("policy: cap %q: %w", s, err)
	}
	return c, nil
}

// parsePeriod adds days and weeks to time.ParseDuration, whose largest unit
// is the hour: caps are usually written in days.
func parsePeriod(s string) (time.Duration, error) {
	var unit time.Duration
	switch {
	case strings.HasSuffix(s, "d"):
		unit = 24 * time.Hour
	case strings.HasSuffix(s, "w"):
		unit = 7 * 24 * time.Hour
	default:
		d, err := time.ParseDuration(s)
		if err != nil {
			return 0, fmt.Errorf("%q is not a period such as 7d, 1w or 24h", s)
		}
		return d, nil
	}
	k, err := parseDigits(s[:len(s)-1], 4)
	if err != nil {
		return 0, fmt.Errorf("%q is not a period such as 7d, 1w or 24h", s)
	}
	return time.Duration(k) * unit, nil
}

// String formats c as ParseCap reads it, e.g. "3/7d"; "0" when disabled.
func (c Cap) String() string {
	switch {
	case c.N == 0:
		return "0"
	case c.Per%(24*time.Hour) == 0:
		return fmt.Sprintf("%d/%dd", c.N, c.Per/(24*time.Hour))
	}
	return strconv.Itoa(c.N) + "/" + c.Per.String()
}

func (c Cap) valid() error {
	switch {
	case c.N < 0:
		return fmt.Errorf("count %d is negative", c.N)
	case c.N == 0:
		return nil
	case c.Per <= 0:
		return fmt.Errorf("period %v must be positive", c.Per)
	case c.Per > maxPer:
		return fmt.Errorf("period %v is longer than 366 days", c.Per)
	}
	return nil
}

// history is a member's relevant marketing sends, oldest first.
type history []time.Time

// deferral reports whether the cap holds a message back at t, and until
// when. Sends in (t-Per, t] count; with k >= N of them, the count first
// drops below N when the (k-N+1)-th oldest, h[hi-N], leaves the window, Per
// after it was sent. Sends scheduled after t may enter the window by then:
// the caller checks again at the new time.
func (c Cap) deferral(t time.Time, h history) (time.Time, bool) {
	if c.N == 0 {
		return t, false
	}
	from := t.Add(-c.Per)
	lo, hi := 0, 0
	for _, s := range h {
		if !s.After(from) {
			lo++
		}
		if !s.After(t) {
			hi++
		}
	}
	if hi-lo < c.N {
		return t, false
	}
	return h[hi-c.N].Add(c.Per), true
}
