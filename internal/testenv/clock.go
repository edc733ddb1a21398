package testenv

import (
	"time"

	"github.com/perk-platform/perk/internal/clock"
)

// Clock is a settable clock for tests of expiry, windows and schedules,
// safe to read from the goroutines of concurrency tests: perk serve's
// simulated clock (internal/clock), so tests and rehearsals move time the
// same way. Pass its Now where a service takes a clock.
type Clock = clock.Simulated

// NewClock returns a clock stopped at t.
func NewClock(t time.Time) *Clock { return clock.NewSimulated(t) }
