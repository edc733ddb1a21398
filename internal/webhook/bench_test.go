package webhook_test

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/webhook"
)

// BenchmarkDispatch measures deliveries a second from a full outbox to a
// local receiver answering 204 at once: claim, sign, POST, settle and log.
// One op is one delivery. Besides the rate it reports the CPU time a
// delivery costs (sender and receiver, and the PostgreSQL server's share),
// which the neighbours on a shared machine do not change.
func BenchmarkDispatch(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			db, server := benchDB(b, engine)
			svc, got := countingEndpoint(b, db, change.TransactionCommitted)
			fill(b, db, svc, b.N)
			b.ResetTimer()
			cpu := startCPU(server)
			stop := runDispatcher(svc)
			for got.Load() < int64(b.N) {
				time.Sleep(time.Millisecond)
			}
			stop()
			cpu.stop()
			b.StopTimer()
			var delivered int
			if err := db.R.QueryRow(`SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'delivered'`).Scan(&delivered); err != nil {
				b.Fatal(err)
			}
			if delivered != b.N {
				b.Fatalf("delivered %d of %d", delivered, b.N)
			}
			b.ReportMetric(float64(b.N)/cpu.Wall.Seconds(), "deliveries/s")
			// Sender and receiver share this process: its CPU is both's.
			cpu.report(b, b.N, "delivery")
		})
	}
}

// fill records n events, 500 a transaction, as tills' commits would.
func fill(b *testing.B, db *store.DB, svc *webhook.Service, n int) {
	b.Helper()
	for n > 0 {
		k := min(n, 500)
		events := make([]change.Event, k)
		for i := range events {
			events[i] = change.Event{Type: change.TransactionCommitted, Data: map[string]any{"transaction_id": i, "total": 1250}}
		}
		if err := db.Tx(context.Background(), func(tx *sql.Tx) error { return svc.Record(context.Background(), tx, events...) }); err != nil {
			b.Fatal(err)
		}
		n -= k
	}
}

// countingEndpoint is a service on db with one endpoint subscribed to
// types, on a local receiver that answers 204 and counts the requests.
func countingEndpoint(b *testing.B, db *store.DB, types ...string) (*webhook.Service, *atomic.Int64) {
	b.Helper()
	got := new(atomic.Int64)
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	b.Cleanup(rcv.Close)
	svc := webhook.NewService(db, webhook.Options{AllowPrivate: true})
	if _, err := svc.Create(context.Background(), webhook.Spec{URL: rcv.URL, EventTypes: types}); err != nil {
		b.Fatal(err)
	}
	return svc, got
}

// runDispatcher runs a dispatcher whose one endpoint may have every slot,
// until the returned stop is called.
func runDispatcher(svc *webhook.Service) (stop func()) {
	d := webhook.NewDispatcher(svc)
	d.PerEndpoint = d.Parallel
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	return func() { cancel(); <-done }
}
