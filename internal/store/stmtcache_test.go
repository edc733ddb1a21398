package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

// cacheOf returns the statement cache of db's SQLite writer connection.
func cacheOf(t *testing.T, db *DB) (kept func() int) {
	t.Helper()
	return func() int {
		conn, err := db.W.Conn(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		n := -1
		if err := conn.Raw(func(dc any) error {
			n = dc.(*cachingConn).lru.Len()
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return n
	}
}

// TestStmtCache_KeepsStatementsWithoutChangingWhatTheyDo: the SQLite
// connections keep the statements they run, and a kept statement answers as
// a new one would: arguments never leak from one use to the next, a failure
// drops the statement, the same text can run again while its rows are open,
// the schema may change under it, and the cache stays bounded.
func TestStmtCache_KeepsStatementsWithoutChangingWhatTheyDo(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "perk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	kept := cacheOf(t, db)
	if _, err := db.W.ExecContext(ctx, `CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER, at TIMESTAMP)`); err != nil {
		t.Fatal(err)
	}
	base := kept()
	const insert = `INSERT INTO t (k, n, at) VALUES ($1, $2, $3)`
	at := time.Date(2026, 12, 5, 9, 30, 0, 0, time.UTC)
	rows := []struct {
		k  string
		n  any
		at any
	}{{"a", int64(1), at}, {"b", nil, nil}, {"c", int64(3), at.Add(time.Hour)}}
	for _, r := range rows {
		if _, err := db.W.ExecContext(ctx, insert, r.k, r.n, r.at); err != nil {
			t.Fatal(err)
		}
	}
	if got := kept() - base; got != 1 {
		t.Errorf("three runs of one insert kept %d statements, want 1", got)
	}
	t.Run("arguments do not leak between uses", func(t *testing.T) {
		var n sql.NullInt64
		var got sql.NullTime
		if err := db.W.QueryRowContext(ctx, `SELECT n, at FROM t WHERE k = $1`, "b").Scan(&n, &got); err != nil {
			t.Fatal(err)
		}
		if n.Valid || got.Valid {
			t.Errorf("b holds %v, %v; want NULL, NULL", n, got)
		}
		if err := db.W.QueryRowContext(ctx, `SELECT n, at FROM t WHERE k = $1`, "c").Scan(&n, &got); err != nil {
			t.Fatal(err)
		}
		if n.Int64 != 3 || !got.Time.Equal(at.Add(time.Hour)) {
			t.Errorf("c holds %v, %v", n, got)
		}
	})
	t.Run("a failure drops the statement and the next use works", func(t *testing.T) {
		before := kept()
		if _, err := db.W.ExecContext(ctx, insert, "a", 9, at); err == nil {
			t.Fatal("a duplicate key was accepted")
		}
		if kept() != before-1 {
			t.Errorf("after a failure %d statements kept, want %d", kept(), before-1)
		}
		if _, err := db.W.ExecContext(ctx, insert, "d", 4, at); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("the same text runs again while its rows are open", func(t *testing.T) {
		tx, err := db.W.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback()
		const q = `SELECT k FROM t WHERE n IS NOT NULL ORDER BY k`
		outer, err := tx.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var pairs []string
		for outer.Next() {
			var k string
			outer.Scan(&k)
			inner, err := tx.QueryContext(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for inner.Next() {
				n++
			}
			inner.Close()
			pairs = append(pairs, fmt.Sprintf("%s:%d", k, n))
		}
		if err := outer.Err(); err != nil {
			t.Fatal(err)
		}
		outer.Close()
		if fmt.Sprint(pairs) != "[a:3 c:3 d:3]" {
			t.Errorf("nested runs gave %v, want [a:3 c:3 d:3]", pairs)
		}
	})
	t.Run("the schema changes under a kept statement", func(t *testing.T) {
		const q = `SELECT COUNT(*) FROM t`
		var n int
		if err := db.W.QueryRowContext(ctx, q).Scan(&n); err != nil || n != 4 {
			t.Fatalf("count %d, %v", n, err)
		}
		for _, stmt := range []string{`DROP TABLE t`, `CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER, at TIMESTAMP, extra TEXT)`} {
			if _, err := db.W.ExecContext(ctx, stmt); err != nil {
				t.Fatal(err)
			}
		}
		if err := db.W.QueryRowContext(ctx, q).Scan(&n); err != nil || n != 0 {
			t.Fatalf("after the table was made again: count %d, %v", n, err)
		}
	})
	t.Run("the cache is bounded", func(t *testing.T) {
		for i := range stmtCacheSize + 50 {
			var n int
			if err := db.W.QueryRowContext(ctx, fmt.Sprintf(`SELECT %d`, i)).Scan(&n); err != nil || n != i {
				t.Fatalf("SELECT %d gave %d, %v", i, n, err)
			}
		}
		if got := kept(); got != stmtCacheSize {
			t.Errorf("%d statements kept, want the bound %d", got, stmtCacheSize)
		}
	})
}
