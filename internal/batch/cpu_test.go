package batch_test

import (
	"context"
	"database/sql"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/store"
)

// cpuMeter measures the CPU time (user + system) a piece of work costs,
// whatever else the shared machine runs: this process's own, plus on
// PostgreSQL that of the server processes serving its connections, read
// from /proc. Wall-clock rates on a busy two-core machine vary twofold; CPU
// per basket does not.
type cpuMeter struct {
	db      *store.DB
	backend map[int]time.Duration // server process -> CPU at the last reading
}

func newCPUMeter(db *store.DB) *cpuMeter { return &cpuMeter{db: db} }

// now is the CPU spent so far by this process and by the server processes
// of db's open connections.
func (m *cpuMeter) now(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	own := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	if m.db.Dialect != store.Postgres {
		return own
	}
	for _, pid := range backendPIDs(tb, m.db) {
		if m.backend == nil {
			m.backend = map[int]time.Duration{}
		}
		m.backend[pid] = max(m.backend[pid], procCPU(pid))
	}
	var server time.Duration
	for _, d := range m.backend {
		server += d
	}
	return own + server
}

// backendPIDs holds every connection of the pool at once (so idle ones are
// among them) and asks each for its server process.
func backendPIDs(tb testing.TB, db *store.DB) []int {
	ctx := context.Background()
	var conns []*sql.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	var pids []int
	for range db.W.Stats().OpenConnections {
		c, err := db.W.Conn(ctx)
		if err != nil {
			tb.Fatal(err)
		}
		conns = append(conns, c)
		var pid int
		if err := c.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&pid); err != nil {
			tb.Fatal(err)
		}
		pids = append(pids, pid)
	}
	return pids
}

// procCPU is a process's user + system time from /proc (0 once it is gone).
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command (which may hold spaces) in parentheses.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * (time.Second / 100) // USER_HZ is 100 on Linux
}
