package main

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/testenv"
)

// BenchmarkSMPPEndToEnd measures perk serve end to end: 10,000 messages
// queued in SQLite, submitted over SMPP to the npm smpp@0.5.1 SMSC (which
// acknowledges at once and sends a receipt for each), receipts stored. It
// reports messages/s from the server's start to the last stored receipt.
// Needs PERK_TEST_SMPP_NODE_MODULES; window from PERK_BENCH_WINDOW (10).
func BenchmarkSMPPEndToEnd(b *testing.B) {
	node := testenv.Binary(b, "PERK_TEST_NODE", "node", "SMPP benchmark")
	modules := testenv.Env(b, "PERK_TEST_SMPP_NODE_MODULES", "SMPP benchmark (node_modules with smpp@0.5.1)")
	window := os.Getenv("PERK_BENCH_WINDOW")
	if window == "" {
		window = "10"
	}
	const total = 10000
	for b.Loop() {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		smsc := exec.Command(node, "../../internal/sms/smpp/testdata/smsc.js", fmt.Sprint(port))
		smsc.Env = append(os.Environ(), "NODE_PATH="+modules)
		out, _ := smsc.StdoutPipe()
		smsc.Start()
		sc := bufio.NewScanner(out)
		for sc.Scan() && !strings.Contains(sc.Text(), "listening") {
		}
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
			fmt.Sprintf("PERK_SMS=smpp://perk:secret@127.0.0.1:%d?source=PERK&window=%s&tps=100000", port, window))
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
		smsc.Process.Kill()
		smsc.Wait()
		db.Close()
		b.ReportMetric(float64(total)/elapsed.Seconds(), "msgs/s")
	}
}
