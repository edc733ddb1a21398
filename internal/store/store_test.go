package store_test

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
)

func TestMigrate_IsIdempotentAndCreatesSchema(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		n, err := db.Migrate(ctx) // storetest already migrated once
		if err != nil || n != 0 {
			t.Fatalf("second Migrate = %d, %v; want 0, nil", n, err)
		}
		ms, _ := store.Migrations(db.Dialect)
		var count int
		if err := db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations`).Scan(&count); err != nil {
			t.Fatal(err)
		}
		if count != len(ms) {
			t.Fatalf("schema_migrations has %d rows, want %d", count, len(ms))
		}
	})
}

func TestDialects_HaveTheSameMigrations(t *testing.T) {
	a, _ := store.Migrations(store.SQLite)
	b, _ := store.Migrations(store.Postgres)
	if len(a) != len(b) {
		t.Fatalf("sqlite has %d migrations, postgres %d", len(a), len(b))
	}
	for i := range a {
		if a[i].Name != b[i].Name {
			t.Errorf("migration %d: sqlite %s, postgres %s", i, a[i].Name, b[i].Name)
		}
	}
}

func TestUniqueViolation_NamesTheConstraintOnBothEngines(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now().UTC()
		insert := func(id, code, phone string) error {
			_, err := db.W.ExecContext(ctx, `INSERT INTO members (id, code, phone, channel, status, enrolled_at, updated_at)
				VALUES ($1, $2, $3, 'api', 'active', $4, $4)`, id, code, store.NullString(phone), now)
			return err
		}
		if err := insert("m1", "96385074", "+447400123456"); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			name, id, code, phone, want string
		}{
			{"same phone", "m2", "40170725", "+447400123456", "members_phone_key"},
			{"same code", "m3", "96385074", "+447400123457", "members_code_key"},
		}
		for _, tt := range tests {
			err := insert(tt.id, tt.code, tt.phone)
			got, ok := store.UniqueViolation(err)
			if !ok || got != tt.want {
				t.Errorf("%s: UniqueViolation(%v) = %q, %v; want %q", tt.name, err, got, ok, tt.want)
			}
		}
		// NULL phones (erased members) never collide.
		if err := insert("m4", "11111116", ""); err != nil {
			t.Fatal(err)
		}
		if err := insert("m5", "22222222", ""); err != nil {
			t.Fatalf("second NULL phone: %v", err)
		}
		if _, ok := store.UniqueViolation(errors.New("other")); ok {
			t.Error("a plain error is not a unique violation")
		}
	})
}

func TestTx_RollsBackOnError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := db.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO stores (id, name, created_at) VALUES ('S1', 'x', $1)`, time.Now().UTC()); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Tx = %v, want boom", err)
		}
		var n int
		db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM stores`).Scan(&n)
		if n != 0 {
			t.Fatalf("%d stores after rollback", n)
		}
	})
}

func TestTimes_RoundTripInUTC(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := time.Date(2026, 3, 29, 0, 30, 15, 123456000, time.UTC)
		if _, err := db.W.ExecContext(ctx, `INSERT INTO stores (id, name, created_at) VALUES ('S1', 'x', $1)`, at); err != nil {
			t.Fatal(err)
		}
		var got time.Time
		if err := db.R.QueryRowContext(ctx, `SELECT created_at FROM stores WHERE id = 'S1'`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if !got.Equal(at) {
			t.Fatalf("read %v, wrote %v", got, at)
		}
	})
}

// Every SQLite connection, reader or writer, runs with the settings Perk
// relies on; secure_delete among them, so deleted data is zeroed in the file.
func TestSQLite_EveryConnectionHasPerksPragmas(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	tests := []struct {
		pragma string
		want   string
	}{
		{"journal_mode", "wal"},
		{"foreign_keys", "1"},
		{"busy_timeout", "10000"},
		{"secure_delete", "1"},
	}
	for _, pool := range []struct {
		name string
		db   *sql.DB
	}{{"writer", db.W}, {"reader", db.R}} {
		// Hold several reader connections at once, so more than one is checked.
		conns := []*sql.Conn{}
		for range 3 {
			c, err := pool.db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			conns = append(conns, c)
			if pool.name == "writer" {
				break
			}
		}
		for i, c := range conns {
			for _, tt := range tests {
				var got string
				if err := c.QueryRowContext(ctx, `PRAGMA `+tt.pragma).Scan(&got); err != nil {
					t.Fatalf("%s %d: PRAGMA %s: %v", pool.name, i, tt.pragma, err)
				}
				if got != tt.want {
					t.Errorf("%s connection %d: %s = %s, want %s", pool.name, i, tt.pragma, got, tt.want)
				}
			}
		}
	}
}

// After ScrubDeleted a deleted row is in neither SQLite's file (zeroed by
// secure_delete) nor its WAL (emptied by the checkpoint).
func TestScrubDeleted_LeavesNoDeletedRowInTheFiles(t *testing.T) {
	db, path := storetest.SQLiteFile(t)
	ctx := context.Background()
	if _, err := db.W.ExecContext(ctx, `INSERT INTO stores (id, name, created_at) VALUES ('S1', 'Erasable Name', $1)`, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	if _, err := db.W.ExecContext(ctx, `DELETE FROM stores`); err != nil {
		t.Fatal(err)
	}
	if err := db.ScrubDeleted(ctx); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(f)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte("Erasable Name")) {
			t.Errorf("%s still holds the deleted row", filepath.Base(f))
		}
	}
}

func TestPools_NameEachConnectionPoolOnce(t *testing.T) {
	want := map[store.Dialect][]string{store.SQLite: {"read", "write"}, store.Postgres: {"read_write"}}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		pools := db.Pools()
		names := make([]string, 0, len(pools))
		for name, p := range pools {
			names = append(names, name)
			if p != db.R && p != db.W {
				t.Errorf("pool %q is neither R nor W", name)
			}
		}
		slices.Sort(names)
		if !slices.Equal(names, want[db.Dialect]) {
			t.Errorf("%s pools %v, want %v", db.Dialect, names, want[db.Dialect])
		}
	})
}

func TestMigrate_EachMigrationIsItsOwnTransaction(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		ms := []store.Migration{
			{Version: 9001, Name: "9001_first.sql", SQL: `CREATE TABLE t9001 (id INTEGER PRIMARY KEY)`},
			{Version: 9002, Name: "9002_second.sql", SQL: `CREATE TABLE t9002 (id INTEGER PRIMARY KEY); INSERT INTO t9002 (id) VALUES (1)`},
			{Version: 9003, Name: "9003_broken.sql", SQL: `CREATE TABLE t9003 (id INTEGER PRIMARY KEY); INSERT INTO no_such_table (id) VALUES (1)`},
			{Version: 9004, Name: "9004_after.sql", SQL: `CREATE TABLE t9004 (id INTEGER PRIMARY KEY)`},
		}
		n, err := db.Apply(ctx, ms)
		if err == nil || !strings.Contains(err.Error(), "9003_broken.sql") {
			t.Fatalf("Apply = %d, %v; want an error naming 9003_broken.sql", n, err)
		}
		recorded := func(v int) bool {
			var c int
			if err := db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM schema_migrations WHERE version = $1`, v).Scan(&c); err != nil {
				t.Fatal(err)
			}
			return c == 1
		}
		exists := func(table string) bool {
			_, err := db.R.ExecContext(ctx, `SELECT COUNT(*) FROM `+table)
			return err == nil
		}
		tests := []struct {
			version  int
			table    string
			applied  bool
			describe string
		}{
			{9001, "t9001", true, "before the failure: applied and recorded"},
			{9002, "t9002", true, "before the failure: applied and recorded"},
			{9003, "t9003", false, "the failure: rolled back whole and not recorded"},
			{9004, "t9004", false, "after the failure: not tried"},
		}
		for _, tt := range tests {
			if got := recorded(tt.version); got != tt.applied {
				t.Errorf("%d (%s): recorded = %v", tt.version, tt.describe, got)
			}
			if got := exists(tt.table); got != tt.applied {
				t.Errorf("%d (%s): table %s exists = %v", tt.version, tt.describe, tt.table, got)
			}
		}
		// Fixed, the rest applies on the next run.
		ms[2].SQL = `CREATE TABLE t9003 (id INTEGER PRIMARY KEY)`
		if n, err := db.Apply(ctx, ms); err != nil || n != 2 {
			t.Fatalf("Apply after the fix = %d, %v; want 2, nil", n, err)
		}
	})
}

