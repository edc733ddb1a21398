package event

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"testing"

	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// RecordEach is Record for events selected from a table: the rows it
// writes are the rows Record writes for the same events, and a second run
// adds nothing.
func TestRecordEach_WritesWhatRecordWritesAndIgnoresAResend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		for i := 1; i <= 3; i++ {
			addMember(t, db, fmt.Sprintf("mem_%d", i), codeOf(i))
		}
		rows := func(prefix string) [][]any {
			t.Helper()
			r, err := db.R.Query(`SELECT type, occurred_at, received_at, channel, source, COALESCE(anonymous_id, '-'), member_id,
				COALESCE(session_id, '-'), campaign, store_id, COALESCE(order_id, '-'), properties, substr(event_id, $1)
				FROM events WHERE event_id LIKE $2 ORDER BY id`, len(prefix)+1, prefix+"%")
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var out [][]any
			for r.Next() {
				row := make([]any, 13)
				ptrs := make([]any, 13)
				for i := range row {
					ptrs[i] = &row[i]
				}
				if err := r.Scan(ptrs...); err != nil {
					t.Fatal(err)
				}
				out = append(out, row)
			}
			return out
		}
		var want []Event
		for i := 1; i <= 3; i++ {
			want = append(want, Event{EventID: fmt.Sprintf("one:x:mem_%d", i), Type: "segment_entered", Time: t0.Add(123456789),
				MemberID: fmt.Sprintf("mem_%d", i), Properties: []byte(fmt.Sprintf(`{"segment":"s%d"}`, i))})
		}
		if err := db.Tx(ctx, func(tx *sql.Tx) error { return Record(ctx, tx, db.Dialect, want...) }); err != nil {
			t.Fatal(err)
		}
		sel := `SELECT 'bulk:x:' || id, id, '{"segment":"s' || substr(id, 5) || '"}' FROM members WHERE id >= $1 ORDER BY id`
		for run, wantNew := range []int64{3, 0} {
			var n int64
			if err := db.Tx(ctx, func(tx *sql.Tx) (err error) {
				n, err = RecordEach(ctx, tx, db.Dialect, "segment_entered", t0.Add(123456789), sel, "mem_1")
				return err
			}); err != nil {
				t.Fatal(err)
			}
			if n != wantNew {
				t.Errorf("run %d: %d new events, want %d", run+1, n, wantNew)
			}
		}
		one, bulk := rows("one:"), rows("bulk:")
		if len(one) != 3 || !reflect.DeepEqual(one, bulk) {
			t.Errorf("RecordEach wrote\n%v\nRecord wrote\n%v", bulk, one)
		}
		// A run whose ids are partly taken writes the others (on
		// PostgreSQL the plain claim fails and the tolerant one runs), and
		// the transaction goes on.
		addMember(t, db, "mem_4", codeOf(4))
		var n int64
		if err := db.Tx(ctx, func(tx *sql.Tx) (err error) {
			if n, err = RecordEach(ctx, tx, db.Dialect, "segment_entered", t0.Add(123456789), sel, "mem_3"); err != nil {
				return err
			}
			_, err = tx.Exec(`UPDATE members SET first_name = 'After' WHERE id = 'mem_4'`)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if got := rows("bulk:"); n != 1 || len(got) != 4 || got[3][6] != "mem_4" {
			t.Errorf("with mem_3's id taken: %d new, events %v; want mem_4's alone added", n, got)
		}
	})
}
