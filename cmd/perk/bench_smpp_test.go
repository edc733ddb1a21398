package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/store"
)

// BenchmarkSMPPEndToEnd measures perk serve end to end: 10,000 messages
// queued in SQLite, submitted over SMPP to the npm smpp@0.5.1 SMSC (which
// acknowledges at once and sends a receipt for each), receipts stored. It
// reports messages/s from the server's start to the last stored receipt.
// Needs PERK_TEST_SMPP_NODE_MODULES; window from PERK_BENCH_WINDOW (10).
func BenchmarkSMPPEndToEnd(b *testing.B) {
	window := os.Getenv("PERK_BENCH_WINDOW")
	if window == "" {
		window = "10"
	}
	const total = 10000
	for b.Loop() {
		smsc := startNodeSMSC(b)
		dir := b.TempDir()
		ctx := context.Background()
		db, err := store.Open(ctx, filepath.Join(dir, "perk.db"))
		if err != nil {
			b.Fatal(err)
		}
		db.Migrate(ctx)
		tx, _ := db.W.Begin()
		now := time.Now().UTC()
		for i := 0; i < total; i++ {
			sms.Enqueue(ctx, tx, sms.Outbound{To: fmt.Sprintf("+4474%08d", i), Body: "Your code is 96385074",
				Kind: sms.Transactional, Purpose: "bench"}, now)
		}
		tx.Commit()
		cmd := exec.Command(perkBin, "serve", "--addr", "127.0.0.1:0", "--log-level", "error")
		cmd.Env = append(os.Environ(), "PERK_DATA_DIR="+dir,
			"PERK_SMS="+smsc.url("tps=100000&window="+window))
		start := time.Now()
		cmd.Start()
		for {
			var n int
			db.R.QueryRow(`SELECT COUNT(*) FROM sms_outbox WHERE delivery_state = 'delivered'`).Scan(&n)
			if n == total {
				break
			}
			if time.Since(start) > 5*time.Minute {
				b.Fatalf("only %d of %d delivered", n, total)
			}
			time.Sleep(20 * time.Millisecond)
		}
		elapsed := time.Since(start)
		cpu, rss := procUsage(cmd.Process.Pid)
		cmd.Process.Kill()
		cmd.Wait()
		db.Close()
		b.ReportMetric(float64(total)/elapsed.Seconds(), "msgs/s")
		b.ReportMetric(cpu.Seconds()/elapsed.Seconds()*100, "server-cpu-%")
		b.ReportMetric(float64(rss)/1024, "server-peak-rss-MB")
	}
}

// procUsage reads a Linux process's CPU time (user+system) and peak RSS in
// KiB from /proc.
func procUsage(pid int) (time.Duration, int) {
	var cpu time.Duration
	if stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// Fields after the command name, which is in parentheses.
		f := strings.Fields(string(stat[strings.LastIndexByte(string(stat), ')')+2:]))
		if len(f) > 12 {
			u, _ := strconv.Atoi(f[11])
			s, _ := strconv.Atoi(f[12])
			cpu = time.Duration(u+s) * time.Second / 100 // USER_HZ is 100 on Linux
		}
	}
	rss := 0
	if status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(status), "\n") {
			if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
				rss, _ = strconv.Atoi(strings.Fields(v)[0])
			}
		}
	}
	return cpu, rss
}
