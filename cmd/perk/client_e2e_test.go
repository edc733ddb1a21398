package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/client"
	"github.com/perk-platform/perk/internal/testenv"
)

// TestClient_CRMRoundTripThroughPerkServe is issue 11's "done when" through
// the real server, with the example Go client, as a CRM and a till would:
// the CRM syncs its subset with CRM ids and gives a personal offer by CRM
// id; the member gets it by SMS (sent and delivered through the simulator)
// and on their card page; the till redeems it by CRM id once, then returns
// the line; the CRM receives signed webhooks, each verified by the npm
// package standardwebhooks, and a feed file (perk crm export, and the same
// feed through the API) keyed by CRM id that lists the redemption.
func TestClient_CRMRoundTripThroughPerkServe(t *testing.T) {
	node := testenv.Binary(t, "PERK_TEST_NODE", "node", "the CRM round trip's webhook receiver")
	modules := testenv.Env(t, "PERK_TEST_STANDARDWEBHOOKS_NODE_MODULES",
		"the CRM round trip's webhook receiver (a node_modules folder with standardwebhooks@1.1.1)")
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			env := []string{"PERK_DB=" + dsn(t), "PERK_DATA_DIR=" + dir, "PERK_LOG_LEVEL=warn",
				"PERK_WEBHOOKS_ALLOW_PRIVATE=true", "PERK_QUIET_HOURS=00:00-24:00"}
			key := func(args ...string) string {
				out, stderr, err := perk(t, env, append([]string{"keys", "create"}, args...)...)
				if err != nil {
					t.Fatalf("keys create %v: %v\n%s", args, err, stderr)
				}
				return strings.TrimSpace(out)
			}
			if _, stderr, err := perk(t, env, "migrate"); err != nil {
				t.Fatalf("migrate: %v\n%s", err, stderr)
			}
			importStores(t, env, dir, "S001", "S002")
			crmKey, tillKey, adminKey := key("--role", "manager"), key("--role", "pos", "--store", "S001"), key("--role", "admin")
			// The CRM's webhook endpoint: its secret is made by Perk, so the
			// receiver starts with it and the endpoint is then pointed at it.
			hookTypes := []string{"member.created", "transaction.committed", "offer.redeemed", "sms.delivered"}
			secret, stderr, err := perk(t, env, "webhooks", "add", "--url", "http://127.0.0.1:1/", "--events", strings.Join(hookTypes, ","))
			if err != nil {
				t.Fatalf("webhooks add: %v\n%s", err, stderr)
			}
			epID := strings.TrimSuffix(strings.Fields(stderr[strings.Index(stderr, "created endpoint ")+len("created endpoint "):])[0], ";")
			hookURL, verdicts := standardWebhooksReceiver(t, node, modules, strings.TrimSpace(secret))

			url, stop := serve(t, env, "--addr", "127.0.0.1:0")
			defer stop()
			if status := api(t, "PUT", url+"/v1/webhooks/"+epID, adminKey, map[string]any{"url": hookURL, "event_types": hookTypes}, nil); status != http.StatusOK {
				t.Fatalf("pointing the endpoint at the receiver: %d", status)
			}
			// The CRM's client waits longer than the default 10 s: on a PostgreSQL
			// server shared with other tests, their writes hold the feed back.
			crm, till := client.New(url, crmKey, &http.Client{Timeout: 3 * time.Minute}), client.New(url, tillKey, nil)

			// Sync a subset with CRM ids.
			synced, err := crm.SyncSubset(ctx, strings.NewReader("external_id,phone,first_name,consent\nCRM-1,07700900501,Ann,yes\nCRM-2,07700900502,Bob,yes\n"), false)
			if err != nil || synced.Stats.Created != 2 {
				t.Fatalf("sync: %+v %v", synced, err)
			}
			// A personal offer by CRM id, announced by SMS.
			offer := client.PersonalOffer{Description: "£2 off your coffee", Start: time.Now().Add(-time.Hour).UTC().Format(time.RFC3339),
				End: "2099-01-01", Benefit: client.Benefit{Kind: client.AmountOff, Amount: 200, Scope: client.Scope{Categories: []string{"coffee"}}},
				Message: "Hi {{.FirstName}}, £2 off your coffee: {{.CardURL}}"}
			given, err := crm.GiveOffer(ctx, offer, []string{client.External("CRM-1")}, true)
			if err != nil || given.Added != 1 || given.Announced != 1 {
				t.Fatalf("give: %+v %v", given, err)
			}
			m, err := crm.Member(ctx, client.External("CRM-1"))
			if err != nil || m.FirstName != "Ann" || !strings.Contains(strings.Join(m.Tags, ","), "crm") {
				t.Fatalf("member: %+v %v", m, err)
			}
			// The member gets it by SMS (sent, and delivered by the
			// simulator's receipt) and on their card page.
			waitOutbox(t, url, crmKey, func(o outboxMsg) bool {
				return o.Purpose == "campaign" && strings.Contains(o.Body, "off your coffee") && o.DeliveryState == "delivered"
			})
			if status, page := getPage(t, m.CardURL); status != http.StatusOK || !strings.Contains(page, "off your coffee") {
				t.Fatalf("card page %s: %d, the offer is not on it:\n%s", m.CardURL, status, page)
			}

			// The till redeems it by CRM id, once, and takes a line back.
			basket := func(tx string) *client.Basket {
				return &client.Basket{Store: "S001", Currency: "GBP", TransactionID: tx, Member: client.Key(client.External("CRM-1")),
					Items: []client.Item{{Line: 1, SKU: "LATTE", Categories: []string{"coffee"}, Quantity: 1, UnitPrice: 325}}}
			}
			if r, err := till.Commit(ctx, basket("T1")); err != nil || r.TotalDiscount != 200 {
				t.Fatalf("commit: %+v %v", r, err)
			}
			if r, err := till.Commit(ctx, basket("T2")); err != nil || r.TotalDiscount != 0 {
				t.Fatalf("the single-use offer used twice: %+v %v", r, err)
			}
			ret, err := till.Return(ctx, &client.Return{Store: "S001", TransactionID: "T1", ReturnID: "R1",
				Items: []client.ReturnItem{{Line: 1, Quantity: 1}}})
			if err != nil || ret.Refund != 125 {
				t.Fatalf("return: %+v %v", ret, err)
			}
			var perr *client.Error
			_, err = till.Commit(ctx, &client.Basket{Store: "S002", Currency: "GBP", TransactionID: "T3",
				Items: []client.Item{{Line: 1, SKU: "X", Quantity: 1, UnitPrice: 1}}})
			if !errors.As(err, &perr) || perr.Status != 403 {
				t.Fatalf("a till of S001 committing for S002: %v", err)
			}

			// Signed webhooks, each verified by standardwebhooks: at least
			// the two enrolments, a receipt (the announcement's; the
			// welcomes' come too), the two commits and the one redemption.
			want := map[string]int{"member.created": 2, "sms.delivered": 1, "transaction.committed": 2, "offer.redeemed": 1}
			got := map[string]int{}
			deadline := time.After(30 * time.Second)
			for !atLeast(got, want) {
				select {
				case v, ok := <-verdicts:
					if !ok {
						t.Fatalf("the receiver exited; verified so far %v", got)
					}
					if !v.OK {
						t.Fatalf("standardwebhooks refused delivery %s (%s): %s", v.ID, v.Type, v.Error)
					}
					got[v.Type]++
				case <-deadline:
					t.Fatalf("verified webhooks %v, want at least %v", got, want)
				}
			}
			if got["offer.redeemed"] != 1 {
				t.Errorf("offer.redeemed %d times, want once", got["offer.redeemed"])
			}

			// The feed file keyed by CRM id lists the redemption.
			out := filepath.Join(dir, "feed")
			// --wait: on a PostgreSQL server shared with other tests, their write
			// transactions hold the export back too.
			manifestJSON, stderr, err := perk(t, env, "crm", "export", "--out", out, "--wait", "2m", "-o", "json")
			if err != nil {
				t.Fatalf("crm export: %v\n%s", err, stderr)
			}
			var manifest struct {
				Cursor string
				Files  []struct {
					Name string
					Rows int64
				}
			}
			if err := json.Unmarshal([]byte(manifestJSON), &manifest); err != nil || manifest.Cursor == "" || len(manifest.Files) != 8 {
				t.Fatalf("manifest: %v %s", err, manifestJSON)
			}
			file, err := os.ReadFile(filepath.Join(out, "redemptions.csv"))
			if err != nil {
				t.Fatal(err)
			}
			rows, err := csv.NewReader(bytes.NewReader(file)).ReadAll()
			if err != nil || len(rows) != 2 {
				t.Fatalf("redemptions.csv: %v\n%s", err, file)
			}
			red := map[string]string{}
			for i, c := range rows[0] {
				red[c] = rows[1][i]
			}
			if red["external_id"] != "CRM-1" || red["transaction_id"] != "T1" || red["campaign_id"] != given.Campaign.ID ||
				red["discount"] != "200" || red["store"] != "S001" {
				t.Errorf("the redemption in the feed: %v", red)
			}
			// The API twin: the same feed over the same changes is the same
			// file, and nothing has happened since.
			var body bytes.Buffer
			read, err := crm.Feed(ctx, client.FeedRedemptions, "", manifest.Cursor, false, &body)
			if err != nil || !bytes.Equal(body.Bytes(), file) || read.Rows != 1 {
				t.Errorf("GET /v1/crm/export/redemptions until the export's cursor: %+v %v\n%s\nthe file:\n%s", read, err, body.Bytes(), file)
			}
			body.Reset()
			if read, err := crm.Feed(ctx, client.FeedRedemptions, manifest.Cursor, "", true, &body); err != nil || read.Rows != 0 || body.Len() != 0 {
				t.Errorf("since the export's cursor: %+v %v %q", read, err, body.String())
			}
		})
	}
}

