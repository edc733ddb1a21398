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

// ServerCPU is the CPU time of every PostgreSQL process on this machine:
// the live ones' own, plus what the postmaster's exited children (backends
// and parallel workers) used, from its cutime and cstime. A benchmark whose
// work spreads over several connections or parallel workers reads the
// server's share of it as the difference of two calls, on a machine where
// nothing else uses PostgreSQL. It skips the benchmark when no PostgreSQL
// process is visible (a server on another machine).
func ServerCPU(tb testing.TB) time.Duration {
	dirs, err := os.ReadDir("/proc")
	if err != nil {
		tb.Skipf("the server's CPU is not readable here: %v", err)
	}
	var total time.Duration
	seen := false
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
		if err != nil {
			continue
		}
		open, close := bytes.IndexByte(raw, '('), bytes.LastIndexByte(raw, ')')
		if open < 0 || close < open || string(raw[open+1:close]) != "postgres" {
			continue
		}
		seen = true
		// After the command: state, ppid, ..., utime (12th), stime,
		// cutime, cstime (15th), in clock ticks (100 a second).
		f := strings.Fields(string(raw[close+2:]))
		if len(f) < 15 {
			continue
		}
		ticks := func(i int) time.Duration {
			v, _ := strconv.ParseInt(f[i], 10, 64)
			return time.Duration(v) * 10 * time.Millisecond
		}
		total += ticks(11) + ticks(12)
		if parent, err := os.ReadFile("/proc/" + f[1] + "/comm"); err != nil || strings.TrimSpace(string(parent)) != "postgres" {
			total += ticks(13) + ticks(14) // the postmaster: its reaped children
		}
	}
	if !seen {
		tb.Skip("no PostgreSQL process on this machine: the server's CPU is not readable here")
	}
	return total
}
