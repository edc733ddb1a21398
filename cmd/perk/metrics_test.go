package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/testenv"
)

// TestServe_MetricsUnderALittleLoad runs the real server with the simulator,
// enrols a few members (each gets a welcome SMS), rings up a few baskets and
// checks that /metrics tells an operator what happened: the queue, the sends
// and receipts per gateway, the commits and the database pools.
func TestServe_MetricsUnderALittleLoad(t *testing.T) {
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			env := []string{"PERK_DB=" + dsn(t), "PERK_DATA_DIR=" + dir, "PERK_LOG_LEVEL=warn", "PERK_WEBHOOKS_ALLOW_PRIVATE=true"}
			// A CRM's receiver subscribed to the commits.
			var hooked atomic.Int64
			rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				hooked.Add(1)
				w.WriteHeader(http.StatusNoContent)
			}))
			defer rcv.Close()
			if _, stderr, err := perk(t, env, "webhooks", "add", "--url", rcv.URL, "--events", "transaction.committed"); err != nil {
				t.Fatalf("webhooks add: %v\n%s", err, stderr)
			}
			spec := filepath.Join(dir, "campaign.yaml")
			os.WriteFile(spec, []byte("name: Ten off\nstart: 2020-01-01\nend: 2099-01-01\naudience: {kind: all}\n"+
				"benefits: [{kind: percent_off, percent: 10}]\n"), 0o644)
			if _, stderr, err := perk(t, env, "campaigns", "apply", "-f", spec, "--launch"); err != nil {
				t.Fatalf("campaigns apply: %v\n%s", err, stderr)
			}
			key := func(args ...string) string {
				out, stderr, err := perk(t, env, append([]string{"keys", "create"}, args...)...)
				if err != nil {
					t.Fatalf("keys create %v: %v\n%s", args, err, stderr)
				}
				return strings.TrimSpace(out)
			}
			importStores(t, env, dir, "S1")
			admin, till := key("--role", "admin"), key("--role", "pos", "--store", "S1")
			url, _ := serve(t, env, "--addr", "127.0.0.1:0")
			call := func(key, method, path, body string) (int, string) {
				t.Helper()
				req, _ := http.NewRequest(method, url+path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+key)
				req.Header.Set("Content-Type", "application/json")
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				out, _ := io.ReadAll(res.Body)
				return res.StatusCode, string(out)
			}

			const members = 3
			for i := range members {
				if st, out := call(admin, "POST", "/v1/members",
					fmt.Sprintf(`{"phone":"07400 10000%d","consent":{"sms":true,"source":"test"}}`, i)); st != http.StatusCreated {
					t.Fatalf("enrol: %d %s", st, out)
				}
				basket := fmt.Sprintf(`{"store":"S1","member":"+4474001000%02d","currency":"GBP","transaction_id":"T-%d",
					"items":[{"line":1,"sku":"A","quantity":1,"unit_price":1000}]}`, i, i)
				if st, out := call(till, "POST", "/v1/checkout/commit", basket); st != http.StatusOK || !strings.Contains(out, `"total_discount":100`) {
					t.Fatalf("commit: %d %s", st, out)
				}
				if i == 0 { // a till that did not hear the answer asks again
					if st, out := call(till, "POST", "/v1/checkout/commit", basket); st != http.StatusOK {
						t.Fatalf("repeated commit: %d %s", st, out)
					}
				}
			}

			// The welcomes go out and their receipts come back in the background.
			var m testenv.Metrics
			deadline := time.Now().Add(20 * time.Second)
			for {
				st, out := call(admin, "GET", "/metrics", "")
				if st != http.StatusOK {
					t.Fatalf("GET /metrics = %d %s", st, out)
				}
				m = testenv.ParseMetrics(t, out)
				if m[`perk_sms_receipts_total{state="delivered"}`] == members && m[`perk_webhook_deliveries_total{outcome="delivered"}`] == members {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("the welcomes or the webhooks were not all sent and delivered:\n%s", out)
				}
				time.Sleep(100 * time.Millisecond)
			}
			exact := testenv.Metrics{
				`perk_sms_sent_total{gateway="sim"}`:                            members,
				`perk_sms_segments_sent_total{gateway="sim"}`:                   members, // a welcome fits one SMS
				`perk_sms_send_failures_total{gateway="sim",kind="temporary"}`:  0,
				`perk_sms_send_failures_total{gateway="sim",kind="permanent"}`:  0,
				`perk_sms_send_duration_seconds_count{gateway="sim"}`:           members,
				`perk_sms_queue_messages{status="deferred"}`:                    0,
				`perk_checkout_commits_total{outcome="committed"}`:              members,
				`perk_checkout_commits_total{outcome="replayed"}`:               1,
				`perk_checkout_commits_total{outcome="conflict"}`:               0,
				`perk_checkout_commit_retries_total`:                            0,
				`perk_member_enrolments_total{channel="api",outcome="created"}`: members,
				`perk_webhook_deliveries_total{outcome="retry"}`:                0,
				`perk_webhook_deliveries_total{outcome="dead"}`:                 0,
			}
			if got := hooked.Load(); got != members {
				t.Errorf("the receiver got %d webhooks, want %d (one a commit)", got, members)
			}
			for series, want := range exact {
				if got, ok := m[series]; !ok || got != want {
					t.Errorf("%s = %v (present %v), want %v", series, got, ok, want)
				}
			}
			// Read when scraped (the queue reading may be up to 5 s old) or
			// counted by the runtime: present, within bounds.
			pools := map[string][]string{"sqlite": {"read", "write"}, "postgres": {"read_write"}}[name]
			bounds := map[string][2]float64{
				`perk_sms_queue_messages{status="queued"}`:     {0, members},
				`perk_sms_queue_messages{status="sending"}`:    {0, members},
				`perk_sms_queue_oldest_due_seconds`:            {0, 60},
				`perk_sms_receipts_total{state="unmatched"}`:   {0, members}, // a receipt may outrun the record of its submit
				`perk_sms_receipts_waiting`:                    {0, members},
				`perk_webhook_outbox_deliveries{status="due"}`: {0, members}, // the reading may be up to 5 s old
				`perk_webhook_outbox_oldest_due_seconds`:       {0, 60},
				`go_goroutines`:                                {1, 10000},
			}
			for _, p := range pools {
				bounds[`go_sql_max_open_connections{db_name="`+p+`"}`] = [2]float64{1, 100}
				bounds[`go_sql_open_connections{db_name="`+p+`"}`] = [2]float64{1, 100}
				bounds[`go_sql_wait_count_total{db_name="`+p+`"}`] = [2]float64{0, 1e6}
			}
			for series, b := range bounds {
				if got, ok := m[series]; !ok || got < b[0] || got > b[1] {
					t.Errorf("%s = %v (present %v), want %v to %v", series, got, ok, b[0], b[1])
				}
			}
			builds := 0
			for series, v := range m {
				if strings.HasPrefix(series, "perk_build_info{") && strings.Contains(series, `goversion="go`) && v == 1 {
					builds++
				}
			}
			if builds != 1 {
				t.Errorf("%d perk_build_info series, want 1", builds)
			}
			if m.Has(`perk_smpp_bound`) {
				t.Errorf("SMPP series without an SMPP gateway")
			}
			if st, out := call("", "GET", "/readyz", ""); st != http.StatusOK ||
				strings.TrimSpace(out) != `{"status":"ready","database":"ok","sms":{"gateway":"sim"}}` {
				t.Errorf("GET /readyz = %d %s", st, out)
			}
		})
	}
}
