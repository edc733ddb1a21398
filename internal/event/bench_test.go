package event

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// BenchmarkIngest stores batches of 1,000 events (decode, identity lookups,
// one multi-row insert, commit) from concurrent clients, as the HTTP
// server would (decoding overlaps the writes), and reports events/s; a tenth of the
// anonymous ids are already tied to a member, as on a site whose visitors
// partly came from texts.
//
//	go test -run '^$' -bench Ingest -benchtime 50x ./internal/event/
func BenchmarkIngest(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			db := storetest.Engine(b, engine)
			s := NewService(db, Options{Now: func() time.Time { return t0 }})
			ctx := context.Background()
			// Tie 100 of the 1,000 anonymous ids the batches use.
			var ties []string
			for i := 0; i < 100; i++ {
				ties = append(ties, fmt.Sprintf(`{"event_id":"tie%d","type":"identified","time":"2026-12-05T09:00:00Z","channel":"web","anonymous_id":"anon%d","member":"mem_%d"}`, i, i*10, i))
				db.W.Exec(`INSERT INTO members (id, code, phone, channel, status, enrolled_at, updated_at) VALUES ($1, $2, $3, 'web', 'active', $4, $4)`,
					fmt.Sprintf("mem_%d", i), codeOf(i), fmt.Sprintf("+4477009%05d", i), t0)
			}
			in, rej, _ := Decode(batch(ties...), t0)
			if _, err := s.Ingest(ctx, in, rej); err != nil {
				b.Fatal(err)
			}
			bodies := make([][]byte, b.N)
			for n := range bodies {
				bodies[n] = benchBody(n)
			}
			var ms runtime.MemStats
			var next atomic.Int64
			backends := backendPIDs(b, db)
			server0 := backendCPU(backends)
			cpu0 := cpuTime()
			b.SetParallelism(2) // 2 requests per core in flight, as HTTP clients would have
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					n := next.Add(1) - 1
					in, rej, err := Decode(bodies[n], t0)
					if err != nil || len(rej) > 0 {
						b.Error(err, rej)
						return
					}
					res, err := s.Ingest(ctx, in, rej)
					if err != nil || res.Accepted != MaxBatch {
						b.Error(err, res)
						return
					}
				}
			})
			b.StopTimer()
			// This process's CPU time: on SQLite all of the work, on
			// PostgreSQL without the server's share. On a shared machine
			// it says what the events cost where wall time says how busy
			// the neighbours were.
			cpu := cpuTime() - cpu0
			server := backendCPU(backends) - server0
			runtime.ReadMemStats(&ms)
			b.ReportMetric(float64(b.N*MaxBatch)/cpu.Seconds(), "events/cpu-s")
			if backends != nil {
				// The PostgreSQL server's share, from its backends'
				// /proc/PID/stat: the node runs both.
				b.ReportMetric(float64(b.N*MaxBatch)/(cpu+server).Seconds(), "events/cpu-s-with-server")
			}
			b.ReportMetric(float64(b.N*MaxBatch)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "heap-MiB")
		})
	}
}

// backendPIDs opens the connections the benchmark will use and returns
// their PostgreSQL backends' process ids (nil on SQLite, or when the server
// is not on this machine, where /proc cannot see it).
func backendPIDs(b *testing.B, db *store.DB) []int {
	if db.Dialect != store.Postgres {
		return nil
	}
	ctx := context.Background()
	var conns []*sql.Conn
	var pids []int
	for range 8 {
		c, err := db.W.Conn(ctx)
		if err != nil {
			b.Fatal(err)
		}
		conns = append(conns, c)
		var pid int
		if err := c.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
			b.Fatal(err)
		}
		if _, err := os.Stat(fmt.Sprintf("/proc/%d/stat", pid)); err != nil {
			return nil
		}
		pids = append(pids, pid)
	}
	for _, c := range conns {
		c.Close() // back to the pool, which keeps them idle
	}
	return pids
}

// backendCPU is the user+system CPU the processes pids have used.
func backendCPU(pids []int) time.Duration {
	var total time.Duration
	for _, pid := range pids {
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		// Fields after the command's closing parenthesis; utime and
		// stime are the 14th and 15th of the line, in clock ticks (100 a
		// second on Linux).
		f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+2:]))
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		st, _ := strconv.ParseInt(f[12], 10, 64)
		total += time.Duration(ut+st) * 10 * time.Millisecond
	}
	return total
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkDecode is the CPU one batch of 1,000 cart updates costs before
// it reaches the database: reading and validating every event.
//
//	go test -run '^$' -bench Decode ./internal/event/
func BenchmarkDecode(b *testing.B) {
	body := benchBody(0)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		in, rej, err := Decode(body, t0)
		if err != nil || len(rej) > 0 || len(in) != MaxBatch {
			b.Fatal(err, rej)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*MaxBatch), "ns/event")
}

// benchBody is the n-th batch the benchmarks send: 1,000 cart updates of
// 1,000 browsers, at times spread over an hour.
func benchBody(n int) []byte {
	evs := make([]string, MaxBatch)
	for i := range evs {
		evs[i] = fmt.Sprintf(`{"event_id":"b%d-%d","type":"cart_updated","time":"2026-12-05T09:%02d:%02dZ","channel":"web","anonymous_id":"anon%d","properties":{"items":[{"sku":"COF-%d","quantity":1,"price":350}],"campaign":"xmas"}}`,
			n, i, i%60, n%60, i, i%20)
	}
	return batch(evs...)
}
