package auth

import (
	"fmt"
	"math"
	"net/netip"
	"sync"
	"time"

	"github.com/perk-platform/perk/internal/problem"
)

// Sign-in throttling (docs/operations.md, "Operator sign-in throttling").
// Failed sign-ins are counted in a sliding window against keys, each with
// its own limit; an attempt waits while any of its keys is at its limit.
//
// From a known device (a browser holding a valid device token of the
// operator, user_device.go) the only key is that device: nothing a stranger
// does elsewhere can make it wait.
//
// From anywhere else the keys are the email from this address (one address
// guessing one password), the address (one address trying many emails; it
// allows more, because an office's operators may share one), and the email
// from all unknown devices together (guessing from many addresses). That
// last key is the only way a stranger can make an operator wait, and only
// on a device the operator has not signed in from; a single address cannot
// use it up, since its own key stops it first.
//
// IPv6 addresses count by their /64, which one subscriber usually holds
// whole. The counts are in memory: per process, forgotten on restart.
const (
	loginWindow = 15 * time.Minute

	loginFailsPerDevice   = 5  // a known device of the operator
	loginFailsPerMailAddr = 5  // the email from one address
	loginFailsPerAddr     = 20 // one address, whatever the emails
	loginFailsPerMail     = 10 // the email from all unknown devices together
)

// ErrTooManyAttempts is what Login returns, inside a *ThrottledError, while
// one of the attempt's keys has used up its failed attempts.
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

// limitKey is one count an attempt is made against and that count's limit.
type limitKey struct {
	key   string
	limit int
	// mine is a count only the operator can be behind when the password
	// is right (a device, the email from an address): it is cleared then.
	mine bool
}

// attemptKeys are the counts a sign-in is made against: the device's alone
// when it is a known device of the operator (device is its token's id),
// else the email from the address, the address and the email.
func attemptKeys(email, addr, device string) []limitKey {
	if device != "" {
		return []limitKey{{"d:" + device, loginFailsPerDevice, true}}
	}
	keys := []limitKey{{"e:" + email, loginFailsPerMail, false}}
	if addr = addrKey(addr); addr != "" {
		keys = append(keys, limitKey{"ea:" + addr + " " + email, loginFailsPerMailAddr, true},
			limitKey{"a:" + addr, loginFailsPerAddr, false})
	}
	return keys
}

// addrKey is the part of an address that is counted: an IPv4 address, or
// an IPv6 address's /64.
func addrKey(addr string) string {
	ip, err := netip.ParseAddr(addr)
	switch {
	case err != nil:
		return addr
	case ip.Is4In6():
		return ip.Unmap().String()
	case ip.Is6():
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// throttle remembers the attempts that count as failures per key.
type throttle struct {
	mu    sync.Mutex             // guards fails and swept
	fails map[string][]time.Time // oldest first, at most the key's limit, all within the window when checked
	swept time.Time              // when fails last lost its old keys
}

func newThrottle() *throttle { return &throttle{fails: map[string][]time.Time{}} }

// take returns how long to wait if any key is at its limit. Otherwise it
// counts the attempt as a failure against every key at once, before the
// password is checked, so that attempts sent in parallel cannot overrun a
// limit; succeed takes it back if the password was right.
func (t *throttle) take(now time.Time, keys []limitKey) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.fails) > 100_000 && now.Sub(t.swept) >= time.Minute { // not a scan per attempt under attack
		t.swept = now
		for k, f := range t.fails {
			if len(recent(f, now)) == 0 {
				delete(t.fails, k)
			}
		}
	}
	var wait time.Duration
	for _, k := range keys {
		f := recent(t.fails[k.key], now)
		if len(f) == 0 {
			delete(t.fails, k.key)
			continue
		}
		t.fails[k.key] = f
		if len(f) >= k.limit {
			wait = max(wait, f[len(f)-k.limit].Add(loginWindow).Sub(now))
		}
	}
	if wait > 0 {
		return wait
	}
	for _, k := range keys {
		t.fails[k.key] = append(t.fails[k.key], now)
	}
	return 0
}

// succeed takes back the attempt take counted at the time at, after the
// right password, and clears the counts that were the operator's own
// failures (their typos on this device, or from this address).
func (t *throttle) succeed(at time.Time, keys []limitKey) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, k := range keys {
		f := t.fails[k.key]
		if k.mine {
			delete(t.fails, k.key)
			continue
		}
		for i := len(f) - 1; i >= 0; i-- {
			if f[i].Equal(at) {
				t.fails[k.key] = append(f[:i:i], f[i+1:]...)
				break
			}
		}
	}
}

// recent drops the failures older than the window.
func recent(f []time.Time, now time.Time) []time.Time {
	for len(f) > 0 && now.Sub(f[0]) >= loginWindow {
		f = f[1:]
	}
	return f
}
