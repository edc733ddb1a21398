package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Dialect names the database engine behind a DB. Its methods are the SQL
// fragments in which the two engines differ, so that the domain packages,
// which write the rest of their SQL once, never ask which engine they run on.
type Dialect string

// The two supported engines.
const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Placeholders returns n bind parameters for a bulk statement, numbered from
// "from" on PostgreSQL ("$3, $4") and anonymous on SQLite ("?, ?"). SQLite
// looks up every named or numbered parameter in a list (quadratic in a
// statement of thousands of them: a million-row import spent 90% of its time
// there); anonymous ones cost nothing. So a statement built with this must
// use its parameters once each, in order, from 1.
func (d Dialect) Placeholders(from, n int) string {
	var b strings.Builder
	b.Grow(n * 6)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(", ")
		}
		if d == SQLite {
			b.WriteByte('?')
		} else {
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(from + i))
		}
	}
	return b.String()
}

// JSONArrayHasAny is a condition that holds when the JSON array of strings
// in column col (stored as text) holds one of the values bound to list, a
// list of placeholders ("$3, $4").
func (d Dialect) JSONArrayHasAny(col, list string) string {
	if d == Postgres {
		return fmt.Sprintf("EXISTS (SELECT 1 FROM jsonb_array_elements_text(%s::jsonb) j WHERE j IN (%s))", col, list)
	}
	return fmt.Sprintf("EXISTS (SELECT 1 FROM json_each(%s) j WHERE j.value IN (%s))", col, list)
}

// JSONArrayElements is a FROM item listing, one row each in column
// alias.value, the strings of the JSON array held (as text) in column col:
// "FROM t, " + JSONArrayElements("t.cats", "c") reads every element of every
// row's array.
func (d Dialect) JSONArrayElements(col, alias string) string {
	if d == Postgres {
		return fmt.Sprintf("jsonb_array_elements_text(%s::jsonb) AS %s(value)", col, alias)
	}
	return fmt.Sprintf("json_each(%s) AS %s", col, alias)
}

// JSONField is the value, as text, of a top-level key of the JSON object in
// column col (stored as text). key is a placeholder bound to JSONFieldKey of
// the key's name: the engines name a key differently.
func (d Dialect) JSONField(col, key string) string {
	if d == Postgres {
		return fmt.Sprintf("(%s::jsonb ->> %s)", col, key)
	}
	return fmt.Sprintf("json_extract(%s, %s)", col, key)
}

// JSONFieldKey is the value to bind to JSONField's key placeholder for the
// key name: the name itself on PostgreSQL, a JSON path on SQLite.
func (d Dialect) JSONFieldKey(name string) string {
	if d == Postgres {
		return name
	}
	return `$."` + strings.ReplaceAll(name, `"`, `\"`) + `"`
}

// EpochBucket is an integer expression numbering the bucket of secs seconds,
// counted from the Unix epoch (so aligned to UTC), that the timestamp in
// column col falls in.
func (d Dialect) EpochBucket(col string, secs int64) string {
	s := strconv.FormatInt(secs, 10)
	if d == Postgres {
		return "CAST(FLOOR(EXTRACT(EPOCH FROM " + col + ") / " + s + ") AS BIGINT)"
	}
	// unixepoch reads the text in half the CPU of CAST(strftime('%s')),
	// which a campaign series pays once per message.
	return "(unixepoch(" + col + ") / " + s + ")"
}

// ByteOrder is col, a text column, to sort or group by in the order of its
// bytes, where any one order will do: PostgreSQL sorts several times
// faster by bytes than by the database's collation (SQLite compares bytes
// already).
func (d Dialect) ByteOrder(col string) string {
	if d == Postgres {
		return col + ` COLLATE "C"`
	}
	return col
}

// TimeParam is the placeholder p ("$3") typed as a timestamp, for a SELECT
// list: PostgreSQL cannot infer the type of a parameter there, while on
// SQLite a CAST would turn the stored text form into a number.
func (d Dialect) TimeParam(p string) string {
	if d == Postgres {
		return "CAST(" + p + " AS TIMESTAMPTZ)"
	}
	return p
}

