package auth

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/perk-platform/perk/internal/problem"
)

// Login limits: failed sign-ins within a sliding window, per email (guessing
// one operator's password) and per client address (trying many emails).
// The address allows more, because an office's operators may share one.
// A success clears the email's count, not the address's. The counts are in
// memory: per process, forgotten on restart.
const (
	loginWindow       = 15 * time.Minute
	loginFailsPerMail = 5
	loginFailsPerAddr = 20
)

// ErrTooManyAttempts is what Login returns, inside a *ThrottledError, while
// an email or an address has used up its failed attempts.
var ErrTooManyAttempts = problem.New(problem.RateLimited, "login_throttled",
	"too many failed sign-in attempts; please wait a few minutes and try again")

// ThrottledError says how long until Login will try again.
type ThrottledError struct {
	RetryAfter time.Duration
}

func (e *ThrottledError) Error() string {
	return fmt.Sprintf("%s (retry in %d minutes)", ErrTooManyAttempts.Message, e.Minutes())
}

func (e *ThrottledError) Unwrap() error { return ErrTooManyAttempts }

// Minutes is RetryAfter rounded up to whole minutes, for people.
func (e *ThrottledError) Minutes() int { return int(math.Ceil(e.RetryAfter.Minutes())) }

// throttle remembers the most recent failures per key ("e:" + email,
// "a:" + address).
type throttle struct {
	mu    sync.Mutex             // guards fails
	fails map[string][]time.Time // oldest first, at most the key's limit, all within the window when checked
}

func newThrottle() *throttle { return &throttle{fails: map[string][]time.Time{}} }

func throttleKeys(email, addr string) (keys []string, limits []int) {
	keys, limits = []string{"e:" + email}, []int{loginFailsPerMail}
	if addr != "" {
		keys, limits = append(keys, "a:"+addr), append(limits, loginFailsPerAddr)
	}
	return keys, limits
}

// wait returns how long the email or the address must wait, 0 if neither.
func (t *throttle) wait(now time.Time, email, addr string) time.Duration {
	keys, limits := throttleKeys(email, addr)
	t.mu.Lock()
	defer t.mu.Unlock()
	var wait time.Duration
	for i, k := range keys {
		f := recent(t.fails[k], now)
		if len(f) >= limits[i] {
			wait = max(wait, f[len(f)-limits[i]].Add(loginWindow).Sub(now))
		}
	}
	return wait
}

// fail records a failed attempt.
func (t *throttle) fail(now time.Time, email, addr string) {
	keys, limits := throttleKeys(email, addr)
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.fails) > 100_000 {
		for k, f := range t.fails {
			if len(recent(f, now)) == 0 {
				delete(t.fails, k)
			}
		}
	}
	for i, k := range keys {
		f := append(recent(t.fails[k], now), now)
		if len(f) > limits[i] {
			f = f[len(f)-limits[i]:]
		}
		t.fails[k] = f
	}
}

// succeed forgets the email's failures.
func (t *throttle) succeed(email string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.fails, "e:"+email)
}

// recent drops the failures older than the window.
func recent(f []time.Time, now time.Time) []time.Time {
	for len(f) > 0 && now.Sub(f[0]) >= loginWindow {
		f = f[1:]
	}
	return f
}
