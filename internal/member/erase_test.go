package member_test

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/event"

	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// The erased shopper's personal data, each in a form that appears nowhere else.
var erasedTraces = []struct{ what, value string }{
	{"phone, significant digits (in E.164 and national forms)", "7700900777"},
	{"phone, national form as typed", "07700 900777"},
	{"e-mail", "zebedee.quillfeather@example.org"},
	{"first name", "Zebedee"},
	{"last name", "Quillfeather"},
	{"birthday", "1971-02-03"},
	{"external id", "CRM-ZQ-77"},
	{"attribute value", "Zeb the Bold"},
	{"client address of the web sign-up", "203.0.113.77"},
}

// seedErasable gives the shopper the history a real one gathers: a JOIN
// texted before they were a member and the reply to it, a web sign-up with
// consent, a name change, STOP and START, messages both ways naming them; and
// enough other members around them that their rows and index entries move
// between pages as the tables grow.
func seedErasable(t *testing.T, db *store.DB, s *member.Service) *member.Member {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.W.ExecContext(ctx, q, args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// As the SMS router stores them, before the number is a member's.
	exec(`INSERT INTO sms_inbox (id, from_phone, to_addr, body, keyword, received_at)
		VALUES ('mo-before', '+447700900777', '60777', 'JOIN Zebedee Quillfeather', '', $1)`, at)
	exec(`INSERT INTO sms_outbox (id, to_phone, body, kind, purpose, status, created_at, send_after, last_error)
		VALUES ('mt-before', '+447700900777', 'Reply JOIN to join.', 'transactional', 'code_reply', 'failed', $1, $1,
		'destination +447700900777 rejected')`, at)

	var file strings.Builder
	file.WriteString("phone,first_name,email\n")
	for i := range 300 {
		fmt.Fprintf(&file, "07400800%03d,Other%d,other%d@example.com\n", i, i, i)
		if i == 150 {
			// Enrolled mid-way, so later inserts split the pages around them.
			if _, err := s.Import(ctx, strings.NewReader(file.String()), member.ImportOptions{}); err != nil {
				t.Fatal(err)
			}
			file.Reset()
			file.WriteString("phone,first_name,email\n")
		}
	}
	e := enrol(t, s, member.EnrolRequest{Channel: member.ChannelWeb, Consent: true, SourceAddress: "203.0.113.77",
		Profile: member.Profile{Phone: "07700 900777", FirstName: "Zeb", LastName: "Quillfeather",
			Email: "zebedee.quillfeather@example.org", Birthday: "1971-02-03", ExternalID: "CRM-ZQ-77",
			Attributes: map[string]string{"nickname": "Zeb the Bold"}, Tags: []string{"coffee"}}})
	if _, err := s.Import(ctx, strings.NewReader(file.String()), member.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	m := e.Member
	first := "Zebedee"
	if _, err := s.Update(ctx, m.ID, member.Patch{FirstName: &first}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OptOut(ctx, m.ID, member.Origin{Method: member.ChannelSMS, Source: "keyword STOP", Address: "60777"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OptIn(ctx, m.ID, member.Origin{Method: member.ChannelWeb, Source: "card page", Address: "203.0.113.77"}); err != nil {
		t.Fatal(err)
	}
	exec(`INSERT INTO sms_inbox (id, from_phone, to_addr, body, keyword, member_id, received_at)
		VALUES ('mo-after', '+447700900777', '60777', 'Zebedee here, my e-mail is zebedee.quillfeather@example.org', '', $1, $2)`, m.ID, at)
	exec(`INSERT INTO sms_outbox (id, member_id, to_phone, body, kind, purpose, status, created_at, send_after)
		VALUES ('mt-after', $1, '+447700900777', 'Hi Zebedee, 10% off coffee today', 'marketing', 'campaign', 'queued', $2, $2)`, m.ID, at)
	if err := s.ResendCode(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	// An app sent what it knew, and his browser is tied to him.
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		return event.Record(ctx, tx, db.Dialect, event.Event{EventID: "app-1", Type: "acme.profile_saved", Time: at,
			Channel: event.App, MemberID: m.ID, AnonymousID: "browser-of-zeb",
			Properties: []byte(`{"email":"zebedee.quillfeather@example.org","nickname":"Zeb the Bold"}`)})
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// Erasure leaves nothing of the person anywhere the database keeps bytes:
// on SQLite not in the file's free pages, the WAL or its index; on
// PostgreSQL in no row of any table. What remains is what the aggregates need.
func TestErase_LeavesNoPersonalDataInTheDatabase(t *testing.T) {
	ctx := context.Background()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		db, path := storetest.SQLiteFile(t)
		s, _ := newService(t, db)
		m := seedErasable(t, db, s)
		if err := s.Erase(ctx, m.ID); err != nil {
			t.Fatal(err)
		}
		for _, file := range []string{path, path + "-wal", path + "-shm"} {
			b, err := os.ReadFile(file)
			if os.IsNotExist(err) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, tr := range erasedTraces {
				if n := bytes.Count(b, []byte(tr.value)); n > 0 {
					t.Errorf("%s holds %d copies of the %s %q", file[strings.LastIndex(file, "/")+1:], n, tr.what, tr.value)
				}
			}
		}
		checkErasureKeepsTheRest(t, db, s, m)
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		db := storetest.Postgres(t)
		s, _ := newService(t, db)
		m := seedErasable(t, db, s)
		if err := s.Erase(ctx, m.ID); err != nil {
			t.Fatal(err)
		}
		for table, rows := range dumpTables(t, db) {
			for _, row := range rows {
				for _, tr := range erasedTraces {
					if strings.Contains(row, tr.value) {
						t.Errorf("%s holds the %s %q: %s", table, tr.what, tr.value, row)
					}
				}
			}
		}
		checkErasureKeepsTheRest(t, db, s, m)
	})
}

// checkErasureKeepsTheRest: the erased member still counts, and nobody
// else lost anything.
func checkErasureKeepsTheRest(t *testing.T, db *store.DB, s *member.Service, m *member.Member) {
	t.Helper()
	got, err := s.Get(context.Background(), m.ID)
	if err != nil || got.Status != member.StatusErased || got.Code != m.Code {
		t.Errorf("erased member = %+v, %v; want the row kept, status erased", got, err)
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM members WHERE phone LIKE '+447400800%' AND first_name LIKE 'Other%'`); n != 300 {
		t.Errorf("%d other members intact, want 300", n)
	}
	if n := countRows(t, db, `SELECT COUNT(*) FROM sms_outbox WHERE member_id = $1`, m.ID); n < 2 {
		t.Errorf("%d of the member's messages left to count, want them all", n)
	}
}

// dumpTables returns every row of every table in the test's schema as JSON.
func dumpTables(t *testing.T, db *store.DB) map[string][]string {
	t.Helper()
	ctx := context.Background()
	rows, err := db.R.QueryContext(ctx, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	if len(tables) < 20 {
		t.Fatalf("only %d tables in the schema: %v", len(tables), tables)
	}
	out := map[string][]string{}
	for _, table := range tables {
		rs, err := db.R.QueryContext(ctx, `SELECT row_to_json(t)::text FROM `+table+` t`)
		if err != nil {
			t.Fatalf("dump %s: %v", table, err)
		}
		for rs.Next() {
			var row sql.NullString
			if err := rs.Scan(&row); err != nil {
				t.Fatal(err)
			}
			out[table] = append(out[table], row.String)
		}
		rs.Close()
	}
	return out
}
