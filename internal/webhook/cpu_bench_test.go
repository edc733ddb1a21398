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
	server         func() time.Duration
	proc0, server0 time.Duration
	wall0          time.Time
	Proc, Server   time.Duration
	Wall           time.Duration
}

func startCPU(server func() time.Duration) *cpuMeter {
	return &cpuMeter{server: server, proc0: testenv.ProcessCPU(), server0: server(), wall0: time.Now()}
}

func (m *cpuMeter) stop() {
	m.Wall = time.Since(m.wall0)
	m.Proc = testenv.ProcessCPU() - m.proc0
	m.Server = m.server() - m.server0
}

// report adds the CPU per unit (n units, named unit) to b's results: this
// process's, the server's, and their sum, in microseconds.
func (m *cpuMeter) report(b *testing.B, n int, unit string) {
	if n == 0 {
		return
	}
	b.ReportMetric(float64(m.Proc.Microseconds())/float64(n), "proc-cpu-µs/"+unit)
	if m.Server > 0 {
		b.ReportMetric(float64(m.Server.Microseconds())/float64(n), "db-cpu-µs/"+unit)
	}
	b.ReportMetric(float64((m.Proc+m.Server).Microseconds())/float64(n), "cpu-µs/"+unit)
}
