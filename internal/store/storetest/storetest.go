// Package storetest runs a storage test against every database Perk
// supports: SQLite always, PostgreSQL when PERK_TEST_POSTGRES holds a DSN.
// Each test gets a fresh database (a temp SQLite file, or its own PostgreSQL
// schema dropped afterwards), so tests run in parallel and leave nothing.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/testenv"
)

// PostgresEnv names the variable holding the PostgreSQL DSN for tests.
const PostgresEnv = "PERK_TEST_POSTGRES"

// Each runs fn once per database as subtests named "sqlite" and "postgres".
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	each(t, Postgres, fn)
}

// each runs fn on SQLite and on the PostgreSQL database postgres opens, side
// by side.
func each(t *testing.T, postgres func(testing.TB) *store.DB, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		t.Parallel()
		fn(t, SQLite(t))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		fn(t, postgres(t))
	})
}

// EachIsolated is Each with PostgreSQL in a database of the test's own
// instead of a schema of the shared one. Code that reads PostgreSQL's
// transaction snapshot (store.LogBoundaryOf: the funnel roll-up, the CRM
// feed) waits for, and then stops below, every transaction open in its
// database; other tests' transactions in the shared database would hold it
// back for as long as they run.
func EachIsolated(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	each(t, PostgresIsolated, fn)
}

// PostgresIsolated opens a migrated PostgreSQL database made for the test
// (see EachIsolated) on the server PERK_TEST_POSTGRES names, dropped when
// the test ends.
func PostgresIsolated(t testing.TB) *store.DB {
	t.Helper()
	return open(t, IsolatedDSN(t, testenv.Env(t, PostgresEnv, "PostgreSQL")))
}

// IsolatedDSN creates an empty database on the server at base and returns
// its DSN; the database is dropped, with any connection left to it, when
// the test ends.
func IsolatedDSN(t testing.TB, base string) string {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	name := "perk_test_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open %s: %v", PostgresEnv, err)
	}
	if _, err := admin.Exec(`CREATE DATABASE ` + name); err != nil {
		admin.Close()
		t.Fatalf("create database: %v", err)
	}
	// Registered before the caller's cleanups, so it runs after them.
	t.Cleanup(func() {
		admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresEnv, err)
	}
	u.Path = "/" + name
	return u.String()
}

// Engine opens a fresh migrated database of the named engine, "sqlite" or
// "postgres", for benchmarks that compare the two.
func Engine(tb testing.TB, name string) *store.DB {
	tb.Helper()
	if name == "postgres" {
		return Postgres(tb)
	}
	return SQLite(tb)
}

// SQLite opens a migrated database in a temp file.
func SQLite(t testing.TB) *store.DB {
	t.Helper()
	db, _ := SQLiteFile(t)
	return db
}

// SQLiteFile is SQLite that also returns the database file's path, for tests
// that read the file itself (and its -wal and -shm beside it).
func SQLiteFile(t testing.TB) (*store.DB, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "perk.db")
	return open(t, path), path
}

// Postgres opens a migrated database in a fresh schema of the database named
// by PERK_TEST_POSTGRES, skipping the test when it is unset outside CI.
func Postgres(t testing.TB) *store.DB {
	t.Helper()
	base := testenv.Env(t, PostgresEnv, "PostgreSQL")
	dsn := DSN(t, base)
	return open(t, dsn)
}

// DSN creates a fresh schema in the database at base and returns a DSN whose
// connections use it; the schema is dropped when the test ends.
func DSN(t testing.TB, base string) string {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	schema := "perk_test_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open %s: %v", PostgresEnv, err)
	}
	t.Cleanup(func() {
		admin.Exec(`DROP SCHEMA IF EXISTS ` + schema + ` CASCADE`)
		admin.Close()
	})
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func open(t testing.TB, dsn string) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
}

// QueryPlan is SQLite's EXPLAIN QUERY PLAN of query: each step's detail, in
// order, for tests that hold a query to the index it must use.
func QueryPlan(t testing.TB, db *store.DB, query string, args ...any) []string {
	t.Helper()
	rows, err := db.R.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}

// Explain is the plan of query as text, with args bound (on PostgreSQL a
// custom plan for these values, as a statement run once gets): SQLite's
// QueryPlan lines, or PostgreSQL's EXPLAIN lines.
func Explain(t testing.TB, db *store.DB, query string, args ...any) string {
	t.Helper()
	return explain(t, db, false, query, args...)
}

// ExplainInIndexOrder is Explain inside store.Dialect.InIndexOrder.
func ExplainInIndexOrder(t testing.TB, db *store.DB, query string, args ...any) string {
	t.Helper()
	return explain(t, db, true, query, args...)
}

func explain(t testing.TB, db *store.DB, ordered bool, query string, args ...any) string {
	t.Helper()
	if db.Dialect != store.Postgres {
		return strings.Join(QueryPlan(t, db, query, args...), "\n")
	}
	ctx := context.Background()
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback() // EXPLAIN of a DELETE does not run it; roll back anyway
	var lines []string
	read := func() error {
		rows, err := tx.QueryContext(ctx, `EXPLAIN `+query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var l string
			if err := rows.Scan(&l); err != nil {
				return err
			}
			lines = append(lines, l)
		}
		return rows.Err()
	}
	if ordered {
		err = db.Dialect.InIndexOrder(ctx, tx, read)
	} else {
		err = read()
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// Series is a table of the integers g from 1 to n, for INSERT ... SELECT.
func Series(db *store.DB, n int) string {
	if db.Dialect == store.Postgres {
		return fmt.Sprintf(`generate_series(1, %d) AS g`, n)
	}
	return fmt.Sprintf(`(WITH RECURSIVE s(g) AS (SELECT 1 UNION ALL SELECT g + 1 FROM s WHERE g < %d) SELECT g FROM s)`, n)
}

// SeriesTime is a timestamp for Series' g: g seconds after 2031-01-01 UTC,
// in the form each database stores.
func SeriesTime(db *store.DB) string {
	if db.Dialect == store.Postgres {
		return `TIMESTAMPTZ '2031-01-01 00:00:00+00' + g * INTERVAL '1 second'`
	}
	return `strftime('%Y-%m-%dT%H:%M:%fZ', '2031-01-01', '+' || g || ' seconds')`
}
