// Package clock is the time a Perk process runs on: the wall clock, or a
// simulated one that stands still until it is moved, in the style of
// Stripe's test clocks, so that operators and integrators can rehearse
// journeys and campaigns (an abandoned cart, two hours, quiet hours, the
// next morning) in minutes, and tests can be exact.
//
// It is not a scheduler: the background loops keep sleeping on real
// timers and read the time from the clock when they wake; whoever advances
// a simulated clock wakes them (perk serve's /v1/clock/advance runs their
// due work before it answers).
package clock

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"
)

// ErrBackwards is returned when a simulated clock is asked to go back:
// timers that fired, messages sent and leases taken would contradict it.
var ErrBackwards = errors.New("clock: a simulated clock never goes backwards")

// Simulated is a clock that stands still until it is moved, safe for
// concurrent use. Pass its Now where a service takes a clock.
type Simulated struct {
	mu sync.Mutex // guards t
	t  time.Time
}

// NewSimulated returns a simulated clock stopped at t.
func NewSimulated(t time.Time) *Simulated { return &Simulated{t: t} }

// Now returns the clock's time.
func (c *Simulated) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d and returns the new time; a
// negative d is refused with ErrBackwards.
func (c *Simulated) Advance(d time.Duration) (time.Time, error) {
	if d < 0 {
		return c.Now(), fmt.Errorf("advance by %s: %w", d, ErrBackwards)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t, nil
}

// AdvanceTo moves the clock forward to t and returns the new time; a t
// before the clock's time is refused with ErrBackwards (t equal to it is
// no move).
func (c *Simulated) AdvanceTo(t time.Time) (time.Time, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.Before(c.t) {
		return c.t, fmt.Errorf("advance to %s, before %s: %w", t.UTC().Format(time.RFC3339), c.t.Format(time.RFC3339), ErrBackwards)
	}
	c.t = t.UTC()
	return c.t, nil
}

// Set moves the clock to t in either direction. It is for tests that
// rewind on purpose (a clock shared by services whose state is rebuilt);
// a running server only moves forward (AdvanceTo).
func (c *Simulated) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Parse reads the --clock setting: "real" (or empty) is the wall clock,
// nil; "simulated" starts a simulated clock at now, truncated to the
// second; "simulated:2026-12-07T19:00:00Z" starts it at that time (RFC
// 3339).
func Parse(s string, now time.Time) (*Simulated, error) {
	switch {
	case s == "" || s == "real":
		return nil, nil
	case s == "simulated":
		return NewSimulated(now.UTC().Truncate(time.Second)), nil
	}
	at, ok := strings.CutPrefix(s, "simulated:")
	if !ok {
		return nil, fmt.Errorf("%q: want real, simulated or simulated:TIME (RFC 3339)", s)
	}
	t, err := time.Parse(time.RFC3339, at)
	if err != nil {
		return nil, fmt.Errorf("%q: the start is not an RFC 3339 time such as 2026-12-07T19:00:00Z: %w", s, err)
	}
	return NewSimulated(t.UTC()), nil
}