func TestTx_APanicRollsBackAndFreesTheConnection(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		if _, err := db.W.ExecContext(ctx, `CREATE TABLE tx_panic (id INTEGER PRIMARY KEY)`); err != nil {
			t.Fatal(err)
		}
		// Cancelling pctx at the end rolls back a leaked transaction, so
		// that without the fix this test fails instead of hanging.
		pctx, cancelLeak := context.WithCancel(ctx)
		defer cancelLeak()
		func() {
			defer func() {
				if v := recover(); v != "boom" {
					t.Errorf("recovered %v, want the panic's own value", v)
				}
			}()
			db.Tx(pctx, func(tx *sql.Tx) error {
				if _, err := tx.ExecContext(pctx, `INSERT INTO tx_panic (id) VALUES (1)`); err != nil {
					t.Error(err)
				}
				panic("boom")
			})
		}()
		if inUse := db.W.Stats().InUse; inUse != 0 {
			t.Errorf("%d write connections still in use after the panic", inUse)
		}
		// The writer is free again (SQLite has one) and the insert is gone.
		tctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		var n int
		err := db.Tx(tctx, func(tx *sql.Tx) error {
			return tx.QueryRowContext(tctx, `SELECT COUNT(*) FROM tx_panic`).Scan(&n)
		})
		if err != nil || n != 0 {
			t.Errorf("after the panic: %d rows, %v; want 0, nil", n, err)
		}
	})
}

