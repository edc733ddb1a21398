package testenv

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/store"
)

// ProcessCPU is this process's user+sys CPU time so far. Benchmarks report
// CPU per operation beside rates because the machines are shared.
func ProcessCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// PIDCPU is the user+sys CPU time of another process on this machine (a
// PostgreSQL backend), read from /proc/PID/stat.
func PIDCPU(pid int) (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// Fields after the command's closing parenthesis; utime and stime are
	// the 14th and 15th of the whole line, in clock ticks (100 a second).
	f := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+2:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	ut, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}

// BackendCPU is the CPU time of the PostgreSQL backend serving db's read
// pool (a pool of one connection in the benchmarks that use it), 0 on
// SQLite; it skips the benchmark when the server runs on another machine.
func BackendCPU(tb testing.TB, db *store.DB) time.Duration {
	if db.Dialect != store.Postgres {
		return 0
	}
	var pid int
	if err := db.R.QueryRow(`SELECT pg_backend_pid()`).Scan(&pid); err != nil {
		tb.Fatal(err)
	}
	d, err := PIDCPU(pid)
	if err != nil {
		tb.Skipf("the server's CPU is not readable here: %v", err)
	}
	return d
}
