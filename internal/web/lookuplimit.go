package web

import (
	"errors"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/problem"
)

// Tills find members by code, phone or card token, so a till's key could be
// used to try codes until one answers (the 10^7 codes in about 1.5 hours at
// the 2,000 a second a till key could ask for). lookupLimiter bounds how
// fast a pos key, and all the keys of one store together, may resolve
// members: token buckets whose burst a busy till never reaches and whose
// sustained rate is far above any till's but far below an enumerator's
// needs. A miss (no such member) costs MissCost tokens, a hit one: a till
// rarely misses, an enumerator mostly does.

// LookupLimit configures the limit on member resolution by pos keys.
type LookupLimit struct {
	Rate  float64 // tokens a second per key; 0 switches the limit off
	Burst float64 // tokens a key may spend at once
}

// Defaults: a till serving a customer every 20 seconds resolves a member a
// handful of times a basket; 300 at once and 5 a second is more than a whole
// store's rush, and leaves an enumerator 0.5 misses a second per key.
const (
	DefaultLookupRate  = 5
	DefaultLookupBurst = 300
	// LookupMissCost is what a miss costs, against 1 for a hit.
	LookupMissCost = 10
	// storeLookupFactor scales the per-key limit for all keys of a store.
	storeLookupFactor = 4
)

type lookupLimiter struct {
	limit LookupLimit
	now   func() time.Time
	log   *slog.Logger
	trips func(scope string) // counts a bucket running dry (a metric)

	mu      sync.Mutex // guards buckets
	buckets map[bucketKey]*tokenBucket
}

// bucketKey names a key's bucket or a store's.
type bucketKey struct {
	store bool
	id    string
}

type tokenBucket struct {
	tokens float64
	at     time.Time
	dry    bool // limited since it last had tokens: an event only per trip
}

func newLookupLimiter(limit LookupLimit, now func() time.Time, log *slog.Logger, trips func(string)) *lookupLimiter {
	return &lookupLimiter{limit: limit, now: now, log: log, trips: trips, buckets: map[bucketKey]*tokenBucket{}}
}

// errLookupsLimited is the answer while a bucket is empty; its Retry-After
// is set by the caller.
var errLookupsLimited = problem.New(problem.RateLimited, "lookups_limited",
	"too many member look-ups from this till or store; wait and try again")

// begin checks that the key and its store may resolve a member now. If not,
// it returns how long to wait. Otherwise it returns done, which the caller
// calls with the outcome of the resolution to charge for it.
func (l *lookupLimiter) begin(key *auth.Key) (done func(error), wait time.Duration) {
	if l == nil || l.limit.Rate <= 0 || key.Role != auth.RolePOS {
		return func(error) {}, 0
	}
	names := [2]bucketKey{{id: key.ID}, {store: true, id: key.Store}}
	now := l.now()
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.buckets) > 100_000 {
		l.sweep(now)
	}
	for i, name := range names {
		rate, burst := l.scaled(i == 1)
		b := l.bucket(name, burst, now)
		b.refill(now, rate, burst)
		if b.tokens < 1 {
			if !b.dry {
				b.dry = true
				scope := [2]string{"key", "store"}[i]
				l.trips(scope)
				l.log.Warn("member look-ups limited", "scope", scope, "key", key.ID, "store", key.Store,
					"rate_per_second", rate, "burst", burst)
			}
			return nil, time.Duration(math.Ceil((1-b.tokens)/rate)) * time.Second
		}
	}
	// A hit's token is taken now, so parallel requests cannot all pass on
	// the same last token; a miss pays the rest when its outcome is known.
	for _, name := range names {
		l.buckets[name].tokens--
	}
	return func(err error) {
		if !isMiss(err) {
			return
		}
		const cost = LookupMissCost - 1
		now := l.now()
		l.mu.Lock()
		defer l.mu.Unlock()
		for i, name := range names {
			rate, burst := l.scaled(i == 1)
			b := l.bucket(name, burst, now)
			b.refill(now, rate, burst)
			b.tokens -= cost
		}
	}, 0
}

func (l *lookupLimiter) scaled(store bool) (rate, burst float64) {
	if store {
		return l.limit.Rate * storeLookupFactor, l.limit.Burst * storeLookupFactor
	}
	return l.limit.Rate, l.limit.Burst
}

func (l *lookupLimiter) bucket(name bucketKey, burst float64, now time.Time) *tokenBucket {
	b := l.buckets[name]
	if b == nil {
		b = &tokenBucket{tokens: burst, at: now}
		l.buckets[name] = b
	}
	return b
}

func (b *tokenBucket) refill(now time.Time, rate, burst float64) {
	if d := now.Sub(b.at).Seconds(); d > 0 {
		b.tokens = math.Min(burst, b.tokens+d*rate)
		b.at = now
	}
	if b.tokens >= 1 {
		b.dry = false
	}
}

// sweep forgets full buckets: they hold nothing a new bucket would not.
func (l *lookupLimiter) sweep(now time.Time) {
	for name, b := range l.buckets {
		if now.Sub(b.at).Seconds()*l.limit.Rate >= l.limit.Burst*storeLookupFactor {
			delete(l.buckets, name)
		}
	}
}

// isMiss reports whether a resolution found no member: not found, or a
// member key that is no code, phone or token at all.
func isMiss(err error) bool {
	var p *problem.Error
	return errors.Is(err, member.ErrNotFound) || (errors.As(err, &p) && p.Field == "member")
}

// limitLookups runs resolve under the key's look-up limit, answering 429
// with Retry-After while the key or its store is limited.
func (s *Server) limitLookups(key *auth.Key, h func() error) error {
	done, wait := s.lookups.begin(key)
	if done == nil {
		return &retryAfter{p: errLookupsLimited, wait: wait}
	}
	err := h()
	done(err)
	return err
}

// retryAfter is an error whose answer carries a Retry-After header.
type retryAfter struct {
	p    *problem.Error
	wait time.Duration
}

func (e *retryAfter) Error() string { return e.p.Error() }
func (e *retryAfter) Unwrap() error { return e.p }

func (e *retryAfter) seconds() string { return strconv.Itoa(int(math.Ceil(e.wait.Seconds()))) }
