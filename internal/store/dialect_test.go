package store_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// The dialect's fragments mean the same on both engines.
func TestDialect_FragmentsMeanTheSameOnBothEngines(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		d := db.Dialect
		if _, err := db.W.ExecContext(ctx, `CREATE TABLE dialect_rows (id INTEGER PRIMARY KEY, tags TEXT, attrs TEXT, at TIMESTAMP)`); err != nil {
			t.Fatal(err)
		}
		at := time.Date(2027, 3, 1, 9, 30, 0, 0, time.UTC)
		if _, err := db.W.ExecContext(ctx, `INSERT INTO dialect_rows (id, tags, attrs, at) VALUES (1, $1, $2, $3)`,
			`["vip","staff"]`, `{"tier":"gold","say \"hi\"":"yes"}`, at); err != nil {
			t.Fatal(err)
		}
		count := func(where string, args ...any) int {
			t.Helper()
			var n int
			if err := db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM dialect_rows WHERE `+where, args...).Scan(&n); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			return n
		}
		tests := []struct {
			name  string
			where string
			args  []any
			want  int
		}{
			{"array holds one of", d.JSONArrayHasAny("tags", "$1, $2"), []any{"new", "vip"}, 1},
			{"array holds none of", d.JSONArrayHasAny("tags", "$1"), []any{"vi"}, 0},
			{"field equals", d.JSONField("attrs", "$1") + " = $2", []any{d.JSONFieldKey("tier"), "gold"}, 1},
			{"field differs", d.JSONField("attrs", "$1") + " = $2", []any{d.JSONFieldKey("tier"), "silver"}, 0},
			{"field with a quote in its name", d.JSONField("attrs", "$1") + " = $2", []any{d.JSONFieldKey(`say "hi"`), "yes"}, 1},
			{"missing field", d.JSONField("attrs", "$1") + " IS NULL", []any{d.JSONFieldKey("size")}, 1},
			{"hour bucket", d.EpochBucket("at", 3600) + " = $1", []any{at.Unix() / 3600}, 1},
			{"day bucket", d.EpochBucket("at", 86400) + " = $1", []any{at.Unix() / 86400}, 1},
		}
		for _, tt := range tests {
			if got := count(tt.where, tt.args...); got != tt.want {
				t.Errorf("%s: %s matched %d rows, want %d", tt.name, tt.where, got, tt.want)
			}
		}
		// A timestamp parameter in a SELECT list compares with a stored one.
		var n int
		err := db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT `+d.TimeParam("$1")+` AS at) AS v JOIN dialect_rows r ON r.at = v.at`, at).Scan(&n)
		if err != nil || n != 1 {
			t.Errorf("TimeParam: %d rows, %v; want 1", n, err)
		}
		// The elements of an array, one row each.
		var elems string
		err = db.R.QueryRowContext(ctx, `SELECT COUNT(*), MIN(e.value) || MAX(e.value) FROM dialect_rows r, `+
			d.JSONArrayElements("r.tags", "e")).Scan(&n, &elems)
		if err != nil || n != 2 || elems != "staffvip" {
			t.Errorf("JSONArrayElements: %d rows (%q), %v; want 2 (staff, vip)", n, elems, err)
		}
	})
}

func TestDialect_LockKeysHoldsEachKeyUntilTheTransactionEnds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		// Duplicates, any order, and none at all are fine.
		for _, keys := range [][]string{{"b", "a", "b"}, nil} {
			if err := db.Tx(ctx, func(tx *sql.Tx) error { return db.Dialect.LockKeys(ctx, tx, 1, keys) }); err != nil {
				t.Fatalf("LockKeys(%q): %v", keys, err)
			}
		}
		if db.Dialect != store.Postgres {
			return // SQLite's one writer serialises every write transaction
		}
		held := make(chan struct{})
		release := make(chan struct{})
		done := make(chan error, 1)
		go func() {
			done <- db.Tx(ctx, func(tx *sql.Tx) error {
				if err := db.Dialect.LockKeys(ctx, tx, 4242, []string{"k2", "k1"}); err != nil {
					return err
				}
				close(held)
				<-release
				return nil
			})
		}()
		<-held
		// Whether another transaction could take the lock now, asked without
		// waiting.
		free := func(space int32, key string) bool {
			t.Helper()
			tx, err := db.W.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Rollback()
			var ok bool
			if err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock(CAST($1 AS INTEGER), hashtext($2))`, space, key).Scan(&ok); err != nil {
				t.Fatal(err)
			}
			return ok
		}
		tests := []struct {
			name  string
			space int32
			key   string
			free  bool
		}{
			{"a held key", 4242, "k2", false},
			{"the other held key", 4242, "k1", false},
			{"another key", 4242, "k3", true},
			{"a held key in another space", 4243, "k1", true},
		}
		for _, tt := range tests {
			if got := free(tt.space, tt.key); got != tt.free {
				t.Errorf("%s: free = %v, want %v", tt.name, got, tt.free)
			}
		}
		close(release)
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if !free(4242, "k1") {
			t.Error("the lock outlived its transaction")
		}
	})
}
