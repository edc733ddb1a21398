package policy

import "testing"

// Europe/London 2026: clocks go 01:00 GMT -> 02:00 BST on 29 March (at 01:00
// UTC) and 02:00 BST -> 01:00 GMT on 25 October (at 01:00 UTC).
// America/New_York 2026: 02:00 EST -> 03:00 EDT on 8 March (07:00 UTC) and
// 02:00 EDT -> 01:00 EST on 1 November (06:00 UTC).

func TestDecide_DSTDefaultWindowLandsOnLocalEightOClock(t *testing.T) {
	runDecide(t, DefaultConfig(), []decideCase{
		{name: "London spring forward: 00:30 UTC (00:30 GMT) waits for 08:00 BST = 07:00 UTC",
			now: "2026-03-29 00:30", member: londoner, reason: QuietHours, sendAt: "2026-03-29 07:00"},
		{name: "London autumn: 00:30 UTC (01:30 BST) waits for 08:00 GMT = 08:00 UTC",
			now: "2026-10-25 00:30", member: londoner, reason: QuietHours, sendAt: "2026-10-25 08:00"},
		{name: "London the evening before spring forward: 21:30 GMT waits for 08:00 BST",
			now: "2026-03-28 21:30", member: londoner, reason: QuietHours, sendAt: "2026-03-29 07:00"},
		{name: "London the evening before autumn: 21:30 BST waits for 08:00 GMT",
			now: "2026-10-24 20:30", member: londoner, reason: QuietHours, sendAt: "2026-10-25 08:00"},
	})
}

func TestDecide_DSTWindowStartInsideTheGapOpensAtTheTransition(t *testing.T) {
	newYorker := Member{Marketable: true, TimeZone: "America/New_York"}
	london := DefaultConfig()
	london.Window = Window{Start: 90, End: 6 * 60} // 01:30-06:00
	runDecide(t, london, []decideCase{
		{name: "London 01:30 does not exist on 29 March: opens at 02:00 BST = 01:00 UTC",
			now: "2026-03-29 00:30", member: londoner, reason: QuietHours, sendAt: "2026-03-29 01:00"},
		{name: "London 01:30 happens twice on 25 October: opens at the first, 01:30 BST = 00:30 UTC",
			now: "2026-10-24 23:30", member: londoner, reason: QuietHours, sendAt: "2026-10-25 00:30"},
	})
	ny := DefaultConfig()
	ny.Window = Window{Start: 150, End: 6 * 60} // 02:30-06:00
	runDecide(t, ny, []decideCase{
		// time.Date would say 01:30 EST = 06:30 UTC, before the window.
		{name: "New York 02:30 does not exist on 8 March: opens at 03:00 EDT = 07:00 UTC",
			now: "2026-03-08 05:00", member: newYorker, reason: QuietHours, sendAt: "2026-03-08 07:00"},
	})
	gap := DefaultConfig()
	gap.Window = Window{Start: 135, End: 165} // 02:15-02:45
	runDecide(t, gap, []decideCase{
		{name: "New York 02:15-02:45 is wholly in the gap on 8 March: waits for 02:15 EDT on 9 March",
			now: "2026-03-08 05:00", member: newYorker, reason: QuietHours, sendAt: "2026-03-09 06:15"},
	})
	rewind := DefaultConfig()
	rewind.Window = Window{Start: 22 * 60, End: 90} // 22:00-01:30
	runDecide(t, rewind, []decideCase{
		{name: "New York autumn: at 01:45 EDT the clock is about to go back to 01:00 EST, inside again",
			now: "2026-11-01 05:45", member: newYorker, reason: QuietHours, sendAt: "2026-11-01 06:00"},
	})
}
