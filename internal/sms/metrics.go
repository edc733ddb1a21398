package sms

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the Prometheus series of the outbound side: what the senders
// hand to their gateway and what comes back in receipts. Make them with
// NewMetrics and give them to the Queue (SetMetrics) and the Sender
// (Sender.Metrics). A nil *Metrics records nothing, so a queue or sender
// without one works as before.
type Metrics struct {
	sent     *prometheus.CounterVec   // gateway
	segments *prometheus.CounterVec   // gateway
	failures *prometheus.CounterVec   // gateway, kind
	duration *prometheus.HistogramVec // gateway
	receipts *prometheus.CounterVec   // state
}

// receiptUnmatched is counted by perk_sms_receipts_total beside the
// delivery states for a receipt whose gateway id named no sent message when
// it came. It is kept (sms_early_receipts) and counted again under its state
// if the message's submission is recorded after all: an SMSC's receipt can
// outrun Perk's record of the submit by a moment. Receipts that stay
// unmatched are perk_sms_receipts_waiting (DepthCollector).
const receiptUnmatched = "unmatched"

// NewMetrics makes the series and registers them on reg (nil: nowhere).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		sent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "perk_sms_sent_total", Help: "Messages the gateway accepted, by gateway.",
		}, []string{"gateway"}),
		segments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "perk_sms_segments_sent_total", Help: "Message parts (SMS as billed) the gateway accepted, by gateway.",
		}, []string{"gateway"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "perk_sms_send_failures_total",
			Help: "Sends the gateway refused, by gateway and kind: temporary (retried with back-off) or permanent (failed for good).",
		}, []string{"gateway", "kind"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "perk_sms_send_duration_seconds",
			Help:    "Time the gateway took to accept or refuse a message, every part, including waits for an SMPP window slot or TPS token.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"gateway"}),
		receipts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "perk_sms_receipts_total",
			Help: "Delivery receipts: delivered, failed, expired and unknown count each receipt once, when it is recorded against its message; unmatched counts receipts that came before any sent message had their id (kept, and counted again by state if one does).",
		}, []string{"state"}),
	}
	for _, s := range []string{Delivered, Undeliv, Expired, Unknown, receiptUnmatched} {
		m.receipts.WithLabelValues(s)
	}
	if reg != nil {
		reg.MustRegister(m.sent, m.segments, m.failures, m.duration, m.receipts)
	}
	return m
}

// gateway makes a gateway's series exist at zero, so a rate or an alert
// has a series to read before the first send.
func (m *Metrics) gateway(name string) {
	if m == nil {
		return
	}
	m.sent.WithLabelValues(name)
	m.segments.WithLabelValues(name)
	m.failures.WithLabelValues(name, "temporary")
	m.failures.WithLabelValues(name, "permanent")
	m.duration.WithLabelValues(name)
}

// send records one call of a gateway's Send: segments > 0 if it accepted
// the message, else the kind of refusal.
func (m *Metrics) send(gateway string, took time.Duration, segments int, failure string) {
	if m == nil {
		return
	}
	m.duration.WithLabelValues(gateway).Observe(took.Seconds())
	if failure != "" {
		m.failures.WithLabelValues(gateway, failure).Inc()
		return
	}
	m.sent.WithLabelValues(gateway).Inc()
	m.segments.WithLabelValues(gateway).Add(float64(max(segments, 1)))
}

func (m *Metrics) receipt(state string, n int) {
	if m == nil || n == 0 {
		return
	}
	m.receipts.WithLabelValues(state).Add(float64(n))
}
