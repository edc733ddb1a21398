package webhook_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
	"github.com/perk-platform/perk/internal/webhook"
	"github.com/prometheus/client_golang/prometheus"
)

// TestMetrics_CountOutcomesAndShowTheOutboxDepth follows deliveries through
// the outbox and checks what an operator's /metrics shows at each step:
// what waits (due, scheduled for a retry, how long the oldest has waited)
// and what the attempts came to (delivered, retry, dead).
func TestMetrics_CountOutcomesAndShowTheOutboxDepth(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		reg := prometheus.NewRegistry()
		f.d.Metrics = webhook.NewMetrics(reg)
		reg.MustRegister(f.svc.DepthCollector(nil))
		ok, failing := newReceiver(t), newReceiver(t)
		failing.answer(http.StatusServiceUnavailable)
		f.endpoint(ok.URL, change.MemberCreated)
		f.endpoint(failing.URL, change.MemberCreated)

		check := func(step string, want testenv.Metrics) {
			t.Helper()
			got := testenv.Gather(t, reg)
			for series, v := range want {
				if g, present := got[series]; !present || g != v {
					t.Errorf("%s: %s = %v (present %v), want %v", step, series, g, present, v)
				}
			}
		}
		zero := testenv.Metrics{
			`perk_webhook_deliveries_total{outcome="delivered"}`:               0,
			`perk_webhook_deliveries_total{outcome="retry"}`:                   0,
			`perk_webhook_deliveries_total{outcome="dead"}`:                    0,
			`perk_webhook_attempt_duration_seconds_count{outcome="delivered"}`: 0,
			`perk_webhook_outbox_deliveries{status="due"}`:                     0,
			`perk_webhook_outbox_deliveries{status="scheduled"}`:               0,
			`perk_webhook_outbox_deliveries{status="sending"}`:                 0,
			`perk_webhook_outbox_oldest_due_seconds`:                           0,
		}
		check("before any event, every series is there at zero", zero)

		f.record(change.Event{Type: change.MemberCreated}, change.Event{Type: change.MemberCreated})
		f.clk.Advance(30 * time.Second) // past DepthMaxAge: the next scrape reads again
		check("two events for two endpoints, waiting 30 s", testenv.Metrics{
			`perk_webhook_outbox_deliveries{status="due"}`: 4,
			`perk_webhook_outbox_oldest_due_seconds`:       30,
		})

		f.drain()
		f.clk.Advance(webhook.DepthMaxAge)
		check("delivered to one endpoint, the other's two wait for their retry", testenv.Metrics{
			`perk_webhook_deliveries_total{outcome="delivered"}`:               2,
			`perk_webhook_deliveries_total{outcome="retry"}`:                   2,
			`perk_webhook_deliveries_total{outcome="dead"}`:                    0,
			`perk_webhook_attempt_duration_seconds_count{outcome="delivered"}`: 2,
			`perk_webhook_outbox_deliveries{status="due"}`:                     0,
			`perk_webhook_outbox_deliveries{status="scheduled"}`:               2,
			`perk_webhook_outbox_oldest_due_seconds`:                           0,
		})

		// Three days on, the failing endpoint's retries fail once more and
		// are out of time.
		f.clk.Advance(73 * time.Hour)
		f.drain()
		f.clk.Advance(webhook.DepthMaxAge)
		check("the failing endpoint's deliveries are dead after three days", testenv.Metrics{
			`perk_webhook_deliveries_total{outcome="delivered"}`: 2,
			`perk_webhook_deliveries_total{outcome="retry"}`:     2,
			`perk_webhook_deliveries_total{outcome="dead"}`:      2,
			`perk_webhook_outbox_deliveries{status="scheduled"}`: 0,
			`perk_webhook_outbox_deliveries{status="due"}`:       0,
		})
	})
}
