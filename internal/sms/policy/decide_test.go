package policy

import (
	"testing"
	"time"
)

// London keeps BST (UTC+1) in June, so local 08:00 is 07:00 UTC.
var londoner = Member{Marketable: true, TimeZone: "Europe/London"}

func TestDecide_TransactionalBypassesOptOutQuietHoursAndCap(t *testing.T) {
	now := at("2026-06-10 02:00") // 03:00 in London
	member := Member{TimeZone: "Europe/London", Sent: ago(now, time.Hour, 2*time.Hour, 3*time.Hour, 4*time.Hour)}
	runDecide(t, DefaultConfig(), []decideCase{
		{name: "opted-out member at 03:00 local over the cap goes now",
			now: "2026-06-10 02:00", kind: Transactional, member: member, reason: Ok, sendAt: "2026-06-10 02:00"},
	})
}

func TestDecide_OptedOutIsFinalWithNoSendTime(t *testing.T) {
	runDecide(t, DefaultConfig(), []decideCase{
		{name: "in the window and under the cap",
			now: "2026-06-10 11:00", member: Member{TimeZone: "Europe/London"}, reason: OptedOut, final: true},
		{name: "an unknown kind is governed as marketing",
			now: "2026-06-10 11:00", kind: "promo", member: Member{}, reason: OptedOut, final: true},
	})
}

func TestDecide_QuietHoursDeferToTheNextWindowStartInLondon(t *testing.T) {
	runDecide(t, DefaultConfig(), []decideCase{
		{name: "12:00 local is inside the window: ok now",
			now: "2026-06-10 11:00", member: londoner, reason: Ok, sendAt: "2026-06-10 11:00"},
		{name: "08:00 local exactly is inside (start inclusive)",
			now: "2026-06-10 07:00", member: londoner, reason: Ok, sendAt: "2026-06-10 07:00"},
		{name: "20:59:59 local is still inside",
			now: "2026-06-10 19:59:59", member: londoner, reason: Ok, sendAt: "2026-06-10 19:59:59"},
		{name: "07:59 local waits for 08:00 the same day",
			now: "2026-06-10 06:59", member: londoner, reason: QuietHours, sendAt: "2026-06-10 07:00"},
		{name: "21:00 local exactly waits for 08:00 the next day (end exclusive)",
			now: "2026-06-10 20:00", member: londoner, reason: QuietHours, sendAt: "2026-06-11 07:00"},
		{name: "23:30 local waits for 08:00 the next day",
			now: "2026-06-10 22:30", member: londoner, reason: QuietHours, sendAt: "2026-06-11 07:00"},
		{name: "00:30 local is already the next day: 08:00 that day",
			now: "2026-06-09 23:30", member: londoner, reason: QuietHours, sendAt: "2026-06-10 07:00"},
	})
}

func TestDecide_QuietHoursFollowTheMembersZone(t *testing.T) {
	cfg := DefaultConfig()
	cfg.DefaultZone = "Europe/London"
	runDecide(t, cfg, []decideCase{
		{name: "New York in January: 12:00 UTC is 07:00 EST, deferred to 08:00 EST = 13:00 UTC",
			now: "2026-01-15 12:00", member: Member{Marketable: true, TimeZone: "America/New_York"},
			reason: QuietHours, sendAt: "2026-01-15 13:00"},
		{name: "New York in June: 12:00 UTC is 08:00 EDT, ok now",
			now: "2026-06-10 12:00", member: Member{Marketable: true, TimeZone: "America/New_York"},
			reason: Ok, sendAt: "2026-06-10 12:00"},
		{name: "Tokyo: 12:00 UTC is 21:00 JST, deferred to 08:00 JST next day = 23:00 UTC",
			now: "2026-01-15 12:00", member: Member{Marketable: true, TimeZone: "Asia/Tokyo"},
			reason: QuietHours, sendAt: "2026-01-15 23:00"},
		{name: "Tokyo: 00:00 UTC is 09:00 JST, ok now",
			now: "2026-01-15 00:00", member: Member{Marketable: true, TimeZone: "Asia/Tokyo"},
			reason: Ok, sendAt: "2026-01-15 00:00"},
		{name: "no zone uses the default zone without a fallback flag",
			now: "2026-01-15 07:00", member: Member{Marketable: true},
			reason: QuietHours, sendAt: "2026-01-15 08:00"},
		{name: "unknown zone Mars/Base falls back to the default zone and says so",
			now: "2026-01-15 07:00", member: Member{Marketable: true, TimeZone: "Mars/Base"},
			reason: QuietHours, sendAt: "2026-01-15 08:00", fallback: true},
		{name: "Local is the host's zone, not the member's: fallback",
			now: "2026-01-15 07:00", member: Member{Marketable: true, TimeZone: "Local"},
			reason: QuietHours, sendAt: "2026-01-15 08:00", fallback: true},
	})
}

func TestDecide_WrapAroundAndAllDayWindows(t *testing.T) {
	night := DefaultConfig()
	night.Window = Window{Start: 22 * 60, End: 6 * 60}
	member := Member{Marketable: true}
	runDecide(t, night, []decideCase{
		{name: "22:00-06:00: 23:00 is inside", now: "2026-06-10 23:00", member: member, reason: Ok, sendAt: "2026-06-10 23:00"},
		{name: "22:00-06:00: 22:00 is inside", now: "2026-06-10 22:00", member: member, reason: Ok, sendAt: "2026-06-10 22:00"},
		{name: "22:00-06:00: 05:59 is inside", now: "2026-06-10 05:59", member: member, reason: Ok, sendAt: "2026-06-10 05:59"},
		{name: "22:00-06:00: 06:00 waits for 22:00 the same day", now: "2026-06-10 06:00", member: member, reason: QuietHours, sendAt: "2026-06-10 22:00"},
		{name: "22:00-06:00: noon waits for 22:00", now: "2026-06-10 12:00", member: member, reason: QuietHours, sendAt: "2026-06-10 22:00"},
	})
	allDay := DefaultConfig()
	allDay.Window = Window{Start: 9 * 60, End: 9 * 60}
	runDecide(t, allDay, []decideCase{
		{name: "09:00-09:00 is all day: 03:00 is inside", now: "2026-06-10 03:00", member: member, reason: Ok, sendAt: "2026-06-10 03:00"},
	})
}
