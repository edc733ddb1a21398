package batch_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/batch"
	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// benchBaskets is the size of the benchmark's transaction file; scale the
// figures in docs/benchmarks.md from it.
const benchBaskets = 2000

// BenchmarkTransactionFile sends a JSON Lines file of benchBaskets
// operations (sales by members and anonymous shoppers, returns, voids) into
// a fresh database, then the same file again, and reports baskets/s of each.
//
// PERK_BENCH_BASKETS=N (with PERK_BENCH_SHOPPERS members, default 50) runs
// a file of N operations spread over 25 days instead, so that the
// campaigns stay live to its end (the default file outlasts their 30 days:
// most of it commits with no campaign live). PERK_BENCH_FILE=PATH keeps
// that file on disk and reads it from there, so a 1,000,000-basket run
// holds neither the operations nor the file in memory: the first run
// writes it and skips, the next ones measure (peak_rss_MB is then the
// upload's bound). PERK_BENCH_PROFILE=DIR writes CPU profiles of the two
// uploads alone.
func BenchmarkTransactionFile(b *testing.B) {
	n, shoppers := envInt(b, "PERK_BENCH_BASKETS", 0), envInt(b, "PERK_BENCH_SHOPPERS", 50)
	path := os.Getenv("PERK_BENCH_FILE")
	if path != "" && n > 0 {
		if _, err := os.Stat(path + ".end"); err != nil {
			keys := make([]string, shoppers)
			for i := range keys {
				keys[i] = shopperPhone(i)
			}
			if err := writeBenchFile(path, n, keys); err != nil {
				b.Fatal(err)
			}
			b.Skipf("wrote %s (%d operations); run again to measure", path, n)
		}
	}
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
				var open func() io.Reader
				var end time.Time
				if n == 0 {
					w.seed(50)
					ops := scenario(benchBaskets, w.phones)
					end = ops[len(ops)-1].at
					file := jsonl(ops)
					open = func() io.Reader { return bytes.NewReader(file) }
				} else {
					w.seed(shoppers)
					if path == "" {
						ops := scenarioOver(n, w.phones, 25*24*time.Hour)
						end = ops[len(ops)-1].at
						file := jsonl(ops)
						open = func() io.Reader { return bytes.NewReader(file) }
					} else {
						raw, err := os.ReadFile(path + ".end")
						if err != nil {
							b.Fatal(err)
						}
						if end, err = time.Parse(time.RFC3339Nano, strings.TrimSpace(string(raw))); err != nil {
							b.Fatal(err)
						}
						open = func() io.Reader {
							f, err := os.Open(path)
							if err != nil {
								b.Fatal(err)
							}
							b.Cleanup(func() { f.Close() })
							return f
						}
					}
				}
				w.clock.Set(end)
				proc := batch.NewProcessor(w.checkout, batch.Options{Now: w.clock.Now, DB: w.db, Workers: bc.workers})
				cpu := newCPUMeter(w.db)
				c0 := cpu.now(b)
				stop := profile(b, fmt.Sprintf("%s-%d-first", engine, bc.workers))
				b.StartTimer()
				t0 := time.Now()
				sum, err := proc.Process(context.Background(), open(), batch.Run{Format: batch.JSONL})
				if err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				b.StopTimer()
				stop()
				c1 := cpu.now(b)
				stop = profile(b, fmt.Sprintf("%s-%d-again", engine, bc.workers))
				b.StartTimer()
				t2 := time.Now()
				re, err := proc.Process(context.Background(), open(), batch.Run{Format: batch.JSONL})
				if err != nil || re.Committed != 0 {
					b.Fatal(re, err)
				}
				again += time.Since(t2)
				b.StopTimer()
				stop()
				c2 := cpu.now(b)
				first, records = first+t1.Sub(t0), records+sum.Records
				firstCPU, againCPU = firstCPU+c1-c0, againCPU+c2-c1
				b.Logf("first %+v; again %+v", sum, re)
			}
			b.ReportMetric(float64(records)/first.Seconds(), "baskets/s")
			b.ReportMetric(float64(records)/again.Seconds(), "reupload_baskets/s")
			// CPU per basket, this process's and (PostgreSQL) the server's:
			// the figure that holds on a busy machine.
			b.ReportMetric(float64(firstCPU.Microseconds())/float64(records), "cpu_us/basket")
			b.ReportMetric(float64(againCPU.Microseconds())/float64(records), "reupload_cpu_us/basket")
			var ru syscall.Rusage
			if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err == nil {
				b.ReportMetric(float64(ru.Maxrss)/1024, "peak_rss_MB") // Maxrss is in KiB on Linux
			}
		})
	}
}

// envInt is the integer in the environment variable name, or def.
func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	return n
}

