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
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/webhook"
)

// BenchmarkDispatch measures deliveries a second from a full outbox to a
// local receiver answering 204 at once: claim, sign, POST, settle and log.
// One op is one delivery.
func BenchmarkDispatch(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			db := storetest.Engine(b, engine)
			var got atomic.Int64
			rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				got.Add(1)
				w.WriteHeader(http.StatusNoContent)
			}))
			defer rcv.Close()
			svc := webhook.NewService(db, webhook.Options{AllowPrivate: true})
			ctx := context.Background()
			if _, err := svc.Create(ctx, webhook.Spec{URL: rcv.URL, EventTypes: []string{change.TransactionCommitted}}); err != nil {
				b.Fatal(err)
			}
			fill(b, db, svc, b.N)
			d := webhook.NewDispatcher(svc)
			d.PerEndpoint = d.Parallel // one endpoint: let it have every slot
			b.ResetTimer()
			start := time.Now()
			runCtx, cancel := context.WithCancel(ctx)
			done := make(chan error)
			go func() { done <- d.Run(runCtx) }()
			for got.Load() < int64(b.N) {
				time.Sleep(time.Millisecond)
			}
			cancel()
			if err := <-done; err != nil {
				b.Fatal(err)
			}
			elapsed := time.Since(start)
			b.StopTimer()
			var delivered int
			if err := db.R.QueryRow(`SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'delivered'`).Scan(&delivered); err != nil {
				b.Fatal(err)
			}
			if delivered != b.N {
				b.Fatalf("delivered %d of %d", delivered, b.N)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
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
