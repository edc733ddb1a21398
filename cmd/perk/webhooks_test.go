package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/webhook"
)

// TestServe_WebhooksReachTheCRMSignedWithItsID registers an endpoint with
// the CLI, enrols a member with a CRM id through perk serve's API and
// checks the signed member.created the receiver gets, then the delivery log.
func TestServe_WebhooksReachTheCRMSignedWithItsID(t *testing.T) {
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			var mu sync.Mutex
			var got []*http.Request
			var bodies [][]byte
			rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				mu.Lock()
				got, bodies = append(got, r), append(bodies, body)
				mu.Unlock()
				w.WriteHeader(http.StatusNoContent)
			}))
			defer rcv.Close()
			env := []string{"PERK_DB=" + dsn(t), "PERK_DATA_DIR=" + t.TempDir(), "PERK_LOG_LEVEL=warn"}
			if _, stderr, err := perk(t, env, "webhooks", "add", "--url", rcv.URL, "--events", "member.created"); err == nil ||
				!strings.Contains(stderr, "private") {
				t.Fatalf("a loopback endpoint without --webhooks-allow-private: %v\n%s", err, stderr)
			}
			env = append(env, "PERK_WEBHOOKS_ALLOW_PRIVATE=true")
			secret, stderr, err := perk(t, env, "webhooks", "add", "--url", rcv.URL, "--events", "member.created,transaction.committed")
			if err != nil || !strings.HasPrefix(secret, "whsec_") {
				t.Fatalf("webhooks add: %q %v\n%s", secret, err, stderr)
			}
			secret = strings.TrimSpace(secret)
			epID := strings.Fields(strings.TrimPrefix(stderr[strings.Index(stderr, "created endpoint "):], "created endpoint "))[0]
			epID = strings.TrimSuffix(epID, ";")
			key, _, err := perk(t, env, "keys", "create", "--role", "admin")
			if err != nil {
				t.Fatal(err)
			}

			url, stop := serve(t, env, "--addr", "127.0.0.1:0")
			req, _ := http.NewRequest("POST", url+"/v1/members", strings.NewReader(
				`{"phone":"07400 123456","external_id":"CRM-42","consent":{"sms":true,"source":"till poster"}}`))
			req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(key))
			res, err := http.DefaultClient.Do(req)
			if err != nil || res.StatusCode != http.StatusCreated {
				t.Fatalf("enrol: %v %v", res.StatusCode, err)
			}
			res.Body.Close()
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				mu.Lock()
				n := len(got)
				mu.Unlock()
				if n > 0 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatal("no webhook within 20 s")
				}
			}
			stop()
			mu.Lock()
			r, body := got[0], bodies[0]
			mu.Unlock()
			ts, _ := strconv.ParseInt(r.Header.Get(webhook.HeaderTimestamp), 10, 64)
			if err := webhook.Verify(secret, r.Header.Get(webhook.HeaderID), r.Header.Get(webhook.HeaderTimestamp),
				r.Header.Get(webhook.HeaderSignature), body, time.Unix(ts, 0)); err != nil {
				t.Errorf("signature: %v", err)
			}
			var p struct {
				Type string
				Data map[string]any
			}
			if err := json.Unmarshal(body, &p); err != nil || p.Type != "member.created" || p.Data["external_id"] != "CRM-42" {
				t.Errorf("payload %s", body)
			}
			out, stderr, err := perk(t, env, "webhooks", "deliveries", epID)
			if err != nil || !strings.Contains(out, "member.created") || !strings.Contains(out, "delivered") {
				t.Errorf("deliveries: %v\n%s%s", err, out, stderr)
			}
		})
	}
}
