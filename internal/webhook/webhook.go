// Package webhook sends Perk's changes to outside systems (a CRM, a data
// pipeline) as signed HTTP callbacks following the Standard Webhooks
// specification. It owns the endpoints (a URL, the event types it wants,
// its signing secrets), the durable outbox of deliveries and the dispatcher
// that works through it.
//
// The API is small:
//
//   - Service manages endpoints (Create, List, Get, Update, Delete, Rotate)
//     and reads the delivery log (Deliveries, Attempts), and Replay sends a
//     delivery again.
//   - Service.Record implements change.Recorder: domain packages hand it
//     their events inside their own transaction, and it writes one outbox
//     row per subscribed endpoint in that transaction (nothing when nobody
//     subscribed to the type).
//   - Dispatcher delivers due rows off the commit path: at least once,
//     retried with exponential back-off and jitter until Options.RetryFor
//     (3 days) has passed since the event, then dead-lettered.
//
// It is not an event stream or a message broker: no ordering is promised
// between deliveries, and receivers deduplicate on the webhook-id header.
package webhook

import (
	"log/slog"
	"math/rand/v2"
	"net"
	"time"

	"github.com/perk-platform/perk/internal/store"
)

// Options configure a Service. Zero values mean the defaults.
type Options struct {
	Now func() time.Time // clock; time.Now if nil
	Log *slog.Logger
	// AllowPrivate lets endpoints and deliveries reach loopback, private
	// and link-local addresses (--webhooks-allow-private; tests use it).
	AllowPrivate bool
	// Resolver resolves endpoint hosts at registration; net.DefaultResolver if nil.
	Resolver *net.Resolver
	// RetryFor is how long after its event a delivery is retried before it
	// is dead-lettered (3 days).
	RetryFor time.Duration
	// Grace is how long a rotated-out secret still signs deliveries beside
	// the new one (24 h).
	Grace time.Duration
	// Jitter spreads a retry's wait; the default multiplies it by a random
	// factor in [0.8, 1.2), so endpoints that failed together do not all
	// come back at once. Tests pass a fixed one.
	Jitter func(time.Duration) time.Duration
}

// Service manages endpoints, records events and reads deliveries.
type Service struct {
	db    *store.DB
	opt   Options
	cache *cache
}

// NewService returns a Service over db.
func NewService(db *store.DB, opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Resolver == nil {
		opt.Resolver = net.DefaultResolver
	}
	if opt.RetryFor == 0 {
		opt.RetryFor = 72 * time.Hour
	}
	if opt.Grace == 0 {
		opt.Grace = 24 * time.Hour
	}
	if opt.Jitter == nil {
		opt.Jitter = func(d time.Duration) time.Duration {
			return time.Duration(float64(d) * (0.8 + 0.4*rand.Float64()))
		}
	}
	s := &Service{db: db, opt: opt}
	s.cache = newCache(s)
	return s
}

func (s *Service) utc() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

// Backoff is the wait before retry number attempt (1-based) before jitter:
// 10 s, doubling, at most 4 h. Over 3 days that is about 25 attempts.
func Backoff(attempt int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < attempt && d < 4*time.Hour; i++ {
		d *= 2
	}
	return min(d, 4*time.Hour)
}
