package policy

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// minutesPerDay bounds Window.Start and Window.End.
const minutesPerDay = 24 * 60

// Window is a daily local-time window in which marketing may be sent,
// [Start, End) in minutes after local midnight. Start > End means it wraps
// midnight (e.g. 22:00-06:00 for a night-shift audience); Start == End means
// all day.
type Window struct{ Start, End int }

// ParseWindow parses "08:00-21:00" (24-hour clock; minutes are optional, so
// "8-21" is the same window). An end of "24:00" means midnight, so
// "00:00-24:00" is all day.
func ParseWindow(s string) (Window, error) {
	from, to, ok := strings.Cut(s, "-")
	if !ok || strings.Contains(to, "-") {
		return Window{}, fmt.Errorf("policy: window %q: want START-END such as 08:00-21:00", s)
	}
	start, err := parseClock(from, false)
	if err != nil {
		return Window{}, fmt.Errorf("policy: window %q: start: %w", s, err)
	}
	end, err := parseClock(to, true)
	if err != nil {
		return Window{}, fmt.Errorf("policy: window %q: end: %w", s, err)
	}
	return Window{Start: start, End: end % minutesPerDay}, nil
}

// parseClock reads "H", "HH", "H:MM" or "HH:MM" as minutes after midnight;
// 24:00 is accepted only as an end, where it reads more naturally than 00:00.
func parseClock(s string, end bool) (int, error) {
	s = strings.TrimSpace(s)
	hs, ms, hasMin := strings.Cut(s, ":")
	h, err := parseDigits(hs, 2)
	if err != nil {
		return 0, fmt.Errorf("%q is not a time such as 08:00", s)
	}
	m := 0
	if hasMin {
		if len(ms) != 2 {
			return 0, fmt.Errorf("%q: minutes must be two digits", s)
		}
		if m, err = parseDigits(ms, 2); err != nil {
			return 0, fmt.Errorf("%q is not a time such as 08:00", s)
		}
	}
	switch {
	case m > 59:
		return 0, fmt.Errorf("%q: minutes %d out of range 00-59", s, m)
	case h == 24 && end && m == 0:
		return minutesPerDay, nil
	case h == 24 && end:
		return 0, fmt.Errorf("%q: the only end past 23:59 is 24:00, midnight", s)
	case h > 23:
		return 0, fmt.Errorf("%q: hour %d out of range 0-23", s, h)
	}
	return h*60 + m, nil
}

// parseDigits accepts 1 to max ASCII digits and nothing else: Atoi alone
// would let "+8" and " 8" through.
func parseDigits(s string, max int) (int, error) {
	if s == "" || len(s) > max {
		return 0, strconv.ErrSyntax
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, strconv.ErrSyntax
		}
	}
	return strconv.Atoi(s)
}

// String formats w as ParseWindow reads it, e.g. "08:00-21:00".
func (w Window) String() string {
	return fmt.Sprintf("%02d:%02d-%02d:%02d", w.Start/60, w.Start%60, w.End/60, w.End%60)
}

// valid reports whether both ends are minutes of a day.
func (w Window) valid() error {
	if w.Start < 0 || w.Start >= minutesPerDay || w.End < 0 || w.End >= minutesPerDay {
		return fmt.Errorf("policy: window start %d and end %d must be minutes in [0, %d)", w.Start, w.End, minutesPerDay)
	}
	return nil
}

// contains reports whether a local time of day (time since local midnight
// by the wall clock) is inside the window.
func (w Window) contains(tod time.Duration) bool {
	start, end := minutes(w.Start), minutes(w.End)
	switch {
	case w.Start == w.End:
		return true
	case w.Start < w.End:
		return start <= tod && tod < end
	default:
		return tod >= start || tod < end
	}
}

// untilStart is how long the wall clock takes from tod to reach the next
// window start, assuming no offset change: always in (0, 24h].
func (w Window) untilStart(tod time.Duration) time.Duration {
	d := minutes(w.Start) - tod
	if d <= 0 {
		d += 24 * time.Hour
	}
	return d
}

func minutes(n int) time.Duration { return time.Duration(n) * time.Minute }

// timeOfDay is the wall-clock time since local midnight, in t's location.
func timeOfDay(t time.Time) time.Duration {
	h, m, s := t.Clock()
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute +
		time.Duration(s)*time.Second + time.Duration(t.Nanosecond())
}
