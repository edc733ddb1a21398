package checkout

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perk-platform/perk/internal/problem"
)

// metrics are the checkout's Prometheus series:
//
//	perk_checkout_commits_total{outcome}   committed, replayed (a repeated request answered from the
//	                                       stored basket), conflict (a transaction id reused for another
//	                                       basket), rejected (any other answer the till is told why), error
//	perk_checkout_commit_retries_total     commits restarted because a campaign's limit or budget ran out
//	                                       under them (tills racing for the last uses)
type metrics struct {
	commits *prometheus.CounterVec
	retries prometheus.Counter
}

// Outcomes of a commit.
var commitOutcomes = []string{"committed", "replayed", "conflict", "rejected", "error"}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		commits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "perk_checkout_commits_total",
			Help: "Till commits by outcome: committed, replayed (answered from the stored basket), conflict (transaction id reused for another basket), rejected (invalid), error.",
		}, []string{"outcome"}),
		retries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "perk_checkout_commit_retries_total",
			Help: "Commits restarted because a campaign's limit or budget was used up under them.",
		}),
	}
	for _, o := range commitOutcomes {
		m.commits.WithLabelValues(o)
	}
	if reg != nil {
		reg.MustRegister(m.commits, m.retries)
	}
	return m
}

func (m *metrics) commit(replayed bool, err error) {
	outcome := "committed"
	switch {
	case errors.Is(err, ErrConflict):
		outcome = "conflict"
	case err != nil && problem.KindOf(err) != problem.Internal:
		outcome = "rejected"
	case err != nil:
		outcome = "error"
	case replayed:
		outcome = "replayed"
	}
	m.commits.WithLabelValues(outcome).Inc()
}
