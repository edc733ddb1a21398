package policy

import (
	"slices"
	"testing"
	"time"
)

// fuzzZones covers the awkward cases: no DST, DST in either hemisphere,
// half-hour DST (Lord Howe), odd offsets (Chatham, Kathmandu, St John's),
// transitions at midnight (Santiago), several a year (Casablanca), a
// two-hour jump (Troll), a skipped day (Apia, 2011), plus an unknown zone and
// none at all.
var fuzzZones = []string{
	"UTC", "Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Lord_Howe",
	"Pacific/Chatham", "Asia/Kathmandu", "America/St_Johns", "America/Santiago",
	"Africa/Casablanca", "Antarctica/Troll", "Pacific/Apia", "Mars/Base", "",
}

// Instants are folded into 1990-2100: tzdata's explicit transitions and the
// rules that extend them, without the overflow of arbitrary int64 seconds.
const (
	fuzzEpoch = 631152000                // 1990-01-01 UTC
	fuzzSpan  = 110 * 365 * 24 * 60 * 60 // to about 2100
)

func FuzzDecide(f *testing.F) {
	// now (unix seconds, kept as is from 1990 to 2100), window start and
	// end (minutes), cap N, per (hours), zone, kind (marketing,
	// transactional, not marketable), sends (seconds from now). The DST
	// and cap cases of the unit tests are seeds in testdata/fuzz/FuzzDecide.
	f.Add(int64(1781092800), uint16(480), uint16(1260), uint8(3), uint16(168), uint8(1), uint8(0), int32(-86400), int32(-259200), int32(-518400), int32(0))
	f.Fuzz(func(t *testing.T, unix int64, start, end uint16, n uint8, perHours uint16, zone uint8, kind uint8, s1, s2, s3, s4 int32) {
		now := time.Unix(fuzzEpoch+((unix-fuzzEpoch)%fuzzSpan+fuzzSpan)%fuzzSpan, 0).UTC()
		cfg := Config{
			Window:      Window{Start: int(start) % minutesPerDay, End: int(end) % minutesPerDay},
			Cap:         Cap{N: int(n) % 6, Per: time.Duration(max(1, int(perHours)%(40*24+1))) * time.Hour},
			DefaultZone: fuzzZones[int(zone/16)%4], // a real zone with or without DST
		}
		p, err := New(cfg)
		if err != nil {
			t.Fatalf("New(%+v): %v", cfg, err)
		}
		span := int64(2 * cfg.Cap.Per / time.Second) // sends within two periods either side
		var sent []time.Time
		for _, s := range []int32{s1, s2, s3, s4} {
			sent = append(sent, now.Add(time.Duration(int64(s)%span)*time.Second))
		}
		m := Member{Marketable: kind%3 != 2, TimeZone: fuzzZones[int(zone)%len(fuzzZones)], Sent: slices.Clone(sent)}
		k := Marketing
		if kind%3 == 1 {
			k = Transactional
		}

		d := p.Decide(now, k, m)

		if !slices.Equal(m.Sent, sent) {
			t.Fatalf("Decide reordered Sent")
		}
		switch {
		case k == Transactional:
			if d.Reason != Ok || !d.SendAt.Equal(now) || d.Final {
				t.Fatalf("transactional: %+v, want ok now", d)
			}
			return
		case !m.Marketable:
			if d.Reason != OptedOut || !d.SendAt.IsZero() || !d.Final {
				t.Fatalf("not marketable: %+v, want final opted_out", d)
			}
			return
		}
		checkMarketing(t, p, now, m, d)
	})
}

// checkMarketing checks a marketing decision against an oracle written
// separately from the implementation: whole local minutes for the window and
// a plain count for the cap.
func checkMarketing(t *testing.T, p *Policy, now time.Time, m Member, d Decision) {
	t.Helper()
	cfg := p.Config()
	zone := m.TimeZone
	wantFallback := zone == "Mars/Base"
	if zone == "" || wantFallback {
		zone = cfg.DefaultZone
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	allowed := func(at time.Time) bool {
		h, min, _ := at.In(loc).Clock()
		w, tod := cfg.Window, h*60+min
		inWindow := w.Start == w.End ||
			(w.Start < w.End && w.Start <= tod && tod < w.End) ||
			(w.Start > w.End && (tod >= w.Start || tod < w.End))
		return inWindow && capRoom(m.Sent, at, cfg.Cap)
	}
	ctx := func() string {
		return now.Format(time.RFC3339) + " " + zone + " window " + cfg.Window.String() + " cap " + cfg.Cap.String() +
			" -> " + string(d.Reason) + " at " + d.SendAt.In(loc).String()
	}

	switch {
	case d.Final || d.Reason == OptedOut:
		t.Fatalf("%s: final for a marketable member", ctx())
	case d.ZoneFallback != wantFallback:
		t.Fatalf("%s: ZoneFallback = %v", ctx(), d.ZoneFallback)
	case d.SendAt.Before(now):
		t.Fatalf("%s: before now", ctx())
	case (d.Reason == Ok) != d.SendAt.Equal(now):
		t.Fatalf("%s: Ok must mean now and now must mean Ok", ctx())
	case !allowed(d.SendAt):
		t.Fatalf("%s: outside the window or over the cap", ctx())
	case d.SendAt.After(now) && allowed(d.SendAt.Add(-time.Nanosecond)):
		t.Fatalf("%s: a nanosecond earlier was allowed too", ctx())
	case d.Reason == QuietHours && !capRoom(m.Sent, now, cfg.Cap):
		t.Fatalf("%s: quiet_hours but the cap was full at now", ctx())
	}
	// Nothing earlier is allowed: sample the deferral.
	step := max(d.SendAt.Sub(now)/400, 7*time.Minute)
	for at := now; at.Before(d.SendAt); at = at.Add(step) {
		if allowed(at) {
			t.Fatalf("%s: %v was already allowed", ctx(), at.In(loc))
		}
	}
}

// capRoom reports whether fewer than c.N of sent fall in (at-Per, at].
func capRoom(sent []time.Time, at time.Time, c Cap) bool {
	if c.N == 0 {
		return true
	}
	count := 0
	for _, s := range sent {
		if s.After(at.Add(-c.Per)) && !s.After(at) {
			count++
		}
	}
	return count < c.N
}
