package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/client"
)

// TestClient_CRMRoundTripThroughPerkServe drives the real server with the
// example Go client, as a CRM and a till would: the CRM syncs its subset
// and gives a personal offer by CRM id; the till redeems it by CRM id once,
// then returns the line; a mistake comes back as a typed error.
func TestClient_CRMRoundTripThroughPerkServe(t *testing.T) {
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			env := []string{"PERK_DB=" + dsn(t), "PERK_DATA_DIR=" + dir, "PERK_LOG_LEVEL=warn"}
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
			crmKey, tillKey := key("--role", "manager"), key("--role", "pos", "--store", "S001")
			url, stop := serve(t, env, "--addr", "127.0.0.1:0")
			defer stop()
			crm, till := client.New(url, crmKey, nil), client.New(url, tillKey, nil)

			synced, err := crm.SyncSubset(ctx, strings.NewReader("external_id,phone,first_name,consent\nCRM-1,07700900501,Ann,yes\n"), false)
			if err != nil || synced.Stats.Created != 1 {
				t.Fatalf("sync: %+v %v", synced, err)
			}
			offer := client.PersonalOffer{Description: "£2 off your coffee", Start: time.Now().Add(-time.Hour).UTC().Format(time.RFC3339),
				End: "2099-01-01", Benefit: client.Benefit{Kind: client.AmountOff, Amount: 200, Scope: client.Scope{Categories: []string{"coffee"}}}}
			given, err := crm.GiveOffer(ctx, offer, []string{client.External("CRM-1")}, false)
			if err != nil || given.Added != 1 {
				t.Fatalf("give: %+v %v", given, err)
			}
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
			m, err := crm.Member(ctx, client.External("CRM-1"))
			if err != nil || m.FirstName != "Ann" || !strings.Contains(strings.Join(m.Tags, ","), "crm") {
				t.Fatalf("member: %+v %v", m, err)
			}
			var perr *client.Error
			_, err = till.Commit(ctx, &client.Basket{Store: "S002", Currency: "GBP", TransactionID: "T3",
				Items: []client.Item{{Line: 1, SKU: "X", Quantity: 1, UnitPrice: 1}}})
			if !errors.As(err, &perr) || perr.Status != 403 {
				t.Fatalf("a till of S001 committing for S002: %v", err)
			}
		})
	}
}
