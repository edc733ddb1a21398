package sms

import (
	"context"
	"database/sql"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// DepthMaxAge is how long a reading of the queue's depth is reused: scrapes
// closer together than this (several Prometheus servers, a dashboard
// refreshing) cost the database nothing.
const DepthMaxAge = 5 * time.Second

// DepthCollector returns a Prometheus collector that reads, when scraped,
// how many messages wait in sms_outbox, how long the oldest due one has
// waited, and how many receipts wait for their message:
//
//	perk_sms_queue_messages{status="queued"}    due now, waiting for a sender
//	perk_sms_queue_messages{status="deferred"}  queued for later (quiet hours, frequency cap, retry back-off)
//	perk_sms_queue_messages{status="sending"}   claimed by a sender
//	perk_sms_queue_oldest_due_seconds           how long the oldest queued message has been due (0: none)
//	perk_sms_receipts_waiting                   receipts kept for a message not recorded as sent (yet)
//
// The outbox queries read only the (status, send_after) index; the waiting
// receipts are a small table unless receipt ids do not match (receipt_ids=
// on the SMPP URL). A reading is reused for DepthMaxAge on the queue's
// clock. Sent, failed and held messages are history, not depth (counting
// them would read every message ever sent): perk_sms_sent_total and
// perk_sms_send_failures_total count them. If the database does not answer,
// the series are left out of that scrape and the error is logged.
func (q *Queue) DepthCollector(log *slog.Logger) prometheus.Collector {
	if log == nil {
		log = slog.Default()
	}
	return &depthCollector{q: q, log: log,
		messages: prometheus.NewDesc("perk_sms_queue_messages",
			"Messages waiting in the outbound queue, by status: queued (due now), deferred (queued for later), sending (claimed by a sender).",
			[]string{"status"}, nil),
		oldest: prometheus.NewDesc("perk_sms_queue_oldest_due_seconds",
			"How long the oldest queued message has been due without being sent; 0 when none is due.", nil, nil),
		waiting: prometheus.NewDesc("perk_sms_receipts_waiting",
			"Delivery receipts kept because no sent message had their gateway id; a few come before their submit is recorded, a steady count means receipt ids do not match.",
			nil, nil),
	}
}

type depthCollector struct {
	q                *Queue
	log              *slog.Logger
	messages, oldest *prometheus.Desc
	waiting          *prometheus.Desc

	mu   sync.Mutex
	last depthReading // guarded by mu; the latest reading
}

type depthReading struct {
	at                        time.Time // zero until the first reading
	queued, deferred, sending float64
	oldestDue                 float64 // seconds
	waiting                   float64 // early receipts
}

func (c *depthCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.messages
	ch <- c.oldest
	ch <- c.waiting
}

func (c *depthCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	defer c.mu.Unlock() // one reading at a time: concurrent scrapes wait for it
	now := c.q.utc()
	if c.last.at.IsZero() || now.Sub(c.last.at) >= DepthMaxAge || now.Before(c.last.at) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		r, err := c.q.depth(ctx, now)
		cancel()
		if err != nil {
			c.log.Warn("sms queue depth", "err", err)
			return
		}
		c.last = r
	}
	r := c.last
	ch <- prometheus.MustNewConstMetric(c.messages, prometheus.GaugeValue, r.queued, StatusQueued)
	ch <- prometheus.MustNewConstMetric(c.messages, prometheus.GaugeValue, r.deferred, "deferred")
	ch <- prometheus.MustNewConstMetric(c.messages, prometheus.GaugeValue, r.sending, StatusSending)
	ch <- prometheus.MustNewConstMetric(c.oldest, prometheus.GaugeValue, r.oldestDue)
	ch <- prometheus.MustNewConstMetric(c.waiting, prometheus.GaugeValue, r.waiting)
}

// depth reads the queue's depth at now.
func (q *Queue) depth(ctx context.Context, now time.Time) (depthReading, error) {
	r := depthReading{at: now}
	rows, err := q.db.R.QueryContext(ctx, `SELECT status, CASE WHEN send_after <= $1 THEN 1 ELSE 0 END, COUNT(*)
		FROM sms_outbox WHERE status IN ('queued', 'sending') GROUP BY 1, 2`, now)
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
			r.sending += n // a lease run out (crashed sender) is still sending until claimed again
		case due == 1:
			r.queued = n
		default:
			r.deferred = n
		}
	}
	if err := rows.Err(); err != nil {
		return r, err
	}
	var oldest time.Time
	err = q.db.R.QueryRowContext(ctx, `SELECT send_after FROM sms_outbox WHERE status = 'queued' AND send_after <= $1
		ORDER BY send_after LIMIT 1`, now).Scan(&oldest)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return r, err
	default:
		r.oldestDue = max(0, now.Sub(oldest).Seconds())
	}
	if err := q.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM sms_early_receipts`).Scan(&r.waiting); err != nil {
		return r, err
	}
	return r, nil
}