// LockKeys takes an exclusive lock on each of keys (within the namespace
// space, a number of the caller's) that lasts until tx ends, so write
// transactions about the same keys run one after another. Locks are taken
// in sorted order, so two transactions cannot deadlock. On PostgreSQL they
// are advisory locks; on SQLite it does nothing, since a write transaction
// takes the database's one write lock at BEGIN.
func (d Dialect) LockKeys(ctx context.Context, tx *sql.Tx, space int32, keys []string) error {
	if d != Postgres || len(keys) == 0 {
		return nil
	}
	sorted := slices.Clone(keys)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	args := make([]any, len(sorted))
	var rows strings.Builder
	for i, k := range sorted {
		if i > 0 {
			rows.WriteString(", ")
		}
		fmt.Fprintf(&rows, "($%d)", i+1)
		args[i] = k
	}
	// Only PostgreSQL may name the columns of a VALUES list; this runs only
	// there.
	res, err := tx.QueryContext(ctx, fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d, hashtext(v.k)) FROM (VALUES %s) AS v(k) ORDER BY v.k`,
		space, rows.String()), args...)
	if err != nil {
		return fmt.Errorf("store: lock keys: %w", err)
	}
	for res.Next() {
	}
	res.Close()
	if err := res.Err(); err != nil {
		return fmt.Errorf("store: lock keys: %w", err)
	}
	return nil
}

// LogPosition is the column of an append-only log table (crm_feed) that
// orders its rows by commit, and LogBoundary the query giving, in a read
// snapshot, the first position not yet final: rows with since <= position <
// boundary are committed, visible and will never be joined by another row,
// so an export of that range followed by one from the boundary on reads each
// row exactly once, whatever was in flight.
//
// On SQLite the one writer commits whole transactions in turn, so the
// AUTOINCREMENT seq is in commit order and the boundary is the next seq. On
// PostgreSQL a sequence value is taken at INSERT, not at commit, so the
// position is the writing transaction's id (column tx) and the boundary is
// the oldest transaction of the snapshot still in progress that may be
// writing to this database (its xmax when there is none): every transaction
// below it has committed or rolled back, or works in another database and
// cannot write the log. A transaction is left out only when
// pg_stat_activity shows it in another database; one it cannot place (a
// prepared transaction, a backend already on to its next transaction) holds
// the boundary back. So a long transaction of another database on the same
// server (an analytics job, another Perk) no longer holds exports back, as
// the snapshot's xmin did. A long transaction of this database still does
// (the rows wait for the next export); it never lets one through twice or
// not at all.
func (d Dialect) LogPosition() string {
	if d == Postgres {
		return "tx"
	}
	return "seq"
}

// LogBoundary: see LogPosition. table is a constant of the caller's.
func (d Dialect) LogBoundary(table string) string { return d.LogBoundaryOf(table, "seq") }

// LogBoundaryOf is LogBoundary for a table whose SQLite position column is
// seq (the events table's is id; on PostgreSQL both keep the writing
// transaction's id in tx). Both are constants of the caller's.
func (d Dialect) LogBoundaryOf(table, seq string) string {
	if d == Postgres {
		// An xid8 in the snapshot is matched to a backend's 32-bit xid by
		// its low 32 bits; xids are unique while in progress.
		return `SELECT COALESCE(
	(SELECT MIN(x::text::bigint) FROM pg_snapshot_xip(pg_current_snapshot()) AS x
	 WHERE NOT EXISTS (SELECT 1 FROM pg_stat_activity a
		WHERE a.backend_xid IS NOT NULL AND a.datname <> current_database()
		  AND a.backend_xid::text::bigint = x::text::bigint % 4294967296)),
	pg_snapshot_xmax(pg_current_snapshot())::text::bigint)`
	}
	return `SELECT COALESCE(MAX(` + seq + `), 0) + 1 FROM ` + table
}

// LogNext is the query giving the position every transaction that has
// already committed is below (PostgreSQL: the snapshot's xmax, one past the
// newest transaction to have ended); once LogBoundary reaches it, all the
// transactions below it have ended too. A writer still in flight with a
// newer id is not waited for: its rows come in a later read. "" on SQLite,
// whose boundary never waits for anyone.
func (d Dialect) LogNext() string {
	if d == Postgres {
		return `SELECT pg_snapshot_xmax(pg_current_snapshot())::text::bigint`
	}
	return ""
}

// TextList is a subquery of the texts in the one parameter p, for
// "col IN (...)" over a list of any length: unnest of a text array on
// PostgreSQL, json_each of a JSON array on SQLite (TextListArg gives the
// value). One parameter rather than one per value: binding hundreds of
// parameters cost more than the look-ups, and SQLite finds $N by a linear
// scan.
func (d Dialect) TextList(p string) string {
	if d == Postgres {
		return `SELECT unnest(` + p + `::text[])`
	}
	return `SELECT value FROM json_each(` + p + `)`
}

// TextListArg is vals as the parameter TextList reads: the slice itself on
// PostgreSQL, a JSON array on SQLite.
func (d Dialect) TextListArg(vals []string) any {
	if d == Postgres {
		return vals
	}
	b, _ := json.Marshal(vals) // a []string always encodes
	return string(b)
}

// InIndexOrder runs fn, whose statements read the next rows after a cursor
// in index order up to a LIMIT, with PostgreSQL's planner kept to such
// index scans (no sequential or bitmap scans, no sorts, no JIT) for the
// rest of tx until fn returns, then restores the settings. A table just
// grown by a bulk write and not yet analyzed is taken for a fraction of its
// size, and the planner then reads every row past the cursor and sorts
// them to keep the first LIMIT: on 10M events the funnel fold spent 7-14 s
// a chunk so, against 0.5 s by the index. SQLite runs fn as it is.
func (d Dialect) InIndexOrder(ctx context.Context, tx *sql.Tx, fn func() error) error {
	if d != Postgres {
		return fn()
	}
	if _, err := tx.ExecContext(ctx, `SET LOCAL enable_seqscan = off; SET LOCAL enable_bitmapscan = off; SET LOCAL enable_sort = off; SET LOCAL jit = off`); err != nil {
		return err
	}
	if err := fn(); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `SET LOCAL enable_seqscan TO DEFAULT; SET LOCAL enable_bitmapscan TO DEFAULT; SET LOCAL enable_sort TO DEFAULT; SET LOCAL jit TO DEFAULT`)
	return err
}
