// Package policy decides whether, and when, a marketing SMS may go to a
// member: opt-out, quiet hours in the member's zone and a rolling frequency
// cap. It is pure: the caller supplies the member's state and send history,
// and the clock.
//
// Transactional messages (a member's code, an opt-out confirmation) are
// outside the policy and always go at once. A marketing message is either
// sent now (Ok), deferred to a later instant (QuietHours, Capped) or held
// back for good (OptedOut); it is never silently dropped, and every decision
// carries its reason so the outbox can record it.
//
// # Time zones and daylight saving
//
// Quiet hours are wall-clock hours in the member's zone. A deferred message
// goes at the earliest instant, at or after the candidate time, whose local
// wall-clock time is inside the window. That is found by walking the zone's
// offset periods (time.Time.ZoneBounds) rather than by time.Date, because
// time.Date resolves a wall time that does not exist (the spring-forward gap)
// differently by zone: in Europe/London 01:30 becomes 02:30 BST, after the
// gap, but in America/New_York 02:30 becomes 01:30 EST, before it, which is
// outside a window that starts at 02:30. With the walk:
//
//   - a window start that falls in the gap opens at the transition itself,
//     the first instant the clock shows a time past the start (02:00 BST for
//     01:30 in London, 03:00 EDT for 02:30 in New York);
//   - a wall time that occurs twice (autumn) opens at its first occurrence;
//   - if the autumn rewind puts the clock back inside the window, the window
//     is open again from that instant, since the member's clock says so;
//   - a window that lies wholly inside a gap does not exist that day, and the
//     message waits for the next day's window.
//
// On ordinary days this is exactly time.Date(y, m, d, startHour, startMin, 0,
// 0, zone).
package policy
