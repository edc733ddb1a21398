package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// api calls the running server with a key and decodes the JSON answer.
func api(t *testing.T, method, url, key string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte: // a file, sent as it is
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(body)
		rd = bytes.NewReader(j)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Authorization", "Bearer "+key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if out != nil && res.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, url, err, b)
		}
	}
	if res.StatusCode >= 300 {
		t.Logf("%s %s = %d %s", method, url, res.StatusCode, b)
	}
	return res.StatusCode
}

type outboxMsg struct {
	Body, Purpose, Status string
	DeliveryState         string `json:"delivery_state"`
}

// waitOutbox polls the outbox until a message matches and returns its body.
func waitOutbox(t *testing.T, url, key string, match func(outboxMsg) bool) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var out struct {
			Messages []outboxMsg `json:"messages"`
		}
		api(t, "GET", url+"/v1/sms/outbox?limit=50", key, nil, &out)
		for _, m := range out.Messages {
			if match(m) {
				return m.Body
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no such message in the outbox: %+v", out.Messages)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestServe_CampaignStory is the "done when" through the real
// binary: a shopper joins by SMS; an operator writes, previews, simulates
// and launches a campaign; the announcement is sent; the card page shows
// the offer; a till evaluates, commits and returns; POINTS answers the new
// balance.
func TestServe_CampaignStory(t *testing.T) {
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			env := []string{"PERK_DB=" + dsn(t), "PERK_DATA_DIR=" + dir, "PERK_LOG_LEVEL=warn", "PERK_QUIET_HOURS=00:00-24:00",
				"PERK_POINTS_PENDING=0s"}
			if _, stderr, err := perk(t, env, "sms", "inject", "--from", "07700 900123", "JOIN", "Ann"); err != nil {
				t.Fatalf("join: %v %s", err, stderr)
			}
			admin, _, err := perk(t, env, "keys", "create", "--role", "admin", "--name", "ops")
			if err != nil {
				t.Fatal(err)
			}
			importStores(t, env, dir, "S1")
			till, _, err := perk(t, env, "keys", "create", "--role", "pos", "--store", "S1", "--name", "till 1")
			if err != nil {
				t.Fatal(err)
			}
			admin, till = strings.TrimSpace(admin), strings.TrimSpace(till)
			url, stop := serve(t, env, "--addr", "127.0.0.1:0")

			var c struct{ ID string }
			spec := map[string]any{"name": "Coffee week", "start": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339), "end": "2099-01-01",
				"audience": map[string]any{"kind": "all"}, "message": "{{.FirstName}}, 20% off coffee all week: {{.CardURL}}",
				"benefits": []map[string]any{{"kind": "percent_off", "percent": 20, "scope": map[string]any{"categories": []string{"coffee"}}}},
				"limits":   map[string]any{"per_member": 1}}
			if st := api(t, "POST", url+"/v1/campaigns", admin, spec, &c); st != 201 {
				t.Fatalf("create campaign: %d", st)
			}
			var pv struct{ Count int }
			if api(t, "GET", url+"/v1/campaigns/"+c.ID+"/preview", admin, nil, &pv); pv.Count != 1 {
				t.Fatalf("preview count %d", pv.Count)
			}
			if st := api(t, "POST", url+"/v1/campaigns/"+c.ID+"/simulate?days=7", admin, nil, nil); st != 200 {
				t.Fatalf("simulate: %d", st)
			}
			if st := api(t, "POST", url+"/v1/campaigns/"+c.ID+"/launch", admin, nil, nil); st != 200 {
				t.Fatalf("launch: %d", st)
			}

			// The simulator gateway sends and delivers the announcement.
			announcement := waitOutbox(t, url, admin, func(m outboxMsg) bool { return m.Purpose == "campaign" && m.DeliveryState == "delivered" })
			card := regexp.MustCompile(`https?://\S+/c/\S+`).FindString(announcement)
			if !strings.HasPrefix(announcement, "Ann, 20% off coffee") || card == "" {
				t.Fatalf("announcement %q", announcement)
			}
			res, err := http.Get(card)
			if err != nil {
				t.Fatal(err)
			}
			page, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if !strings.Contains(string(page), "Coffee week") || !strings.Contains(string(page), "20% off") {
				t.Fatalf("card page lacks the offer:\n%s", page)
			}

			basket := map[string]any{"terminal": "T1", "member": "07700 900123", "currency": "GBP", "transaction_id": "S1-0001",
				"items": []map[string]any{{"line": 1, "sku": "FLATWHITE", "categories": []string{"coffee"}, "quantity": 2, "unit_price": 320},
					{"line": 2, "sku": "MUFFIN", "quantity": 1, "unit_price": 260}}}
			var ev struct {
				TotalDiscount int64 `json:"total_discount"`
				PointsEarned  int64 `json:"points_earned"`
			}
			if st := api(t, "POST", url+"/v1/checkout/evaluate", till, basket, &ev); st != 200 || ev.TotalDiscount != 128 {
				t.Fatalf("evaluate: %d %+v", st, ev)
			}
			var cm struct {
				TotalDiscount int64 `json:"total_discount"`
				PointsEarned  int64 `json:"points_earned"`
				Member        struct {
					PointsBalance int64 `json:"points_balance"`
				}
			}
			if st := api(t, "POST", url+"/v1/checkout/commit", till, basket, &cm); st != 200 || cm.TotalDiscount != 128 || cm.PointsEarned != 7 {
				t.Fatalf("commit: %d %+v", st, cm)
			}
			var ret struct{ Refund int64 }
			if st := api(t, "POST", url+"/v1/checkout/return", till, map[string]any{"transaction_id": "S1-0001", "return_id": "R1",
				"items": []map[string]any{{"line": 2, "quantity": 1}}}, &ret); st != 200 || ret.Refund != 260 {
				t.Fatalf("return: %d %+v", st, ret)
			}
			// 512 + 260 paid earned 7: the muffin line's share (2) goes back.
			if _, stderr, err := perk(t, env, "sms", "inject", "--from", "07700 900123", "POINTS"); err != nil {
				t.Fatalf("POINTS: %v %s", err, stderr)
			}
			reply := waitOutbox(t, url, admin, func(m outboxMsg) bool { return m.Purpose == "points_reply" && m.Status == "sent" })
			if !strings.Contains(reply, "you have 5 points") {
				t.Fatalf("POINTS reply %q", reply)
			}
			if logs := stop(); strings.Contains(logs, "7700900123") {
				t.Fatalf("log holds a full number:\n%s", logs)
			}
		})
	}
}
