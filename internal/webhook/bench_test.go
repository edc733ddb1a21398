package webhook_test

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/testenv"
	"github.com/perk-platform/perk/internal/webhook"
)

// BenchmarkDispatch measures deliveries a second from a full outbox to a
// local receiver answering 204 at once: claim, sign, POST, settle and log.
// One op is one delivery. Besides the rate it reports the CPU time a
// delivery costs (the dispatcher's process, the PostgreSQL server's share,
// and the receiver's process apart), which the neighbours on a shared
// machine change much less.
func BenchmarkDispatch(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			db, server := benchDB(b, engine)
			svc, rcv := countingEndpoint(b, db, change.TransactionCommitted)
			fill(b, db, svc, b.N)
			b.ResetTimer()
			cpu := startCPU(server, rcv)
			stop := runDispatcher(svc)
			for rcv.got.Load() < int64(b.N) {
				time.Sleep(time.Millisecond)
			}
			stop()
			cpu.stop()
			b.StopTimer()
			var delivered int
			if err := db.R.QueryRow(`SELECT COUNT(*) FROM webhook_deliveries WHERE status = 'delivered'`).Scan(&delivered); err != nil {
				b.Fatal(err)
			}
			if delivered != b.N {
				b.Fatalf("delivered %d of %d", delivered, b.N)
			}
			b.ReportMetric(float64(b.N)/cpu.Wall.Seconds(), "deliveries/s")
			cpu.report(b, b.N, "delivery")
		})
	}
}

// fill records n events, 500 a transaction, as tills' commits would.
func fill(b *testing.B, db *store.DB, svc *webhook.Service, n int) {
	b.Helper()
	for n > 0 {
		k := min(n, 500)
		events := make([]change.Event, k)
		for i := range events {
			events[i] = change.Event{Type: change.TransactionCommitted, Data: map[string]any{"transaction_id": i, "total": 1250}}
		}
		if err := db.Tx(context.Background(), func(tx *sql.Tx) error { return svc.Record(context.Background(), tx, events...) }); err != nil {
			b.Fatal(err)
		}
		n -= k
	}
}

// receiverEnv makes the test binary, run with -test.run=^TestBenchReceiver$,
// the benchmarks' receiver.
const receiverEnv = "PERK_WEBHOOK_BENCH_RECEIVER"

// TestBenchReceiver is the benchmarks' receiver, a process of its own so
// that its CPU is not counted as the dispatcher's (a real receiver is on
// another host): it listens on the loopback, prints its URL, answers every
// request 204 and writes one byte to stdout per request, which the
// benchmark counts. It does nothing unless started by a benchmark.
func TestBenchReceiver(t *testing.T) {
	if os.Getenv(receiverEnv) == "" {
		t.Skip("run by the benchmarks")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("http://%s\n", ln.Addr())
	var mu sync.Mutex
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusNoContent)
		mu.Lock()
		os.Stdout.Write([]byte{'.'})
		mu.Unlock()
	}))
}

// benchReceiver is a receiver process started by a benchmark.
type benchReceiver struct {
	URL  string
	got  atomic.Int64
	proc *os.Process
}

// startReceiver starts the receiver process, stopped at the end of b.
func startReceiver(b *testing.B) *benchReceiver {
	b.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestBenchReceiver$", "-test.count=1")
	cmd.Env = append(os.Environ(), receiverEnv+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	r := &benchReceiver{proc: cmd.Process}
	br := bufio.NewReader(out)
	line, err := br.ReadString('\n')
	if err != nil {
		b.Fatalf("receiver: %v", err)
	}
	r.URL = strings.TrimSpace(line)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := br.Read(buf)
			r.got.Add(int64(bytes.Count(buf[:n], []byte{'.'})))
			if err != nil {
				return
			}
		}
	}()
	return r
}

// cpu is the receiver process's CPU time so far.
func (r *benchReceiver) cpu() time.Duration {
	t, _ := testenv.PIDCPU(r.proc.Pid)
	return t
}

// countingEndpoint is a service on db with one endpoint subscribed to
// types, on a receiver process that answers 204 and counts the requests.
func countingEndpoint(b *testing.B, db *store.DB, types ...string) (*webhook.Service, *benchReceiver) {
	b.Helper()
	rcv := startReceiver(b)
	svc := webhook.NewService(db, webhook.Options{AllowPrivate: true})
	if _, err := svc.Create(context.Background(), webhook.Spec{URL: rcv.URL, EventTypes: types}); err != nil {
		b.Fatal(err)
	}
	return svc, rcv
}

// runDispatcher runs a dispatcher whose one endpoint may have every slot,
// until the returned stop is called.
func runDispatcher(svc *webhook.Service) (stop func()) {
	d := webhook.NewDispatcher(svc)
	d.PerEndpoint = d.Parallel
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); d.Run(ctx) }()
	return func() { cancel(); <-done }
}
