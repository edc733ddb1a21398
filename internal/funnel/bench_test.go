package funnel

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
)

// BenchmarkBuyPipeline runs a campaign's tracked buy pipeline over a stream of
// PERK_BENCH_FUNNEL_EVENTS events (default 200,000; docs/benchmarks.md has
// 10,000,000), ten per person over 30 days, a fifth of them texts of one of
// ten campaigns. The stream is written in bulk straight into the events
// table (COPY on PostgreSQL, multi-row inserts on SQLite) and folded into
// the rollup (and the funnel's per-person state) before timing; both are
// logged with their time, and so is one report from the rollup's rows
// (runRollup, the funnel untracked), for comparison. Besides ns/op
// it reports this process's CPU seconds per report (user+sys, getrusage)
// and, on PostgreSQL, the server backend's (the pool is one connection, so
// one backend does all the work; read from /proc). With
// PERK_BENCH_FUNNEL_STREAM=1 it also logs one report read from the stream
// instead of the rollup, for comparison.
//
//	PERK_BENCH_FUNNEL_EVENTS=10000000 go test -run '^$' -bench BuyPipeline -benchtime 3x -timeout 2h ./internal/funnel/
func BenchmarkBuyPipeline(b *testing.B) {
	n := 200_000
	if v, err := strconv.Atoi(os.Getenv("PERK_BENCH_FUNNEL_EVENTS")); err == nil && v > 0 {
		n = v
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		// Opened here, not in b.Run's function, which the benchmark runs
		// twice (b.N = 1, then b.N as asked): the stream is written once.
		db := storetest.Engine(b, engine)
		if engine == "postgres" {
			db.R.SetMaxOpenConns(1)
		}
		written := false
		b.Run(fmt.Sprintf("%s/%d", engine, n), func(b *testing.B) {
			ctx := context.Background()
			if written {
				report(b, NewService(db, nil))
				return
			}
			written = true
			start := time.Now()
			bulkWorld(b, db, n)
			b.Logf("wrote %d events in %s", n, time.Since(start).Round(time.Millisecond))
			s := NewService(db, nil)
			// Tracked before the fold, as a campaign's pipeline is from its
			// launch: the fold keeps its per-person state.
			if _, err := s.Track(ctx, benchDef); err != nil {
				b.Fatal(err)
			}
			cpu, server := testenv.ProcessCPU().Seconds(), testenv.BackendCPU(b, db).Seconds()
			start = time.Now()
			folded, err := s.Refresh(ctx)
			if err != nil || folded != n {
				b.Fatal(folded, err)
			}
			b.Logf("rollup of %d events: %s wall, %.1f s CPU here, %.1f s server", folded, time.Since(start).Round(time.Millisecond),
				testenv.ProcessCPU().Seconds()-cpu, testenv.BackendCPU(b, db).Seconds()-server)
			analyze(b, db)
			cpu, server, start = testenv.ProcessCPU().Seconds(), testenv.BackendCPU(b, db).Seconds(), time.Now()
			r, _, err := s.runRollup(ctx, benchDef, t0, t0.Add(30*24*time.Hour))
			if err != nil {
				b.Fatal(err)
			}
			want := countsOf(r.Groups[0])
			if got, err := s.Run(ctx, benchDef, t0, t0.Add(30*24*time.Hour)); err != nil || fmt.Sprint(countsOf(got.Groups[0])) != fmt.Sprint(want) ||
				fmt.Sprint(got.Groups[0].MedianSeconds) == "" || *got.Groups[0].MedianSeconds != *r.Groups[0].MedianSeconds {
				b.Fatalf("from the state %v %v, from the rollup rows %v", got.Groups, err, r.Groups)
			}
			b.Logf("from the rollup rows (untracked): %s wall, %.2f s CPU here, %.2f s server; %v", time.Since(start).Round(time.Millisecond),
				testenv.ProcessCPU().Seconds()-cpu, testenv.BackendCPU(b, db).Seconds()-server, countsOf(r.Groups[0]))
			if os.Getenv("PERK_BENCH_FUNNEL_STREAM") == "1" {
				cpu, server, start = testenv.ProcessCPU().Seconds(), testenv.BackendCPU(b, db).Seconds(), time.Now()
				r, err := s.runStream(ctx, benchDef, t0, t0.Add(30*24*time.Hour))
				if err != nil {
					b.Fatal(err)
				}
				b.Logf("from the stream: %s wall, %.2f s CPU here, %.2f s server; %v", time.Since(start).Round(time.Millisecond),
					testenv.ProcessCPU().Seconds()-cpu, testenv.BackendCPU(b, db).Seconds()-server, countsOf(r.Groups[0]))
			}
			report(b, s)
		})
	}
}

var benchDef = BuyPipeline("c3", 7*24*time.Hour)

