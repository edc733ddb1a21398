package smpp

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perk-platform/perk/internal/testenv"
)

// waitUntil waits for the client's connection state to satisfy cond.
func waitUntil(t *testing.T, c *Client, what string, cond func() bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		c.mu.Lock()
		changed := c.changed
		c.mu.Unlock()
		if cond() {
			return
		}
		select {
		case <-changed:
		case <-deadline:
			t.Fatalf("timed out waiting until %s", what)
		}
	}
}

func TestMetrics_BindStateAndWindowFollowTheLink(t *testing.T) {
	gate := make(chan struct{})
	srv := newTestSMSC(t, gate)
	reg := prometheus.NewRegistry()
	c := New(testConfig(srv.addr, func(cfg *Config) { cfg.Window = 3; cfg.Registry = reg }), nil)
	check := func(step string, want testenv.Metrics) {
		t.Helper()
		got := testenv.Gather(t, reg)
		for series, v := range want {
			if g, ok := got[series]; !ok || g != v {
				t.Errorf("%s: %s = %v (present %v), want %v", step, series, g, ok, v)
			}
		}
	}

	check("before the first bind", testenv.Metrics{"perk_smpp_bound": 0, "perk_smpp_binds_total": 0,
		"perk_smpp_window_in_use": 0, "perk_smpp_window_size": 3, "perk_smpp_submit_duration_seconds_count": 0})

	runClient(t, c)
	waitUntil(t, c, "bound", c.Bound)
	check("bound", testenv.Metrics{"perk_smpp_bound": 1, "perk_smpp_binds_total": 1})

	errs := make(chan error, 3)
	for _, to := range []string{"447700900123", "447700900124", destThrottled} {
		go func() {
			_, err := c.Send(context.Background(), msg(to, "hello"))
			errs <- err
		}()
	}
	for range 3 {
		recv(t, srv.submits)
	}
	check("three submit_sm unanswered", testenv.Metrics{"perk_smpp_window_in_use": 3, "perk_smpp_submit_duration_seconds_count": 0})
	for range 3 {
		gate <- struct{}{}
	}
	for range 3 {
		recv(t, errs) // the throttled one fails; it was answered all the same
	}
	check("answered, one of them refused", testenv.Metrics{"perk_smpp_window_in_use": 0, "perk_smpp_submit_duration_seconds_count": 3})

	srv.stop()
	waitUntil(t, c, "the bind is lost", func() bool { return !c.Bound() })
	check("the SMSC went away", testenv.Metrics{"perk_smpp_bound": 0, "perk_smpp_binds_total": 1})
}
