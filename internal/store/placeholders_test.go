package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestPositional_RewritesOnlyParametersInTurn specifies when a statement's
// $n parameters become SQLite's plain ?: only when they are $1..$n in text
// order, each once, outside literals and comments.
func TestPositional_RewritesOnlyParametersInTurn(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`SELECT 1`, `SELECT 1`},
		{`SELECT a FROM t WHERE k = $1`, `SELECT a FROM t WHERE k = ?`},
		{`UPDATE t SET at = $1 FROM (SELECT $2 AS id UNION ALL SELECT $3) AS v WHERE t.id = v.id`,
			`UPDATE t SET at = ? FROM (SELECT ? AS id UNION ALL SELECT ?) AS v WHERE t.id = v.id`},
		{`INSERT INTO t VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11)`, `INSERT INTO t VALUES (?,?,?,?,?,?,?,?,?,?,?)`},
		{`SELECT '$1', "a$2", $1 -- $2` + "\n" + `, /* $3 */ $2`, `SELECT '$1', "a$2", ? -- $2` + "\n" + `, /* $3 */ ?`},
		{`SELECT 'it''s $9', $1`, `SELECT 'it''s $9', ?`},
		// Left alone:
		{`SELECT $2, $1`, `SELECT $2, $1`},                   // out of turn
		{`SELECT $1 WHERE a = $1`, `SELECT $1 WHERE a = $1`}, // used twice
		{`SELECT $1, $3`, `SELECT $1, $3`},                   // a gap
		{`SELECT $01`, `SELECT $01`},                         // not a number SQLite and PostgreSQL agree on
		{`SELECT $1, ?`, `SELECT $1, ?`},                     // mixed
		{`SELECT $name`, `SELECT $name`},                     // a named parameter
		{`SELECT $1x`, `SELECT $1x`},                         // a name
		{`SELECT a$1 FROM t`, `SELECT a$1 FROM t`},           // part of a name
		{`SELECT $`, `SELECT $`},
		{`SELECT '$1`, `SELECT '$1`}, // an unclosed literal: SQLite's error to give
		{`SELECT /* $1`, `SELECT /* $1`},
	} {
		if got := positional(c.in); got != c.want {
			t.Errorf("positional(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// TestPositional_SameAnswersOnSQLite runs statements through the store's
// SQLite connections (which rewrite them) and checks each argument lands on
// its own parameter, in a multi-row statement as in a single one.
func TestPositional_SameAnswersOnSQLite(t *testing.T) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(t.TempDir(), "perk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.W.ExecContext(ctx, `CREATE TABLE t (k TEXT PRIMARY KEY, n INTEGER, s TEXT)`); err != nil {
		t.Fatal(err)
	}
	// A multi-row insert through database/sql's prepared statement, the
	// queue's way, and one through the connection's cache.
	st, err := db.W.PrepareContext(ctx, `INSERT INTO t (k, n, s) SELECT $1, $2, $3 UNION ALL SELECT $4, $5, $6`)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, err := st.ExecContext(ctx, "a", 1, "x", "b", 2, "y"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.W.ExecContext(ctx, `INSERT INTO t (k, n, s) VALUES ($1, $2, $3)`, "c", 3, "$1"); err != nil {
		t.Fatal(err)
	}
	// Out of turn, so not rewritten: SQLite matches the numbers.
	var k, s string
	var n int64
	if err := db.W.QueryRowContext(ctx, `SELECT k, n, s FROM t WHERE n = $2 AND k = $1`, "b", 2).Scan(&k, &n, &s); err != nil {
		t.Fatal(err)
	}
	if k != "b" || n != 2 || s != "y" {
		t.Errorf("out of turn: got %s %d %s", k, n, s)
	}
	for _, want := range []struct {
		k, s string
		n    int64
	}{{"a", "x", 1}, {"b", "y", 2}, {"c", "$1", 3}} {
		err := db.R.QueryRowContext(ctx, `SELECT n, s FROM t WHERE k = $1`, want.k).Scan(&n, &s)
		if err != nil || n != want.n || s != want.s {
			t.Errorf("row %s: got %d %q (%v), want %d %q", want.k, n, s, err, want.n, want.s)
		}
	}
	if err := db.R.QueryRowContext(ctx, `SELECT k FROM t WHERE k = $1`, "zz").Scan(&k); err != sql.ErrNoRows {
		t.Errorf("no row: %v", err)
	}
	// Too few arguments is still an error, not a NULL.
	if _, err := db.W.ExecContext(ctx, `INSERT INTO t (k, n, s) VALUES ($1, $2, $3)`, "d", 4); err == nil {
		t.Error("an insert with a missing argument succeeded")
	}
}

// BenchmarkBindManyParameters binds the queue's largest statement shape
// (one time and 256 rows of four) with its parameters numbered, as SQLite
// sees them without the rewrite, and as plain ?, as it sees them with it.
func BenchmarkBindManyParameters(b *testing.B) {
	ctx := context.Background()
	db, err := Open(ctx, filepath.Join(b.TempDir(), "perk.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	var q strings.Builder
	q.WriteString("SELECT count(*) FROM (SELECT $1 AS at")
	args := []any{"now"}
	for i := range 256 {
		n := 2 + 4*i
		fmt.Fprintf(&q, " UNION ALL SELECT $%d || $%d || $%d || $%d", n, n+1, n+2, n+3)
		args = append(args, "m", "t", "g", int64(i))
	}
	q.WriteString(")")
	for _, form := range []struct{ name, text string }{{"numbered", q.String()}, {"positional", positional(q.String())}} {
		b.Run(form.name, func(b *testing.B) {
			conn, err := db.R.Conn(ctx)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Close()
			var raw driver.Stmt
			if err := conn.Raw(func(dc any) error {
				raw, err = dc.(*cachingConn).sqliteConn.PrepareContext(ctx, form.text)
				return err
			}); err != nil {
				b.Fatal(err)
			}
			defer raw.Close()
			named := make([]driver.NamedValue, len(args))
			for i, a := range args {
				named[i] = driver.NamedValue{Ordinal: i + 1, Value: a}
			}
			for b.Loop() {
				rows, err := raw.(driver.StmtQueryContext).QueryContext(ctx, named)
				if err != nil {
					b.Fatal(err)
				}
				rows.Close()
			}
		})
	}
}
