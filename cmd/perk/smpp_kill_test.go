package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/store"
)

// TestServe_KilledMidSMPPSendLosesNothingAndRepeatsLittle queues
// messages, kills perk serve with SIGKILL while it submits them over SMPP to
// the npm SMSC, restarts it, and counts: no message may be lost, and the
// SMSC may see at most one window of them twice (those in flight or
// accepted but not yet recorded when the process died). With several binds
// the window is every bind's together. PERK_KILL_TEST_MESSAGES sets the count
// (20,000 by default; the figure in docs/benchmarks.md used 100,000).
func TestServe_KilledMidSMPPSendLosesNothingAndRepeatsLittle(t *testing.T) {
	for _, binds := range []int{1, 2} {
		t.Run(fmt.Sprint(binds, " binds"), func(t *testing.T) { killMidSMPPSend(t, binds) })
	}
}

func killMidSMPPSend(t *testing.T, binds int) {
	smsc := startNodeSMSC(t)
	total := 20000
	if n, err := strconv.Atoi(os.Getenv("PERK_KILL_TEST_MESSAGES")); err == nil && n > 0 {
		total = n
	}
	const perBind = 50
	window := perBind * binds
	dir := t.TempDir()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(dir, "perk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	tx, _ := db.W.Begin()
	now := time.Now().UTC()
	for i := 0; i < total; i++ {
		if _, err := sms.Enqueue(ctx, tx, sms.Outbound{To: fmt.Sprintf("+4474%08d", i), Body: "Your code is 96385074",
			Kind: sms.Transactional, Purpose: "test"}, now); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	sent := func() int {
		var n int
		db.R.QueryRow(`SELECT COUNT(*) FROM sms_outbox WHERE status = 'sent'`).Scan(&n)
		return n
	}
	env := []string{"PERK_DATA_DIR=" + dir, "PERK_SMS_LEASE=1s", "PERK_LOG_LEVEL=error",
		"PERK_SMS=" + smsc.url(fmt.Sprintf("window=%d&binds=%d&tps=100000", perBind, binds))}
	cmd := exec.Command(perkBin, "serve", "--addr", "127.0.0.1:0")
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	// Mid-way through a claimed batch (1,000 messages), not between two,
	// when messages are in flight.
	for sent() < total/10+137 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("only %d sent before the kill", sent())
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Kill at a random moment within a batch's time, not right after one
	// was recorded, so that submits in flight are lost with the process.
	time.Sleep(time.Duration(rand.IntN(20)) * time.Millisecond)
	cmd.Process.Kill()
	cmd.Wait()
	atKill := sent()

	_, stop := serve(t, env, "--addr", "127.0.0.1:0")
	deadline = time.Now().Add(5 * time.Minute)
	for sent() < total {
		if time.Now().After(deadline) {
			t.Fatalf("after the restart only %d of %d sent", sent(), total)
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	dups := smsc.count("duplicate ")
	t.Logf("%d messages: killed with %d recorded as sent; after the restart all %d sent, %d submitted twice (window %d)",
		total, atKill, total, dups, window)
	if dups > window {
		t.Fatalf("%d messages submitted twice, more than the window of %d", dups, window)
	}
}