// TestOpen_SQLiteReadersMapTheFile: every reader maps the file (reports
// read pages all over it); the writer does not, outside a profile refresh.
func TestOpen_SQLiteReadersMapTheFile(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	// Hold several readers at once, so the pool opens more than one.
	conns := make([]*sql.Conn, 3)
	for i := range conns {
		c, err := db.R.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		conns[i] = c
	}
	for i, c := range conns {
		var n int64
		if err := c.QueryRowContext(ctx, `PRAGMA mmap_size`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != store.SQLiteMmap {
			t.Errorf("reader %d: mmap_size %d, want %d", i, n, int64(store.SQLiteMmap))
		}
	}
	var n int64
	if err := db.W.QueryRowContext(ctx, `PRAGMA mmap_size`).Scan(&n); err != nil || n != 0 {
		t.Errorf("writer: mmap_size %d (%v), want 0", n, err)
	}
}

// TestOpen_PostgresWithoutJIT: the pool's connections run without JIT
// unless the DSN asks for it (a report's queries spent more compiling than
// it saved).
func TestOpen_PostgresWithoutJIT(t *testing.T) {
	base := storetest.DSN(t, testenv.Env(t, storetest.PostgresEnv, "PostgreSQL"))
	for _, c := range []struct{ dsn, want string }{
		{base, "off"},
		{base + "&jit=on", "on"},
	} {
		db, err := store.Open(context.Background(), c.dsn)
		if err != nil {
			t.Fatal(err)
		}
		var jit string
		err = db.R.QueryRowContext(context.Background(), `SHOW jit`).Scan(&jit)
		db.Close()
		if err != nil || jit != c.want {
			t.Errorf("%s: jit = %q (%v), want %q", c.dsn, jit, err, c.want)
		}
	}
}
