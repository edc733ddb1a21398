package funnel

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
)

// BenchmarkFold measures what the background fold (Refresh) costs per
// event as a function of how many events it finds waiting: the same
// PERK_BENCH_FOLD_EVENTS events (default 300,000, the mix `perk bench events`
// sends: page views, product views and cart updates of 100,000 anonymous
// shoppers over one day) are written through event.Record in batches of
// 1,000 and folded every `backlog` events. Only the folds are measured:
// this process's CPU and, on PostgreSQL, the CPU of the two pools' backends
// (one connection each), per event folded.
//
//	go test -run '^$' -bench Fold -benchtime 1x -timeout 1h ./internal/funnel/
func BenchmarkFold(b *testing.B) {
	total := 300_000
	if v, err := strconv.Atoi(os.Getenv("PERK_BENCH_FOLD_EVENTS")); err == nil && v > 0 {
		total = v
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		for _, backlog := range []int{total / 10, total} {
			b.Run(fmt.Sprintf("%s/backlog=%d", engine, backlog), func(b *testing.B) {
				for range b.N {
					foldOnce(b, engine, total, backlog)
				}
			})
		}
	}
}

func foldOnce(b *testing.B, engine string, total, backlog int) {
	b.StopTimer()
	db := storetest.Engine(b, engine)
	db.W.SetMaxOpenConns(1)
	db.R.SetMaxOpenConns(1)
	ctx := context.Background()
	s := NewService(db, nil)
	pids := backendPIDs(b, db)
	r := rand.New(rand.NewPCG(7, 8))
	types := []string{event.PageViewed, event.PageViewed, event.PageViewed, event.PageViewed,
		event.ProductViewed, event.ProductViewed, event.ProductViewed, event.CartUpdated, event.CartUpdated}
	var cpu, server time.Duration
	folded := 0
	for written := 0; written < total; {
		for end := min(written+backlog, total); written < end; {
			n := min(event.MaxBatch, end-written)
			evs := make([]event.Event, n)
			for i := range evs {
				at := t0.Add(time.Duration(written+i) * 24 * time.Hour / time.Duration(total))
				evs[i] = event.Event{EventID: "f" + strconv.Itoa(written+i), Type: types[r.IntN(len(types))], Time: at,
					ReceivedAt: at, Channel: event.Web, Source: event.SourceAPI,
					AnonymousID: "a" + strconv.Itoa(r.IntN(100_000)), Properties: []byte(`{}`)}
			}
			if err := db.Tx(ctx, func(tx *sql.Tx) error { return event.Record(ctx, tx, db.Dialect, evs...) }); err != nil {
				b.Fatal(err)
			}
			written += n
		}
		c0, s0 := testenv.ProcessCPU(), pidsCPU(b, pids)
		b.StartTimer()
		n, err := s.Refresh(ctx)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		cpu, server = cpu+testenv.ProcessCPU()-c0, server+pidsCPU(b, pids)-s0
		folded += n
	}
	// A transaction of another test in the same database can hold the
	// boundary back past Refresh's wait: what it left is folded next time.
	for tries := 0; folded < total && tries < 100; tries++ {
		c0, s0 := testenv.ProcessCPU(), pidsCPU(b, pids)
		b.StartTimer()
		n, err := s.Refresh(ctx)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		cpu, server = cpu+testenv.ProcessCPU()-c0, server+pidsCPU(b, pids)-s0
		folded += n
		if n == 0 {
			time.Sleep(100 * time.Millisecond)
		}
	}
	if folded != total {
		b.Fatalf("folded %d events, wrote %d", folded, total)
	}
	b.ReportMetric(float64(cpu.Microseconds())/float64(total), "µs-cpu/event")
	if db.Dialect == store.Postgres {
		b.ReportMetric(float64(server.Microseconds())/float64(total), "µs-backends/event")
	}
}

// backendPIDs are the PostgreSQL backends of db's two pools (none on SQLite).
func backendPIDs(b *testing.B, db *store.DB) []int {
	if db.Dialect != store.Postgres {
		return nil
	}
	var w, r int
	if err := db.W.QueryRow(`SELECT pg_backend_pid()`).Scan(&w); err != nil {
		b.Fatal(err)
	}
	if err := db.R.QueryRow(`SELECT pg_backend_pid()`).Scan(&r); err != nil {
		b.Fatal(err)
	}
	return []int{w, r}
}

func pidsCPU(b *testing.B, pids []int) time.Duration {
	var t time.Duration
	for _, p := range pids {
		d, err := testenv.PIDCPU(p)
		if err != nil {
			b.Skipf("the server's CPU is not readable here: %v", err)
		}
		t += d
	}
	return t
}