// report times b.N buy-pipeline reports from the tracked funnel's state
// (the first of them logged on its own, as the cold one).
func report(b *testing.B, s *Service) {
	ctx := context.Background()
	cpu, server := testenv.ProcessCPU().Seconds(), testenv.BackendCPU(b, s.db).Seconds()
	b.ResetTimer()
	var r Report
	var err error
	for i := 0; i < b.N; i++ {
		clear(s.cache) // a cold report each time
		if r, err = s.Run(ctx, benchDef, t0, t0.Add(30*24*time.Hour)); err != nil || r.Groups[0].Steps[0].Count == 0 {
			b.Fatal(err, r)
		}
	}
	b.StopTimer()
	wall := b.Elapsed() / time.Duration(b.N)
	cpuOp, serverOp := (testenv.ProcessCPU().Seconds()-cpu)/float64(b.N), (testenv.BackendCPU(b, s.db).Seconds()-server)/float64(b.N)
	b.ReportMetric(cpuOp, "cpu-s/op")
	if s.db.Dialect == store.Postgres {
		b.ReportMetric(serverOp, "server-cpu-s/op")
	}
	b.Logf("%d reports from the state: %s wall, %.3f s CPU here, %.3f s server each", b.N, wall.Round(time.Millisecond), cpuOp, serverOp)
	start := time.Now()
	if _, err := s.Run(ctx, benchDef, t0, t0.Add(30*24*time.Hour)); err != nil {
		b.Fatal(err)
	}
	b.Logf("from the state: %v, median %ds; once more: %s", countsOf(r.Groups[0]), *r.Groups[0].MedianSeconds, time.Since(start))
}

// bulkWorld writes n events of people of ten events each over 30 days from
// t0 straight into the events table, bypassing event.Record (no identity
// look-ups: every event names its member).
func bulkWorld(b *testing.B, db *store.DB, n int) {
	b.Helper()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	types := []string{event.PageViewed, event.PageViewed, event.ProductViewed, event.LinkClicked, event.CardViewed,
		event.CartUpdated, event.BasketCommitted, event.OrderPlaced, event.SMSDelivered, event.SMSDelivered}
	next := func(i int) []any {
		typ := types[r.IntN(len(types))]
		at := t0.Add(time.Duration(r.IntN(30*24*3600)) * time.Second)
		campaign := ""
		if typ == event.SMSDelivered {
			campaign = fmt.Sprintf("c%d", r.IntN(10))
		}
		return []any{"b" + strconv.Itoa(i), typ, at, at, "web", event.SourcePerk, fmt.Sprintf("mem_%07d", i/10), campaign, "{}"}
	}
	cols := []string{"event_id", "type", "occurred_at", "received_at", "channel", "source", "member_id", "campaign", "properties"}
	if db.Dialect == store.Postgres {
		conn, err := db.W.Conn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		defer conn.Close()
		err = conn.Raw(func(dc any) error {
			i := 0
			_, err := dc.(*stdlib.Conn).Conn().CopyFrom(ctx, pgx.Identifier{"events"}, cols, pgx.CopyFromFunc(func() ([]any, error) {
				if i == n {
					return nil, nil
				}
				i++
				return next(i - 1), nil
			}))
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		return
	}
	const rows = 100
	one := "(" + strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ") + ")"
	insert := func(k int) string {
		return `INSERT INTO events (` + strings.Join(cols, ", ") + `) VALUES ` + strings.TrimSuffix(strings.Repeat(one+", ", k), ", ")
	}
	// A transaction per 100,000 events, so the WAL is checkpointed as it
	// goes (one transaction of 10M events grew it past 1 GB).
	const perTx = 100_000
	for start := 0; start < n; start += perTx {
		end := min(start+perTx, n)
		if err := db.Tx(ctx, func(tx *sql.Tx) error { return bulkInsert(tx, insert, rows, cols, start, end, next) }); err != nil {
			b.Fatal(err)
		}
	}
}

// bulkInsert inserts events start to end (next gives their values) by
// statements of rows rows (insert gives a statement of k rows).
func bulkInsert(tx *sql.Tx, insert func(k int) string, rows int, cols []string, start, end int, next func(int) []any) error {
	full, err := tx.Prepare(insert(rows))
	if err != nil {
		return err
	}
	defer full.Close()
	args := make([]any, 0, rows*len(cols))
	for i := start; i < end; {
		k := min(rows, end-i)
		args = args[:0]
		for j := 0; j < k; j++ {
			args = append(args, next(i+j)...)
		}
		if k == rows {
			_, err = full.Exec(args...)
		} else {
			_, err = tx.Exec(insert(k), args...)
		}
		if err != nil {
			return err
		}
		i += k
	}
	return nil
}

func analyze(b *testing.B, db *store.DB) {
	b.Helper()
	q := `ANALYZE`
	if db.Dialect == store.Postgres {
		q = `ANALYZE events; ANALYZE funnel_rollup`
	}
	if _, err := db.W.Exec(q); err != nil {
		b.Fatal(err)
	}
}
