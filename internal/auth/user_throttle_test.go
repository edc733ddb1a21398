package auth

import (
	"maps"
	"slices"
	"sync"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func TestThrottle_WhatAnAttemptCountsAgainst(t *testing.T) {
	tests := []struct {
		name, email, addr, device string
		want                      []limitKey
	}{
		{"a known device: its own count only, whatever the address", "ann@example.com", "192.0.2.1", "nonce1",
			[]limitKey{{"d:nonce1", 5, true}}},
		{"an unknown device: the email, the email from the address, the address", "ann@example.com", "192.0.2.1", "",
			[]limitKey{{"e:ann@example.com", 10, false}, {"ea:192.0.2.1 ann@example.com", 5, true}, {"a:192.0.2.1", 20, false}}},
		{"no address known: the email only", "ann@example.com", "", "",
			[]limitKey{{"e:ann@example.com", 10, false}}},
		{"IPv6: the /64", "ann@example.com", "2001:db8:1:2:aaaa::1", "",
			[]limitKey{{"e:ann@example.com", 10, false}, {"ea:2001:db8:1:2::/64 ann@example.com", 5, true}, {"a:2001:db8:1:2::/64", 20, false}}},
		{"IPv4 mapped into IPv6: the IPv4 address", "ann@example.com", "::ffff:192.0.2.1", "",
			[]limitKey{{"e:ann@example.com", 10, false}, {"ea:192.0.2.1 ann@example.com", 5, true}, {"a:192.0.2.1", 20, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := attemptKeys(tt.email, tt.addr, tt.device)
			if !slices.Equal(got, tt.want) {
				t.Fatalf("keys = %+v\nwant   %+v", got, tt.want)
			}
		})
	}
}

// Each step is an attempt at a minute past t0 against the keys of an email,
// an address and a device, and whether the password was right; want is the
// wait take answers (0: the password is checked).
func TestThrottle_SlidingWindowPerCount(t *testing.T) {
	type step struct {
		name                string
		min                 int
		email, addr, device string
		right               bool
		want                time.Duration
	}
	const ann, a, b = "ann@example.com", "192.0.2.1", "198.51.100.2"
	var steps []step
	for i := range 5 {
		steps = append(steps, step{"A guesses ann", i, ann, a, "", false, 0})
	}
	steps = append(steps,
		step{"A has used up its guesses for ann, until the first leaves the window", 5, ann, a, "", false, 10 * time.Minute},
		step{"even with the right password", 5, ann, a, "", true, 10 * time.Minute},
		step{"B is not A", 5, ann, b, "", true, 0},
		step{"A may try another email", 6, "bob@example.com", a, "", false, 0},
		step{"a known device of ann has its own count", 6, ann, a, "dev1", false, 0},
		step{"one guess has left the window: A may guess ann once more", 15, ann, a, "", false, 0},
		step{"and then waits for the next to leave", 15, ann, a, "", false, time.Minute},
	)
	th := newThrottle()
	for _, s := range steps {
		keys := attemptKeys(s.email, s.addr, s.device)
		at := t0.Add(time.Duration(s.min) * time.Minute)
		got := th.take(at, keys)
		if got != s.want {
			t.Fatalf("%s (minute %d): wait %v, want %v", s.name, s.min, got, s.want)
		}
		if got == 0 && s.right {
			th.succeed(at, keys)
		}
	}
}

func TestThrottle_AddressLimitCoversManyEmails(t *testing.T) {
	th := newThrottle()
	for i := range loginFailsPerAddr {
		if w := th.take(t0, attemptKeys(string(rune('a'+i))+"@example.com", "192.0.2.1", "")); w != 0 {
			t.Fatalf("email %d waits %v", i, w)
		}
	}
	if w := th.take(t0, attemptKeys("new@example.com", "192.0.2.1", "")); w != loginWindow {
		t.Fatalf("a 21st email from the address waits %v, want %v", w, loginWindow)
	}
	if w := th.take(t0, attemptKeys("new@example.com", "192.0.2.9", "")); w != 0 {
		t.Fatalf("another address waits %v", w)
	}
}

// The right password takes its attempt back from the shared counts and
// clears the operator's own (their typos from this address or device); it
// does not clear what strangers did elsewhere.
func TestThrottle_SuccessRefundsAndClearsOnlyTheOperatorsOwnCounts(t *testing.T) {
	th := newThrottle()
	const ann = "ann@example.com"
	for i := range 4 { // strangers at four addresses
		th.take(t0, attemptKeys(ann, "203.0.113."+string(rune('1'+i)), ""))
	}
	for range 4 { // the operator's typos at the office, then the right password
		th.take(t0, attemptKeys(ann, "192.0.2.1", ""))
	}
	keys := attemptKeys(ann, "192.0.2.1", "")
	th.take(t0, keys)
	th.succeed(t0, keys)
	got := map[string]int{}
	for _, k := range keys {
		got[k.key] = len(th.fails[k.key])
	}
	want := map[string]int{"e:" + ann: 8, "ea:192.0.2.1 " + ann: 0, "a:192.0.2.1": 4}
	if !maps.Equal(got, want) {
		t.Fatalf("failures after the success = %v, want %v", got, want)
	}
}

// Attempts sent at once cannot all pass the check before any failure is
// counted: each is counted as it is let through.
func TestThrottle_ParallelAttemptsCannotOverrunALimit(t *testing.T) {
	th := newThrottle()
	var mu sync.Mutex
	var wg sync.WaitGroup
	passed := 0
	for range 50 {
		wg.Go(func() {
			if th.take(t0, attemptKeys("ann@example.com", "192.0.2.1", "")) == 0 {
				mu.Lock()
				passed++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if passed != loginFailsPerMailAddr {
		t.Fatalf("%d attempts let through, want %d", passed, loginFailsPerMailAddr)
	}
}
