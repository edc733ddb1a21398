package policy

import (
	"testing"
	"time"
)

// TestDecide_AroundEveryTransition sweeps each offset change of 2026 in the
// fuzz zones (and of 2011, when Samoa skipped 30 December), every 10 minutes
// from 12 hours before to 12 hours after, with windows that open and close
// where the clock jumps, and checks each decision against the fuzz oracle.
// Random fuzzing seldom lands this close to a transition.
func TestDecide_AroundEveryTransition(t *testing.T) {
	checked := 0
	for _, year := range []int{2011, 2026} {
		from := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC)
		for _, zone := range fuzzZones[:12] {
			loc, err := time.LoadLocation(zone)
			if err != nil {
				t.Fatal(err)
			}
			for tr := range transitions(from, from.AddDate(1, 0, 0), loc) {
				checked += sweep(t, zone, tr)
			}
		}
	}
	t.Logf("%d decisions checked", checked)
}

// sweep checks decisions around one transition tr and returns how many.
func sweep(t *testing.T, zone string, tr time.Time) int {
	// Wall-clock minutes the clock jumps from and to.
	from, to := (localMinute(tr.Add(-time.Minute))+1)%minutesPerDay, localMinute(tr)
	day := func(m int) int { return m % minutesPerDay }
	windows := []Window{
		{8 * 60, 21 * 60},
		{from, day(from + 60)},
		{to, day(to + 60)},
		{day(from + 15), day(from + 45)},
		{(from + to) / 2, day(max(from, to) + 60)}, // opens inside the gap or the overlap
		{day(to + 22*60), from},                    // closes where the clock jumps from
		{day(to + 22*60), to},
	}
	n := 0
	for _, w := range windows {
		p := mustNew(t, Config{Window: w, Cap: Cap{N: 1, Per: 3 * time.Hour}})
		for now := tr.Add(-12 * time.Hour); now.Before(tr.Add(12 * time.Hour)); now = now.Add(10 * time.Minute) {
			// Without sends the window alone decides; a send 2h before the
			// jump holds messages until 1h after it.
			for _, sent := range [][]time.Time{nil, {tr.Add(-2 * time.Hour)}} {
				m := Member{Marketable: true, TimeZone: zone, Sent: sent}
				checkMarketing(t, p, now, m, p.Decide(now, Marketing, m))
				n++
			}
		}
	}
	return n
}

// transitions yields the instants in [from, to) at which loc's UTC offset
// changes (ZoneBounds also ends periods where only the abbreviation does).
func transitions(from, to time.Time, loc *time.Location) func(func(time.Time) bool) {
	return func(yield func(time.Time) bool) {
		for t := from.In(loc); t.Before(to); {
			_, end := t.ZoneBounds()
			if end.IsZero() || !end.Before(to) {
				return
			}
			if offset(end.Add(-time.Second)) != offset(end) && !yield(end) {
				return
			}
			t = end
		}
	}
}

func offset(t time.Time) int { _, o := t.Zone(); return o }

// localMinute is t's wall-clock minute of the day in its own location.
func localMinute(t time.Time) int { h, m, _ := t.Clock(); return h*60 + m }