// atLeast reports whether got counts at least want of every key.
func atLeast(got, want map[string]int) bool {
	for k, v := range want {
		if got[k] < v {
			return false
		}
	}
	return true
}

// getPage fetches a page without a key (a member's card).
func getPage(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(res.Body)
	return res.StatusCode, b.String()
}

// webhookVerdict is what the Node receiver says of one request.
type webhookVerdict struct {
	ID    string `json:"id"`
	OK    bool   `json:"ok"`
	Type  string `json:"type"`
	Error string `json:"error"`
}

// standardWebhooksReceiver runs the webhook package's Node receiver (it
// checks every request with standardwebhooks' Webhook.verify) with secret,
// and returns its URL and its verdicts.
func standardWebhooksReceiver(t *testing.T, node, modules, secret string) (string, <-chan webhookVerdict) {
	t.Helper()
	script, err := filepath.Abs("../../internal/webhook/testdata/receiver.js")
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
	verdicts := make(chan webhookVerdict, 64)
	go func() {
		defer close(verdicts)
		for lines.Scan() {
			var v webhookVerdict
			if err := json.Unmarshal(lines.Bytes(), &v); err != nil {
				v.Error = fmt.Sprintf("unreadable verdict: %s", lines.Text())
			}
			verdicts <- v
		}
	}()
	return "http://127.0.0.1:" + strings.TrimSpace(lines.Text()) + "/hooks", verdicts
}
