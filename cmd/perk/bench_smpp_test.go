package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
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
		cmd.Process.Kill()
		cmd.Wait()
		db.Close()
		b.ReportMetric(float64(total)/elapsed.Seconds(), "msgs/s")
	}
}
