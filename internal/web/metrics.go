package web

import (
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests   *prometheus.CounterVec
	latency    *prometheus.HistogramVec
	enrolments *prometheus.CounterVec
	limited    *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "perk_http_requests_total", Help: "HTTP requests by route pattern and status code.",
		}, []string{"route", "code"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "perk_http_request_duration_seconds", Help: "HTTP request latency by route pattern.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		enrolments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "perk_member_enrolments_total", Help: "Members enrolled through HTTP, by channel and outcome (created or existing).",
		}, []string{"channel", "outcome"}),
		limited: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "perk_member_lookups_limited_total", Help: "Times a pos key (scope key) or a store's keys (scope store) ran out of member look-ups.",
		}, []string{"scope"}),
	}
	reg.MustRegister(m.requests, m.latency, m.enrolments, m.limited)
	return m
}

func levelFor(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelError
	case status >= 400:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

func slogAttrs(route string, status int, elapsed time.Duration, keyID string) []slog.Attr {
	attrs := []slog.Attr{slog.String("route", route), slog.Int("status", status), slog.Duration("elapsed", elapsed)}
	if keyID != "" {
		attrs = append(attrs, slog.String("key", keyID))
	}
	return attrs
}
