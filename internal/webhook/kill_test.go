package webhook_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/webhook"
)

// childEnv names the database a re-executed test binary dispatches from.
const childEnv = "PERK_WEBHOOK_KILL_CHILD_DB"

// TestKillChild is the dispatcher process TestKill9 kills; it does nothing
// unless started by it.
func TestKillChild(t *testing.T) {
	path := os.Getenv(childEnv)
	if path == "" {
		t.Skip("run by TestKill9_ADispatcherKilledMidDeliveryLosesNothing")
	}
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	d := webhook.NewDispatcher(webhook.NewService(db, webhook.Options{AllowPrivate: true}))
	d.Parallel, d.PerEndpoint = 32, 32
	d.Run(context.Background()) // until killed
}

func TestKill9_ADispatcherKilledMidDeliveryLosesNothing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a process and kills it")
	}
	db, path := storetest.SQLiteFile(t)
	f := newFixture(t, db)
	var mu sync.Mutex
	seen := map[string]int{}
	total := 0
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen[r.Header.Get(webhook.HeaderID)]++
		total++
		mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	defer rcv.Close()
	f.endpoint(rcv.URL, change.TransactionCommitted)
	const events = 2000
	for i := 0; i < events; i += 250 {
		batch := make([]change.Event, 250)
		for j := range batch {
			batch[j] = change.Event{Type: change.TransactionCommitted, Data: map[string]any{"n": i + j}}
		}
		f.record(batch...)
	}

	child := exec.Command(os.Args[0], "-test.run=^TestKillChild$", "-test.count=1")
	child.Env = append(os.Environ(), childEnv+"="+path)
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the child's first deliveries", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return total >= 300
	})
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	child.Wait()
	mu.Lock()
	before := total
	mu.Unlock()

	// A new dispatcher after the dead one's leases ran out.
	f.clk.Set(time.Now().Add(2 * time.Minute))
	f.drain()
	mu.Lock()
	defer mu.Unlock()
	if len(seen) != events {
		t.Fatalf("receiver saw %d of %d events", len(seen), events)
	}
	if n := f.count(webhook.StatusDelivered); n != events {
		t.Errorf("%d of %d deliveries recorded as delivered", n, events)
	}
	// At least once: what the dead process had in flight or sent but not
	// recorded is sent again, at most one claim's worth (32).
	if again := total - events; again > 32 {
		t.Errorf("%d deliveries repeated after the kill, want at most 32", again)
	}
	t.Logf("killed after %d requests; %d repeated", before, total-events)
}
