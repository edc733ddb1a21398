package profile_test

import (
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/profile"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// On PostgreSQL a refresh writes the profiles and the affinities into new
// tables and swaps them in: the tables that result have the columns, keys
// and indexes the migrations give member_profiles and member_affinities,
// under the same names, so a migration that changes a table without
// changing the swap fails here.
func TestRefresh_SwapKeepsTheSchema(t *testing.T) {
	db := storetest.Postgres(t)
	w := newWorld(t, db, profile.Options{})
	ann, bob := w.enrol(t, 1), w.enrol(t, 2)
	w.commit(t, "S1", ann, "A1", item(1, "BREAD", 3, 150), item(2, "COFFEE", 1, 300))
	w.commit(t, "S1", bob, "B1", item(1, "SOAP", 1, 400))
	schema := func() [][]string {
		t.Helper()
		rows, err := db.R.Query(`SELECT 'column', attrelid::regclass || '.' || attname || ' ' || format_type(atttypid, atttypmod) ||
					CASE WHEN attnotnull THEN ' not null' ELSE '' END || COALESCE(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
				FROM pg_attribute LEFT JOIN pg_attrdef d ON d.adrelid = attrelid AND d.adnum = attnum
				WHERE attrelid IN ('member_affinities'::regclass, 'member_profiles'::regclass) AND attnum > 0 AND NOT attisdropped
			UNION ALL SELECT 'index', indexname || ': ' || replace(indexdef, current_schema() || '.', '')
				FROM pg_indexes WHERE schemaname = current_schema() AND tablename IN ('member_affinities', 'member_profiles')
			UNION ALL SELECT 'constraint', conrelid::regclass || '.' || conname || ': ' || pg_get_constraintdef(oid) FROM pg_constraint
				WHERE conrelid IN ('member_affinities'::regclass, 'member_profiles'::regclass)
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
			t.Fatalf("after a refresh the tables are\n%v\nmigrated they were\n%v", got, migrated)
		}
	}
	if got := w.get(t, ann).Categories; len(got) == 0 || got[0].Key != "food" {
		t.Errorf("ann's categories after the refresh = %v, want food first", got)
	}
	var n int
	if err := db.R.QueryRowContext(context.Background(), `SELECT COUNT(*) FROM pg_tables WHERE tablename LIKE '%_next'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d next tables left (%v), want none", n, err)
	}
}

// A refresh on PostgreSQL that fails part way (here: cancelled once its
// history is folded and the affinities' new table, made on a connection of
// its own, is filled) leaves the profiles and affinities as they were and
// no new table behind, and the next refresh runs.
func TestRefresh_FailedRefreshLeavesTheTablesAsTheyWere(t *testing.T) {
	db := storetest.Postgres(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := newWorld(t, db, profile.WithBetweenChunks(profile.Options{}, cancel))
	ann := w.enrol(t, 1)
	w.commit(t, "S1", ann, "A1", item(1, "BREAD", 3, 150))
	if _, err := profile.NewService(db, profile.Options{Now: w.clock.Now}, nil).Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	before := w.get(t, ann)
	if _, err := w.clock.Advance(24 * time.Hour); err != nil {
		t.Fatal(err)
	}
	w.commit(t, "S1", ann, "A2", item(1, "COFFEE", 5, 300))
	if _, err := w.profiles.Refresh(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("the cancelled refresh returned %v, want context.Canceled", err)
	}
	if got := w.get(t, ann); !reflect.DeepEqual(got, before) {
		t.Errorf("after the failed refresh ann's profile is\n%+v\nwant it as it was\n%+v", got, before)
	}
	var n int
	if err := db.R.QueryRow(`SELECT COUNT(*) FROM pg_tables WHERE tablename LIKE '%_next'`).Scan(&n); err != nil || n != 0 {
		t.Errorf("%d next tables left (%v), want none", n, err)
	}
	if _, err := profile.NewService(db, profile.Options{Now: w.clock.Now}, nil).Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := w.get(t, ann).Categories; len(got) == 0 || got[0].Key != "drinks" {
		t.Errorf("ann's categories after the next refresh = %v, want drinks first", got)
	}
}
