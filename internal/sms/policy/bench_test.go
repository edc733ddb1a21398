package policy

import (
	"testing"
	"time"
)

// BenchmarkDecide is the sender's hot path: a London member with ten
// marketing sends on record, five inside the 7-day window, so the message is
// capped until 04:00 local and quiet hours then move it to 08:00.
func BenchmarkDecide(b *testing.B) {
	p := mustNew(b, DefaultConfig())
	now := at("2026-06-10 11:00")
	m := Member{Marketable: true, TimeZone: "Europe/London"}
	for i := range 10 {
		m.Sent = append(m.Sent, now.Add(-time.Duration(i)*40*time.Hour))
	}
	p.Decide(now, Marketing, m) // load the zone outside the timing
	b.ReportAllocs()
	for b.Loop() {
		if d := p.Decide(now, Marketing, m); d.Reason != Capped {
			b.Fatalf("Decide = %+v", d)
		}
	}
}
