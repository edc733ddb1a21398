package webhook_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
	"github.com/perk-platform/perk/internal/webhook"
)

// nodeReceiver runs testdata/receiver.js with secret and returns its URL
// and the verdicts it prints, one per request.
func nodeReceiver(t *testing.T, node, modules, secret string) (string, <-chan verdict) {
	t.Helper()
	script, err := filepath.Abs("testdata/receiver.js")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, script)
	cmd.Env = append(os.Environ(), "NODE_PATH="+modules, "WH_SECRET="+secret)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Wait()
	})
	lines := bufio.NewScanner(stdout)
	if !lines.Scan() {
		t.Fatalf("the node receiver did not start: %v", lines.Err())
	}
	url := "http://127.0.0.1:" + strings.TrimSpace(lines.Text()) + "/hooks"
	verdicts := make(chan verdict, 16)
	go func() {
		defer close(verdicts)
		for lines.Scan() {
			var v verdict
			if err := json.Unmarshal(lines.Bytes(), &v); err != nil {
				v.Error = "unreadable verdict: " + lines.Text()
			}
			verdicts <- v
		}
	}()
	return url, verdicts
}

type verdict struct {
	ID    string `json:"id"`
	OK    bool   `json:"ok"`
	Type  string `json:"type"`
	Error string `json:"error"`
}

// TestInterop_StandardWebhooksVerifiesPerksSignatures has Perk's deliveries
// checked by the npm package standardwebhooks (Webhook.verify), which reads
// its own wall clock: so the dispatcher's clock is set from the wall clock
// here, the right distance from it for each case.
func TestInterop_StandardWebhooksVerifiesPerksSignatures(t *testing.T) {
	node := testenv.Binary(t, "PERK_TEST_NODE", "node", "the standardwebhooks interoperability test")
	modules := testenv.Env(t, "PERK_TEST_STANDARDWEBHOOKS_NODE_MODULES",
		"the standardwebhooks interoperability test (a node_modules folder with standardwebhooks@1.1.1)")
	for _, c := range []struct {
		name    string
		secret  func(created, rotated string) string // the receiver's secret
		rotate  bool
		skew    time.Duration // the dispatcher's clock against the wall clock
		ok      bool
		errText string
	}{
		{"the endpoint's secret", func(c, _ string) string { return c }, false, 0, true, ""},
		{"a wrong secret", func(_, _ string) string { return webhook.NewSecret() }, false, 0, false, "No matching signature"},
		{"a stale timestamp", func(c, _ string) string { return c }, false, -10 * time.Minute, false, "too old"},
		{"a timestamp from the future", func(c, _ string) string { return c }, false, 10 * time.Minute, false, "too new"},
		{"during a rotation, the old secret", func(c, _ string) string { return c }, true, 0, true, ""},
		{"during a rotation, the new secret", func(_, r string) string { return r }, true, 0, true, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			f := newFixture(t, storetest.SQLite(t))
			f.clk.Set(time.Now().Add(c.skew))
			ctx := context.Background()
			ep := f.endpoint("http://127.0.0.1:1/", change.TransactionCommitted)
			rotated := ""
			if c.rotate {
				r, err := f.svc.Rotate(ctx, ep.ID, 0)
				if err != nil {
					t.Fatal(err)
				}
				rotated = r.Secret
			}
			url, verdicts := nodeReceiver(t, node, modules, c.secret(ep.Secret, rotated))
			if _, err := f.svc.Update(ctx, ep.ID, webhook.Spec{URL: url, EventTypes: ep.EventTypes}); err != nil {
				t.Fatal(err)
			}
			f.record(change.Event{Type: change.TransactionCommitted, Data: map[string]any{"transaction_id": "T-1", "total": 1250}})
			f.drain()
			v, ok := <-verdicts
			if !ok {
				t.Fatal("the receiver exited without a verdict")
			}
			if v.OK != c.ok || !strings.Contains(v.Error, c.errText) {
				t.Fatalf("standardwebhooks: ok=%v error=%q, want ok=%v error containing %q", v.OK, v.Error, c.ok, c.errText)
			}
			d := f.deliveries(ep.ID)[0]
			if v.ID != d.EventID {
				t.Errorf("verified webhook-id %q, the delivery's is %q", v.ID, d.EventID)
			}
			want := webhook.StatusPending // 401: retried later
			if c.ok {
				want = webhook.StatusDelivered
			}
			if d.Status != want || (c.ok && v.Type != change.TransactionCommitted) {
				t.Errorf("delivery %s (code %d), payload type %q; want %s", d.Status, d.LastCode, v.Type, want)
			}
		})
	}
}
