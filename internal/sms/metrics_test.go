package sms_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
)

// scripted is a gateway that answers by the message's purpose: an error if
// the script has one, else acceptance in two parts as "gw-" + the message id.
type scripted map[string]error

func (scripted) Name() string { return "smsc" }
func (s scripted) Send(_ context.Context, m sms.Message) (sms.Submitted, error) {
	if err := s[m.Purpose]; err != nil {
		return sms.Submitted{}, err
	}
	return sms.Submitted{GatewayID: "gw-" + m.ID, Segments: 2}, nil
}

// wantSeries checks each series' value.
func wantSeries(t *testing.T, got testenv.Metrics, want testenv.Metrics) {
	t.Helper()
	for series, v := range want {
		if g, ok := got[series]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", series, g, ok, v)
		}
	}
}

func TestMetrics_SendsFailuresAndReceiptsAreCounted(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q, c := setup(t, db)
		reg := prometheus.NewRegistry()
		m := sms.NewMetrics(reg)
		q.SetMetrics(m)
		s := sms.NewSender(q, scripted{
			"throttled": fmt.Errorf("ESME_RTHROTTLED: %w", sms.ErrTemporary),
			"invalid":   fmt.Errorf("ESME_RINVDSTADR: %w", sms.ErrPermanent),
		}, nil, quiet, c.Now)
		s.Metrics = m
		reg.MustRegister(q.DepthCollector(quiet))
		for i, purpose := range []string{"ok", "ok", "throttled", "invalid", "ok"} {
			enqueueKind(t, db, fmt.Sprintf("m%d", i), sms.Transactional, purpose, c.t.Add(time.Duration(i)*time.Millisecond))
		}
		// m4's receipt outruns the record of its submit: kept, then applied.
		if err := q.Delivered(ctx, sms.Receipt{GatewayID: "gw-m4", State: sms.Undeliv, At: c.t}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Once(ctx); err != nil {
			t.Fatal(err)
		}
		if err := q.DeliveredBatch(ctx, []sms.Receipt{
			{GatewayID: "gw-m0", State: sms.Delivered, At: c.t},
			{GatewayID: "gw-m1", State: sms.Expired, At: c.t},
			{GatewayID: "gw-never-sent", State: sms.Delivered, At: c.t},
		}); err != nil {
			t.Fatal(err)
		}
		wantSeries(t, testenv.Gather(t, reg), testenv.Metrics{
			`perk_sms_sent_total{gateway="smsc"}`:                           3, // accepted
			`perk_sms_segments_sent_total{gateway="smsc"}`:                  6, // two parts each
			`perk_sms_send_failures_total{gateway="smsc",kind="temporary"}`: 1, // retried later
			`perk_sms_send_failures_total{gateway="smsc",kind="permanent"}`: 1, // failed for good
			`perk_sms_send_duration_seconds_count{gateway="smsc"}`:          5, // every call timed
			`perk_sms_receipts_total{state="delivered"}`:                    1,
			`perk_sms_receipts_total{state="expired"}`:                      1,
			`perk_sms_receipts_total{state="failed"}`:                       1, // m4's, once its submit was recorded
			`perk_sms_receipts_total{state="unknown"}`:                      0, // present before the first
			`perk_sms_receipts_total{state="unmatched"}`:                    2, // m4's on arrival, and the stranger's
			`perk_sms_receipts_waiting`:                                     1, // the stranger's, for good
		})
	})
}

func TestDepthCollector_CountsWhatWaitsAndReusesAReadingForAFewSeconds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		q, c := setup(t, db)
		row := func(id, status string, sendAfter time.Duration) {
			t.Helper()
			if _, err := db.W.Exec(`INSERT INTO sms_outbox (id, to_phone, body, kind, purpose, status, created_at, send_after)
				VALUES ($1, '+447400123456', 'hi', 'transactional', 'test', $2, $3, $4)`,
				id, status, c.t.Add(-2*time.Hour), c.t.Add(sendAfter)); err != nil {
				t.Fatal(err)
			}
		}
		reg := prometheus.NewRegistry()
		reg.MustRegister(q.DepthCollector(quiet))
		steps := []struct {
			name    string
			do      func()
			advance time.Duration
			want    testenv.Metrics
		}{
			{
				name: "due, deferred and claimed messages are counted; sent, failed and held ones are history",
				do: func() {
					row("due-90s", sms.StatusQueued, -90*time.Second)
					row("due-10s", sms.StatusQueued, -10*time.Second)
					row("tonight", sms.StatusQueued, 9*time.Hour) // quiet hours
					row("claimed", sms.StatusSending, 30*time.Second)
					row("sent", sms.StatusSent, -time.Hour)
					row("failed", sms.StatusFailed, -time.Hour)
					row("held", sms.StatusHeld, -time.Hour)
				},
				want: testenv.Metrics{`perk_sms_queue_messages{status="queued"}`: 2, `perk_sms_queue_messages{status="deferred"}`: 1,
					`perk_sms_queue_messages{status="sending"}`: 1, `perk_sms_queue_oldest_due_seconds`: 90},
			},
			{
				name: "a scrape within a few seconds reuses the reading",
				do:   func() { row("due-5m", sms.StatusQueued, -5*time.Minute) }, advance: sms.DepthMaxAge - time.Second,
				want: testenv.Metrics{`perk_sms_queue_messages{status="queued"}`: 2, `perk_sms_queue_oldest_due_seconds`: 90},
			},
			{
				name: "a later scrape reads again",
				do:   func() {}, advance: time.Second,
				want: testenv.Metrics{`perk_sms_queue_messages{status="queued"}`: 3, `perk_sms_queue_oldest_due_seconds`: 300 + 5},
			},
			{
				name: "nothing due is an age of 0",
				do: func() {
					db.W.Exec(`UPDATE sms_outbox SET status = 'sent' WHERE status = 'queued' AND id LIKE 'due%'`)
				}, advance: sms.DepthMaxAge,
				want: testenv.Metrics{`perk_sms_queue_messages{status="queued"}`: 0, `perk_sms_queue_messages{status="deferred"}`: 1,
					`perk_sms_queue_oldest_due_seconds`: 0},
			},
		}
		for _, st := range steps {
			st.do()
			c.t = c.t.Add(st.advance)
			got := testenv.Gather(t, reg)
			for series, v := range st.want {
				if g, ok := got[series]; !ok || g != v {
					t.Errorf("%s: %s = %v (present %v), want %v", st.name, series, g, ok, v)
				}
			}
		}
	})
}
