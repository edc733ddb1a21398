package profile_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/perk-platform/perk/internal/profile"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// On PostgreSQL a refresh writes the affinities into a new table and swaps
// it in: the table that results has the columns, key and indexes the
// migrations give member_affinities, under the same names, so a migration
// that changes the table without changing the swap fails here.
func TestRefresh_SwapKeepsTheAffinitiesSchema(t *testing.T) {
	db := storetest.Postgres(t)
	w := newWorld(t, db, profile.Options{})
	ann, bob := w.enrol(t, 1), w.enrol(t, 2)
	w.commit(t, "S1", ann, "A1", item(1, "BREAD", 3, 150), item(2, "COFFEE", 1, 300))
	w.commit(t, "S1", bob, "B1", item(1, "SOAP", 1, 400))
	schema := func() [][]string {
		t.Helper()
		rows, err := db.R.Query(`SELECT 'column', attname || ' ' || format_type(atttypid, atttypmod) || CASE WHEN attnotnull THEN ' not null' ELSE '' END
				FROM pg_attribute WHERE attrelid = 'member_affinities'::regclass AND attnum > 0 AND NOT attisdropped
			UNION ALL SELECT 'index', indexname || ': ' || replace(indexdef, current_schema() || '.', '')
				FROM pg_indexes WHERE schemaname = current_schema() AND tablename = 'member_affinities'
			UNION ALL SELECT 'constraint', conname || ': ' || pg_get_constraintdef(oid) FROM pg_constraint
				WHERE conrelid = 'member_affinities'::regclass
			ORDER BY 1, 2`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out [][]string
		for rows.Next() {
			var kind, def string
			if err := rows.Scan(&kind, &def); err != nil {
				t.Fatal(err)
			}
			out = append(out, []string{kind, def})
		}
		return out
	}
	migrated := schema()
	for range 2 { // the second refresh swaps out the table the first swapped in
		w.refresh(t)
		if got := schema(); !reflect.DeepEqual(got, migrated) {
			t.Fatalf("after a refresh member_affinities is\n%v\nmigrated it was\n%v", got, migrated)
		}
	}
	if got := w.get(t, ann).Categories; len(got) == 0 || got[0].Key != "food" {
		t.Errorf("ann's categories after the refresh = %v, want food first", got)
	}
	var n int
	if err := db.R.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM pg_tables WHERE tablename = 'member_affinities_next'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d tables named member_affinities_next left (%v), want none", n, err)
	}
}
