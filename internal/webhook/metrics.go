package webhook

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Outcomes of a settled attempt, the label of perk_webhook_deliveries_total.
const (
	OutcomeDelivered = "delivered" // the endpoint answered 2xx
	OutcomeRetry     = "retry"     // it failed and will be tried again after back-off
	OutcomeDead      = "dead"      // it failed and will not be: expired, or the endpoint was removed
)

// Metrics are the dispatcher's Prometheus series. Make them with
// NewMetrics and set Dispatcher.Metrics before Run; a nil *Metrics records
// nothing.
type Metrics struct {
	attempts *prometheus.CounterVec   // outcome
	latency  *prometheus.HistogramVec // outcome
}

// NewMetrics makes the series and registers them on reg (nil: nowhere):
//
//	perk_webhook_deliveries_total{outcome}           attempts recorded, by outcome: delivered, retry, dead
//	perk_webhook_attempt_duration_seconds{outcome}   request to last byte of the answer
//
// An attempt is counted when its outcome is recorded, so an attempt whose
// claim was lost meanwhile (its lease ran out and another dispatcher took
// it) is not counted twice.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "perk_webhook_deliveries_total",
			Help: "Webhook delivery attempts recorded, by outcome: delivered (2xx), retry (failed, tried again after back-off), dead (failed for good: expired or endpoint removed).",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "perk_webhook_attempt_duration_seconds",
			Help:    "Time from sending a webhook request to the last byte of its answer (or the failure), by outcome.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"outcome"}),
	}
	for _, o := range []string{OutcomeDelivered, OutcomeRetry, OutcomeDead} {
		m.attempts.WithLabelValues(o)
		m.latency.WithLabelValues(o)
	}
	if reg != nil {
		reg.MustRegister(m.attempts, m.latency)
	}
	return m
}

// settled counts the attempts settle recorded.
func (m *Metrics) settled(os []outcome, statuses map[string]string) {
	if m == nil {
		return
	}
	for _, o := range os {
		st, ok := statuses[o.job.id]
		if !ok {
			continue
		}
		outcome := OutcomeRetry
		switch st {
		case StatusDelivered:
			outcome = OutcomeDelivered
		case StatusDead:
			outcome = OutcomeDead
		}
		m.attempts.WithLabelValues(outcome).Inc()
		m.latency.WithLabelValues(outcome).Observe(o.latency.Seconds())
	}
}

// DepthMaxAge is how long a reading of the outbox's depth is reused, so
// that frequent scrapes cost the database nothing.
const DepthMaxAge = 5 * time.Second

// DepthCollector returns a Prometheus collector that reads, when scraped,
// what waits in the outbox:
//
//	perk_webhook_outbox_deliveries{status="due"}        pending and due now, waiting for a dispatcher
//	perk_webhook_outbox_deliveries{status="scheduled"}  pending, due later (retry back-off)
//	perk_webhook_outbox_deliveries{status="sending"}    claimed by a dispatcher
//	perk_webhook_outbox_oldest_due_seconds              how long the oldest due delivery has waited (0: none)
//
// The queries read only the due index (pending and sending rows by
// next_at): delivered and dead
// deliveries are history, counted by perk_webhook_deliveries_total. A
// reading is reused for DepthMaxAge on the service's clock. If the
// database does not answer, the series are left out of that scrape and the
// error is logged.
func (s *Service) DepthCollector(log *slog.Logger) prometheus.Collector {
	if log == nil {
		log = s.opt.Log
	}
	return &depthCollector{s: s, log: log,
		deliveries: prometheus.NewDesc("perk_webhook_outbox_deliveries",
			"Webhook deliveries waiting in the outbox, by status: due (now), scheduled (a retry later), sending (claimed by a dispatcher).",
			[]string{"status"}, nil),
		oldest: prometheus.NewDesc("perk_webhook_outbox_oldest_due_seconds",
			"How long the oldest due webhook delivery has waited for a dispatcher; 0 when none is due.", nil, nil),
	}
}

type depthCollector struct {
	s                  *Service
	log                *slog.Logger
	deliveries, oldest *prometheus.Desc

	mu   sync.Mutex
	last depthReading // guarded by mu
}

type depthReading struct {
	at                      time.Time // zero until the first reading
	due, scheduled, sending float64
	oldestDue               float64 // seconds
}

func (c *depthCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.deliveries
	ch <- c.oldest
}

func (c *depthCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.s.utc()
	if c.last.at.IsZero() || now.Sub(c.last.at) >= DepthMaxAge || now.Before(c.last.at) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		r, err := c.s.depth(ctx, now)
		cancel()
		if err != nil {
			c.log.Warn("webhook outbox depth", "err", err)
			return
		}
		c.last = r
	}
	r := c.last
	ch <- prometheus.MustNewConstMetric(c.deliveries, prometheus.GaugeValue, r.due, "due")
	ch <- prometheus.MustNewConstMetric(c.deliveries, prometheus.GaugeValue, r.scheduled, "scheduled")
	ch <- prometheus.MustNewConstMetric(c.deliveries, prometheus.GaugeValue, r.sending, StatusSending)
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, r.oldestDue)
}

// depth reads the outbox's depth at now.
func (s *Service) depth(ctx context.Context, now time.Time) (depthReading, error) {
	r := depthReading{at: now}
	rows, err := s.db.R.QueryContext(ctx, `SELECT status, CASE WHEN next_at <= $1 THEN 1 ELSE 0 END, COUNT(*)
		FROM webhook_deliveries WHERE status IN ('pending', 'sending') GROUP BY 1, 2`, now)
	if err != nil {
		return r, err
	}
	defer rows.Close()
	for rows.Next() {
		var status string
		var due int
		var n float64
		if err := rows.Scan(&status, &due, &n); err != nil {
			return r, err
		}
		switch {
		case status == StatusSending:
			r.sending += n // a lease run out (a dead dispatcher) is sending until claimed again
		case due == 1:
			r.due = n
		default:
			r.scheduled = n
		}
	}
	if err := rows.Err(); err != nil {
		return r, err
	}
	var oldest time.Time
	// The IN term repeats the due index's condition, so that SQLite, which
	// does not infer it from status = 'pending', reads that index.
	err = s.db.R.QueryRowContext(ctx, `SELECT next_at FROM webhook_deliveries WHERE status IN ('pending', 'sending')
		AND status = 'pending' AND next_at <= $1
		ORDER BY next_at LIMIT 1`, now).Scan(&oldest)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return r, err
	default:
		r.oldestDue = max(0, now.Sub(oldest).Seconds())
	}
	return r, nil
}
