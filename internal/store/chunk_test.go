package store_test

import (
	"context"
	"database/sql"
	"errors"
	"testing"

	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestChunk_AFailingUnitIsRolledBackAlone: under a chunk's context Tx runs
// in a savepoint; a unit that fails (an error, a violated constraint that
// on PostgreSQL aborts the transaction, a panic) leaves nothing, the others
// commit together with the chunk, and nothing is visible before Commit.
func TestChunk_AFailingUnitIsRolledBackAlone(t *testing.T) {
	errRefused := errors.New("refused")
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.W.Exec(`CREATE TABLE chunk_t (k TEXT PRIMARY KEY)`); err != nil {
			t.Fatal(err)
		}
		insert := func(k string) func(*sql.Tx) error {
			return func(tx *sql.Tx) error {
				_, err := tx.ExecContext(ctx, `INSERT INTO chunk_t (k) VALUES ($1)`, k)
				return err
			}
		}
		ch, err := db.BeginChunk(ctx)
		if err != nil {
			t.Fatal(err)
		}
		cctx := ch.Context(ctx)
		units := []struct {
			name    string
			fn      func(*sql.Tx) error
			wantErr bool
		}{
			{"a", insert("a"), false},
			{"an error after a write", func(tx *sql.Tx) error { insert("x")(tx); return errRefused }, true},
			{"a duplicate key", func(tx *sql.Tx) error { insert("y")(tx); return insert("a")(tx) }, true},
			{"b", insert("b"), false},
		}
		for _, u := range units {
			if err := db.Tx(cctx, u.fn); (err != nil) != u.wantErr {
				t.Fatalf("%s: %v", u.name, err)
			}
		}
		func() {
			defer func() { recover() }()
			db.Tx(cctx, func(tx *sql.Tx) error { insert("z")(tx); panic("boom") })
		}()
		if err := db.Tx(cctx, insert("c")); err != nil {
			t.Fatalf("after a panic: %v", err)
		}
		var n int
		if err := db.R.QueryRow(`SELECT COUNT(*) FROM chunk_t`).Scan(&n); err != nil || n != 0 {
			t.Fatalf("before Commit others see %d rows (%v), want 0", n, err)
		}
		if ch.Units() != 6 || ch.Split() {
			t.Errorf("units %d, split %v", ch.Units(), ch.Split())
		}
		reloads := 0
		store.AfterCommit(cctx, func() { reloads++ })
		if !ch.Split() || reloads != 1 {
			t.Errorf("AfterCommit: split %v, ran %d times before the commit", ch.Split(), reloads)
		}
		if err := ch.Commit(); err != nil {
			t.Fatal(err)
		}
		if reloads != 2 {
			t.Errorf("AfterCommit ran %d times, want once more after the commit", reloads)
		}
		rows, err := db.R.Query(`SELECT k FROM chunk_t ORDER BY k`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var k string
			rows.Scan(&k)
			got = append(got, k)
		}
		if len(got) != 3 || got[0] != "a" || got[1] != "b" || got[2] != "c" {
			t.Errorf("committed %v, want [a b c]", got)
		}
	})
}

// TestOnCommit_RunsOnceTheWritesAreDurableAndNeverAfterARollback: outside a
// chunk at once; in a chunk only after its commit, once, without splitting
// it; in a chunk that is rolled back, never.
func TestOnCommit_RunsOnceTheWritesAreDurableAndNeverAfterARollback(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ran := 0
		store.OnCommit(ctx, func() { ran++ })
		if ran != 1 {
			t.Fatalf("outside a chunk: ran %d times, want 1", ran)
		}
		for _, tt := range []struct {
			name   string
			commit bool
			want   int
		}{{"committed", true, 1}, {"rolled back", false, 0}} {
			t.Run(tt.name, func(t *testing.T) {
				ch, err := db.BeginChunk(ctx)
				if err != nil {
					t.Fatal(err)
				}
				ran := 0
				store.OnCommit(ch.Context(ctx), func() { ran++ })
				if ran != 0 || ch.Split() {
					t.Fatalf("before the end: ran %d, split %v", ran, ch.Split())
				}
				if tt.commit {
					err = ch.Commit()
				} else {
					err = ch.Rollback()
				}
				if err != nil {
					t.Fatal(err)
				}
				if ran != tt.want {
					t.Errorf("ran %d times, want %d", ran, tt.want)
				}
			})
		}
	})
}
