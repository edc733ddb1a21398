package policy

import (
	"testing"
	"time"
)

func TestDecide_RollingCapHoldsBackUntilASendLeavesTheWindow(t *testing.T) {
	now := at("2026-06-10 12:00") // noon UTC, inside the default window
	sent := func(ds ...time.Duration) Member { return Member{Marketable: true, Sent: ago(now, ds...)} }
	runDecide(t, DefaultConfig(), []decideCase{
		{name: "2 sends in the last 7 days with cap 3: ok",
			now: "2026-06-10 12:00", member: sent(days(1), days(3)), reason: Ok, sendAt: "2026-06-10 12:00"},
		{name: "3 sends: capped until the oldest is 7 days old",
			now: "2026-06-10 12:00", member: sent(days(1), days(3), days(6)), reason: Capped, sendAt: "2026-06-11 12:00"},
		{name: "4 sends: capped until the 2nd oldest is 7 days old",
			now: "2026-06-10 12:00", member: sent(days(1), days(2), days(3), days(6)), reason: Capped, sendAt: "2026-06-14 12:00"},
		{name: "unsorted sends give the same answer",
			now: "2026-06-10 12:00", member: sent(days(3), days(6), days(1)), reason: Capped, sendAt: "2026-06-11 12:00"},
		{name: "sends 7 days old or older are outside the window (open at its start)",
			now: "2026-06-10 12:00", member: sent(days(1), days(7), days(30), days(2)), reason: Ok, sendAt: "2026-06-10 12:00"},
		{name: "a send at now counts (the window is closed at its end)",
			now: "2026-06-10 12:00", member: sent(0, days(1), days(2)), reason: Capped, sendAt: "2026-06-15 12:00"},
		{name: "the cap frees up at 22:00, in quiet hours: pushed to 08:00 and still capped",
			now: "2026-06-10 12:00", member: Member{Marketable: true, Sent: []time.Time{
				at("2026-06-04 22:00"), at("2026-06-08 12:00"), at("2026-06-09 12:00")}},
			reason: Capped, sendAt: "2026-06-12 08:00"},
		{name: "quiet hours defer into a scheduled send that fills the cap: capped",
			now: "2026-06-10 22:00", member: Member{Marketable: true, Sent: []time.Time{
				at("2026-06-05 12:00"), at("2026-06-09 12:00"), at("2026-06-11 08:00")}},
			reason: Capped, sendAt: "2026-06-12 12:00"},
		{name: "a scheduled send after the chosen time does not count",
			now: "2026-06-10 12:00", member: Member{Marketable: true, Sent: []time.Time{
				at("2026-06-09 12:00"), at("2026-06-09 13:00"), at("2026-06-11 08:00")}},
			reason: Ok, sendAt: "2026-06-10 12:00"},
	})

	off := DefaultConfig()
	off.Cap = Cap{}
	runDecide(t, off, []decideCase{
		{name: "N=0 disables the cap",
			now: "2026-06-10 12:00", member: sent(time.Minute, 2*time.Minute, 3*time.Minute, 4*time.Minute, 5*time.Minute),
			reason: Ok, sendAt: "2026-06-10 12:00"},
	})
}

func TestDecide_DoesNotReorderTheCallersSends(t *testing.T) {
	p := mustNew(t, DefaultConfig())
	now := at("2026-06-10 12:00")
	sent := ago(now, days(1), days(6), days(3))
	want := append([]time.Time(nil), sent...)
	p.Decide(now, Marketing, Member{Marketable: true, Sent: sent})
	for i := range sent {
		if !sent[i].Equal(want[i]) {
			t.Fatalf("Sent reordered: %v, want %v", sent, want)
		}
	}
}

func TestDecide_ManySendsOutgrowTheStackBuffer(t *testing.T) {
	p := mustNew(t, Config{Cap: Cap{N: 20, Per: days(1)}})
	now := at("2026-06-10 12:00")
	var sent []time.Time
	for i := range 40 { // one a minute for the last 40 minutes
		sent = append(sent, now.Add(-time.Duration(i)*time.Minute))
	}
	// 40 in the window (0 to 39 minutes old), 20 allowed: the 21st oldest,
	// 19 minutes old, must leave too, a day after it was sent.
	got := p.Decide(now, Marketing, Member{Marketable: true, Sent: sent})
	if want := now.Add(-19 * time.Minute).Add(days(1)); got.Reason != Capped || !got.SendAt.Equal(want) {
		t.Fatalf("Decide = %s at %v, want capped at %v", got.Reason, got.SendAt, want)
	}
}
