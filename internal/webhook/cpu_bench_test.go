package webhook_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
)

// The machine the benchmarks run on is shared and busy, so wall-clock rates
// say more about the neighbours than about Perk. CPU time spent per
// operation does not: the benchmarks report this process's user+sys CPU
// and, on PostgreSQL, that of the server processes serving its
// connections.

// benchDB opens a migrated database of the engine and returns with it a
// function giving the CPU time used so far by the PostgreSQL backends
// serving it (zero on SQLite, which runs in this process). The backends are
// found by an application_name of their own; their CPU is read from
// /proc, so it is only counted when the server runs on this host.
func benchDB(b *testing.B, engine string) (*store.DB, func() time.Duration) {
	b.Helper()
	if engine != "postgres" {
		return storetest.Engine(b, engine), func() time.Duration { return 0 }
	}
	base := testenv.Env(b, storetest.PostgresEnv, "PostgreSQL")
	u, err := url.Parse(storetest.DSN(b, base))
	if err != nil {
		b.Fatal(err)
	}
	var r [4]byte
	rand.Read(r[:])
	app := "perk-bench-" + hex.EncodeToString(r[:])
	q := u.Query()
	q.Set("application_name", app)
	u.RawQuery = q.Encode()
	ctx := context.Background()
	db, err := store.Open(ctx, u.String())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	seen := map[int]time.Duration{} // backend pid -> CPU when last read
	return db, func() time.Duration {
		rows, err := db.R.Query(`SELECT pid FROM pg_stat_activity WHERE application_name = $1`, app)
		if err != nil {
			b.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var pid int
			if err := rows.Scan(&pid); err != nil {
				b.Fatal(err)
			}
			if t, err := testenv.PIDCPU(pid); err == nil {
				seen[pid] = t
			}
		}
		// A backend that has gone keeps the CPU it was last seen with.
		var total time.Duration
		for _, t := range seen {
			total += t
		}
		return total
	}
}

// cpuMeter measures the CPU an operation costs: this process's and the
// database server's.
type cpuMeter struct {
	server               func() time.Duration
	rcv                  *benchReceiver // nil: none
	proc0, server0, rcv0 time.Duration
	wall0                time.Time
	Proc, Server, Rcv    time.Duration
	Wall                 time.Duration
}

// startCPU starts measuring this process, the database server and, when
// rcv is not nil, the receiver process.
func startCPU(server func() time.Duration, rcv *benchReceiver) *cpuMeter {
	m := &cpuMeter{server: server, rcv: rcv, proc0: testenv.ProcessCPU(), server0: server(), wall0: time.Now()}
	if rcv != nil {
		m.rcv0 = rcv.cpu()
	}
	return m
}

func (m *cpuMeter) stop() {
	m.Wall = time.Since(m.wall0)
	m.Proc = testenv.ProcessCPU() - m.proc0
	m.Server = m.server() - m.server0
	if m.rcv != nil {
		m.Rcv = m.rcv.cpu() - m.rcv0
	}
}

// report adds the CPU per unit (n units, named unit) to b's results, in
// microseconds: this process's, the server's, and their sum (Perk's cost);
// the receiver's apart, and everything (Perk and receiver) as all-cpu.
func (m *cpuMeter) report(b *testing.B, n int, unit string) {
	if n == 0 {
		return
	}
	per := func(d time.Duration) float64 { return float64(d.Microseconds()) / float64(n) }
	b.ReportMetric(per(m.Proc), "proc-cpu-µs/"+unit)
	if m.Server > 0 {
		b.ReportMetric(per(m.Server), "db-cpu-µs/"+unit)
	}
	b.ReportMetric(per(m.Proc+m.Server), "cpu-µs/"+unit)
	if m.rcv != nil {
		b.ReportMetric(per(m.Rcv), "rcv-cpu-µs/"+unit)
		b.ReportMetric(per(m.Proc+m.Server+m.Rcv), "all-cpu-µs/"+unit)
	}
}