// writeBenchFile writes the file of n operations by shoppers with keys to
// path, and the time of its last operation to path.end.
func writeBenchFile(path string, n int, keys []string) error {
	ops := scenarioOver(n, keys, 25*24*time.Hour)
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	writeJSONL(w, ops)
	if err := w.Flush(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.WriteFile(path+".end", []byte(ops[len(ops)-1].at.Format(time.RFC3339Nano)), 0o644)
}

// BenchmarkOfferExport writes a full offer export of PERK_BENCH_MEMBERS
// members (default 20,000; docs/benchmarks.md has a 1,000,000 run) with ten
// live campaigns for everyone, then sends a file of 1,000 baskets by 50 of
// them and writes the delta export since the full one. It reports members/s
// and the CPU (process and PostgreSQL server) of the full export, and the
// delta's seconds and rows.
func BenchmarkOfferExport(b *testing.B) {
	benchMembers := 20000
	if v := os.Getenv("PERK_BENCH_MEMBERS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			b.Fatal(err)
		}
		benchMembers = n
	}
	const campaigns = 10
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			w := newWorld(b, storetest.Engine(b, engine))
			w.seed(0, tenCampaigns()...)
			ctx := context.Background()
			now := w.clock.Now()
			// Members in bulk: multi-row inserts, 500 a statement.
			tx, err := w.db.W.BeginTx(ctx, nil)
			if err != nil {
				b.Fatal(err)
			}
			const per = 500
			for from := 0; from < benchMembers; from += per {
				n := min(per, benchMembers-from)
				var q strings.Builder
				q.WriteString(`INSERT INTO members (id, code, phone, enrolled_at, updated_at, channel, status) VALUES `)
				args := make([]any, 0, 5*n)
				for i := from; i < from+n; i++ {
					if i > from {
						q.WriteString(", ")
					}
					q.WriteString("(" + w.db.Dialect.Placeholders(len(args)+1, 5) + ", 'api', 'active')")
					args = append(args, fmt.Sprintf("mem_%026d", i), fmt.Sprintf("9%07d", i), fmt.Sprintf("+4477%08d", i), now, now)
				}
				if _, err := tx.ExecContext(ctx, q.String(), args...); err != nil {
					b.Fatal(err)
				}
			}
			if err := tx.Commit(); err != nil {
				b.Fatal(err)
			}
			// Past the campaigns' launch, so a delta is not a whole file.
			w.clock.Advance(5 * time.Minute)
			cpu := newCPUMeter(w.db)
			var fullCPU, delta, deltaCPU time.Duration
			var deltaRows int64
			b.ResetTimer()
			for b.Loop() {
				c0 := cpu.now(b)
				stop := profile(b, engine+"-full")
				m, err := w.exporter.Export(ctx, batch.ExportOptions{Format: batch.CSV, Dir: b.TempDir()})
				if err != nil {
					b.Fatal(err)
				}
				stop()
				fullCPU += cpu.now(b) - c0
				if m.Files[0].Rows != int64(campaigns*benchMembers) {
					b.Fatalf("%d rows", m.Files[0].Rows)
				}
				b.StopTimer()
				// 1,000 baskets by 50 members, then the delta.
				w.clock.Advance(2 * time.Minute)
				phones := make([]string, 50)
				for i := range phones {
					phones[i] = fmt.Sprintf("+4477%08d", i*(benchMembers/50))
				}
				ops := scenario(1000, phones)
				proc := batch.NewProcessor(w.checkout, batch.Options{Now: w.clock.Now, DB: w.db})
				if _, err := proc.Process(ctx, bytes.NewReader(jsonl(ops)), batch.Run{Format: batch.JSONL}); err != nil {
					b.Fatal(err)
				}
				w.clock.Advance(2 * time.Minute)
				c1 := cpu.now(b)
				stop = profile(b, engine+"-delta")
				t0 := time.Now()
				d, err := w.exporter.Export(ctx, batch.ExportOptions{Format: batch.CSV, Dir: b.TempDir(), Since: m.Cursor})
				if err != nil {
					b.Fatal(err)
				}
				delta += time.Since(t0)
				stop()
				deltaCPU += cpu.now(b) - c1
				if d.Full {
					b.Fatal("the delta is a whole export")
				}
				deltaRows += d.Files[0].Rows
				b.StartTimer()
			}
			full := b.Elapsed() - delta
			b.ReportMetric(float64(benchMembers)*float64(b.N)/full.Seconds(), "members/s")
			b.ReportMetric(full.Seconds()/float64(b.N), "full_s")
			b.ReportMetric(fullCPU.Seconds()/float64(b.N), "full_cpu_s")
			b.ReportMetric(delta.Seconds()/float64(b.N), "delta_s")
			b.ReportMetric(deltaCPU.Seconds()/float64(b.N), "delta_cpu_s")
			b.ReportMetric(float64(deltaRows)/float64(b.N), "delta_rows")
		})
	}
}

// profile writes a CPU profile of what runs until the returned stop to
// $PERK_BENCH_PROFILE/name.prof when that variable names a folder, so the
// full export and the delta are profiled apart from the data generation.
func profile(b *testing.B, name string) (stop func()) {
	dir := os.Getenv("PERK_BENCH_PROFILE")
	if dir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, name+".prof"))
	if err != nil {
		b.Fatal(err)
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		b.Fatal(err)
	}
	return func() {
		pprof.StopCPUProfile()
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
	}
}

// tenCampaigns are ten live campaigns open to every member: the standard
// four (without the budget, whose end would make every delta whole) and six
// percent-offs on single products.
func tenCampaigns() []campaign.Spec {
	specs := standardCampaigns()
	for i := range specs {
		specs[i].Limits.Budget = 0
	}
	for i, p := range products[:6] {
		specs = append(specs, campaign.Spec{Name: fmt.Sprintf("%d%% off %s", 5+i, p.sku),
			Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 5 + i, Scope: engine.Scope{SKUs: []string{p.sku}}}}})
	}
	return specs
}
