package event

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/testenv"
)

// t0 is the tests' "now": 5 Dec 2026, 10:00 UTC.
var t0 = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)

func newService(t *testing.T, db *store.DB) (*Service, *testenv.Clock) {
	t.Helper()
	clock := testenv.NewClock(t0)
	return NewService(db, Options{Now: clock.Now}), clock
}

// addMember inserts a bare member row; the event package reads members only
// to resolve keys.
func addMember(t *testing.T, db *store.DB, id, code string) {
	t.Helper()
	_, err := db.W.Exec(`INSERT INTO members (id, code, phone, channel, status, enrolled_at, updated_at)
		VALUES ($1, $2, $3, 'pos', 'active', $4, $4)`, id, code, "+4477009"+code[2:], t0)
	if err != nil {
		t.Fatalf("add member: %v", err)
	}
}

// ev is a client event as JSON, at t0 plus offset minutes.
func ev(id, typ string, minutes int, person map[string]string, props string) string {
	m := map[string]any{"event_id": id, "type": typ, "time": t0.Add(time.Duration(minutes) * time.Minute), "channel": "web"}
	for k, v := range person {
		m[k] = v
	}
	if props != "" {
		m["properties"] = json.RawMessage(props)
	}
	b, _ := json.Marshal(m)
	return string(b)
}

func batch(evs ...string) []byte { return []byte(`{"events":[` + strings.Join(evs, ",") + `]}`) }

// ingest decodes and stores body at the clock's time.
func ingest(t *testing.T, s *Service, body []byte) Result {
	t.Helper()
	in, rej, err := Decode(body, s.Now())
	if err != nil {
		t.Fatalf("decode: %v", err)
	}
	res, err := s.Ingest(context.Background(), in, rej)
	if err != nil {
		t.Fatalf("ingest: %v", err)
	}
	return res
}

// record writes Perk's own events in a transaction.
func record(t *testing.T, db *store.DB, evs ...Event) {
	t.Helper()
	if err := db.Tx(context.Background(), func(tx *sql.Tx) error { return Record(context.Background(), tx, db.Dialect, evs...) }); err != nil {
		t.Fatalf("record: %v", err)
	}
}

// owners maps each event_id to its member ("" for anonymous), read back
// straight from the table.
func owners(t *testing.T, db *store.DB) map[string]string {
	t.Helper()
	rows, err := db.R.Query(`SELECT event_id, COALESCE(member_id, '') FROM events`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var e, m string
		rows.Scan(&e, &m)
		out[e] = m
	}
	return out
}

func count(t *testing.T, db *store.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := db.R.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func codeOf(i int) string { return fmt.Sprintf("%08d", 10000000+i) }
