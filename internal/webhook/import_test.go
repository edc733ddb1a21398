package webhook_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestImport_AFileReportsEveryMemberItCreatesOrChanges imports more members
// in one batch than one INSERT of deliveries takes, then a file that
// changes names and withdraws consents.
func TestImport_AFileReportsEveryMemberItCreatesOrChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.endpoint("http://127.0.0.1:1/", change.MemberCreated, change.MemberUpdated, change.ConsentChanged, change.MemberOptedOut)
		members := member.NewService(db, member.Options{Region: "GB", Now: f.clk.Now, Changes: f.svc})
		const n = 600 // 1,200 deliveries from one batch: created and consent.changed each
		file := func(name, consent string) string {
			var b strings.Builder
			b.WriteString("phone,first_name,external_id,consent\n")
			for i := range n {
				fmt.Fprintf(&b, "+4477009%05d,%s,CRM-%d,%s\n", i, name, i, consent)
			}
			return b.String()
		}
		ctx := context.Background()
		if _, err := members.Import(ctx, strings.NewReader(file("Ann", "yes")), member.ImportOptions{Source: "crm", BatchSize: 1000, NoWelcome: true}); err != nil {
			t.Fatal(err)
		}
		f.clk.Advance(time.Minute)
		if _, err := members.Import(ctx, strings.NewReader(file("Bea", "no")), member.ImportOptions{Source: "crm", BatchSize: 1000}); err != nil {
			t.Fatal(err)
		}
		rows, err := db.R.Query(`SELECT event_type, COUNT(*), COUNT(DISTINCT event_id) FROM webhook_deliveries GROUP BY event_type`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		got := map[string]int{}
		for rows.Next() {
			var typ string
			var count, distinct int
			if err := rows.Scan(&typ, &count, &distinct); err != nil {
				t.Fatal(err)
			}
			if count != distinct {
				t.Errorf("%s: %d deliveries of %d events", typ, count, distinct)
			}
			got[typ] = count
		}
		want := map[string]int{change.MemberCreated: n, change.ConsentChanged: 2 * n, change.MemberUpdated: n, change.MemberOptedOut: n}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("deliveries by type %v, want %v", got, want)
		}
		var payload string
		if err := db.R.QueryRow(`SELECT payload FROM webhook_deliveries WHERE event_type = 'member.updated' LIMIT 1`).Scan(&payload); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(payload, `"changed":["first_name"]`) || !strings.Contains(payload, `"external_id":"CRM-`) {
			t.Errorf("member.updated payload %s", payload)
		}
	})
}

// TestCRMSync_AMemberTakenOutOfTheSubsetIsReported: a full sync that leaves
// a member out takes the crm tag off, which the CRM hears as member.updated.
func TestCRMSync_AMemberTakenOutOfTheSubsetIsReported(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.endpoint("http://127.0.0.1:1/", change.MemberUpdated)
		members := member.NewService(db, member.Options{Region: "GB", Now: f.clk.Now, Changes: f.svc})
		ctx := context.Background()
		sync := func(file string, full bool) {
			t.Helper()
			if _, err := members.Import(ctx, strings.NewReader(file), member.ImportOptions{Sync: member.NewSyncRun(f.clk.Now()), Full: full, NoWelcome: true}); err != nil {
				t.Fatal(err)
			}
			f.clk.Advance(time.Second)
		}
		sync("phone,external_id\n07400100001,CRM-1\n07400100002,CRM-2\n", false)
		if _, err := db.W.Exec(`DELETE FROM webhook_deliveries`); err != nil {
			t.Fatal(err)
		}
		sync("external_id\nCRM-2\n", true)
		var payloads []string
		rows, err := db.R.Query(`SELECT payload FROM webhook_deliveries`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var p string
			rows.Scan(&p)
			payloads = append(payloads, p)
		}
		if len(payloads) != 1 || !strings.Contains(payloads[0], `"external_id":"CRM-1"`) || !strings.Contains(payloads[0], `"changed":["tags"]`) {
			t.Errorf("after the full sync: %v, want one member.updated for CRM-1's tags", payloads)
		}
	})
}
