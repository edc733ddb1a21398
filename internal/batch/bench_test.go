package batch_test

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/batch"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// benchBaskets is the size of the benchmark's transaction file; scale the
// figures in docs/benchmarks.md from it.
const benchBaskets = 2000

// BenchmarkTransactionFile sends a JSON Lines file of benchBaskets
// operations (sales by members and anonymous shoppers, returns, voids) into
// a fresh database, then the same file again, and reports baskets/s of each.
func BenchmarkTransactionFile(b *testing.B) {
	for _, bc := range []struct {
		engine  string
		workers int
	}{{"sqlite", 1}, {"sqlite", 4}, {"postgres", 1}, {"postgres", 8}} {
		engine := bc.engine
		b.Run(fmt.Sprintf("%s/workers=%d", engine, bc.workers), func(b *testing.B) {
			var first, again, firstCPU, againCPU time.Duration
			var records int
			for range b.N {
				b.StopTimer()
				w := newWorld(b, storetest.Engine(b, engine))
				w.seed(50)
				ops := scenario(benchBaskets, w.phones)
				w.clock.Set(ops[len(ops)-1].at)
				file := jsonl(ops)
				proc := batch.NewProcessor(w.checkout, batch.Options{Now: w.clock.Now, DB: w.db, Workers: bc.workers})
				cpu := newCPUMeter(w.db)
				c0 := cpu.now(b)
				b.StartTimer()
				t0 := time.Now()
				sum, err := proc.Process(context.Background(), bytes.NewReader(file), batch.Run{Format: batch.JSONL})
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				b.StopTimer()
				c1 := cpu.now(b)
				b.StartTimer()
				t2 := time.Now()
				re, err := proc.Process(context.Background(), bytes.NewReader(file), batch.Run{Format: batch.JSONL})
				if err != nil || re.Committed != 0 {
					b.Fatal(re, err)
				}
				again += time.Since(t2)
				b.StopTimer()
				c2 := cpu.now(b)
				first, records = first+t1.Sub(t0), records+sum.Records
				firstCPU, againCPU = firstCPU+c1-c0, againCPU+c2-c1
			}
			b.ReportMetric(float64(records)/first.Seconds(), "baskets/s")
			b.ReportMetric(float64(records)/again.Seconds(), "reupload_baskets/s")
			// CPU per basket, this process's and (PostgreSQL) the server's:
			// the figure that holds on a busy machine.
			b.ReportMetric(float64(firstCPU.Microseconds())/float64(records), "cpu_us/basket")
			b.ReportMetric(float64(againCPU.Microseconds())/float64(records), "reupload_cpu_us/basket")
		})
	}
}

// BenchmarkOfferExport writes a full offer export of benchMembers members
// with the four standard campaigns and reports members/s.
func BenchmarkOfferExport(b *testing.B) {
	const benchMembers = 20000
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			w := newWorld(b, storetest.Engine(b, engine))
			w.seed(0)
			ctx := context.Background()
			now := w.clock.Now()
			tx, err := w.db.W.BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			for i := range benchMembers {
				if _, err := tx.ExecContext(ctx, `INSERT INTO members (id, code, phone, channel, status, enrolled_at, updated_at)
					VALUES ($1, $2, $3, 'api', 'active', $4, $4)`, fmt.Sprintf("mem_%026d", i), fmt.Sprintf("9%07d", i),
					fmt.Sprintf("+4477%08d", i), now); err != nil {
					b.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				m, err := w.exporter.Export(ctx, batch.ExportOptions{Format: batch.CSV, Dir: b.TempDir()})
				if err != nil {
					b.Fatal(err)
				}
				if m.Files[0].Rows != 4*benchMembers {
					b.Fatalf("%d rows", m.Files[0].Rows)
				}
			}
			b.ReportMetric(float64(benchMembers)*float64(b.N)/b.Elapsed().Seconds(), "members/s")
		})
	}
}
