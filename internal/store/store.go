// Package store opens Perk's database, SQLite or PostgreSQL, runs the embedded
// migrations and gives the domain packages transactions and the few helpers
// that hide the differences between the two.
//
// Queries are written once, in the SQL both engines accept, with $1-style
// placeholders (modernc.org/sqlite binds them by number like PostgreSQL). The
// schema differs, so the migrations come in one folder per dialect; the few
// query fragments that differ are methods of Dialect. The store knows no
// domain tables: the SQL lives next to the code that uses it.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib" // also registers the "pgx" driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// DB is an open database. Reads go to R, writes to W: for SQLite W holds one
// connection, since SQLite allows one writer at a time and queueing in Go is
// cheaper and fairer than retrying on SQLITE_BUSY; for PostgreSQL both are the
// same pool.
type DB struct {
	R, W    *sql.DB
	Dialect Dialect
	// Read runs constant queries on R as statements prepared once per
	// connection: for the hot reads of a till request.
	Read  *Prepared
	dsn   string
	group *group // SQLite's group commit (group.go)
	ckpt  *checkpointer
}

// IsPostgres reports whether the DSN names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open connects to dsn: a postgres:// URL, or a SQLite file path (optionally
// prefixed "sqlite:"); a SQLite file's folder is created if missing. It pings
// the database but does not migrate.
func Open(ctx context.Context, dsn string) (*DB, error) {
	var db *DB
	var err error
	if IsPostgres(dsn) {
		db, err = openPostgres(dsn)
	} else {
		db, err = openSQLite(strings.TrimPrefix(dsn, "sqlite:"))
	}
	if err != nil {
		return nil, err
	}
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := db.W.PingContext(pingCtx); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: connect to %s: %w", db.Redacted(), err)
	}
	return db, nil
}

func openPostgres(dsn string) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open postgres: %w", err)
	}
	// No JIT unless the DSN asks for it: PostgreSQL compiles any query it
	// costs above jit_above_cost, and a campaign report's queries spent 160
	// ms of a 1.5 s query compiling (10M messages, 5M baskets) to save
	// nothing; a till's statements are far below the threshold anyway.
	if _, set := cfg.RuntimeParams["jit"]; !set {
		cfg.RuntimeParams["jit"] = "off"
	}
	pool := stdlib.OpenDB(*cfg)
	// As many idle connections as open ones: under till load a smaller
	// idle pool closed and re-forked backends all the time (evaluate gained
	// 31% and lost three quarters of its p99 when this was raised).
	pool.SetMaxOpenConns(20)
	pool.SetMaxIdleConns(20)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	return &DB{R: pool, W: pool, Dialect: Postgres, Read: newPrepared(pool), dsn: dsn, group: newGroup()}, nil
}

func openSQLite(path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("store: empty SQLite path")
	}
	if path != ":memory:" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return nil, fmt.Errorf("store: create data folder: %w", err)
		}
	}
	// _txlock=immediate takes the write lock at BEGIN, so a write transaction
	// waits (busy_timeout) instead of failing when it upgrades from a read.
	// secure_delete zeroes deleted content instead of leaving it in free
	// space and free pages, where an erased member's phone, name and e-mail
	// would outlive the erasure in the file (see ScrubDeleted for the WAL).
	pragmas := "_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=synchronous(NORMAL)" +
		"&_pragma=foreign_keys(ON)&_pragma=secure_delete(ON)&_time_format=sqlite"
	base := "file:" + path + "?" + pragmas
	// A large page cache on the writer keeps the unique indexes (code, phone,
	// external id) in memory: with SQLite's 2 MB default a million-member
	// import slowed to a third of its starting rate as they outgrew it.
	w, err := openSQLitePool(base + "&_txlock=immediate&_pragma=cache_size(-131072)&_pragma=temp_store(MEMORY)&_pragma=wal_autocheckpoint(16384)")
	if err != nil {
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	// The readers map the file: a report reads B-tree pages all over a file
	// of gigabytes, and through the page cache every miss is a pread and a
	// copy (at 100,000 members half of a campaign's revenue query was
	// system time); mapped, they read the OS's cached pages in place.
	r, err := openSQLitePool(base + "&_pragma=query_only(ON)&_pragma=cache_size(-32768)&_pragma=mmap_size(" + strconv.FormatInt(SQLiteMmap, 10) + ")")
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("store: open sqlite: %w", err)
	}
	r.SetMaxOpenConns(8)
	// Keep them all: a new SQLite connection starts with a cold page cache
	// and re-reads the schema (14% of evaluate CPU at the default of 2 idle).
	r.SetMaxIdleConns(8)
	db := &DB{R: r, W: w, Dialect: SQLite, Read: newPrepared(r), dsn: path, group: newGroup()}
	if path != ":memory:" {
		if db.ckpt, err = startCheckpointer(base); err != nil {
			w.Close()
			r.Close()
			return nil, fmt.Errorf("store: open sqlite: %w", err)
		}
	}
	return db, nil
}

// SQLiteMmap is how much of a SQLite file a mapped connection maps (address
// space, not memory: the pages are the OS's file cache): SQLite's own
// ceiling (SQLITE_MAX_MMAP_SIZE), which it caps any larger value to. The
// read pool's connections are always mapped; the writer only for a profile
// refresh.
const SQLiteMmap = 0x7fff0000

// openSQLitePool opens a pool of SQLite connections that keep their
// statements (stmtcache.go).
func openSQLitePool(dsn string) (*sql.DB, error) {
	c, err := sqlite.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	return sql.OpenDB(cachingConnector{c}), nil
}

// Close closes both pools (and stops SQLite's checkpointer).
func (db *DB) Close() error {
	if db.Read != nil {
		db.Read.close()
	}
	var err error
	if db.ckpt != nil {
		err = db.ckpt.close()
	}
	err = errors.Join(err, db.W.Close())
	if db.R != db.W {
		err = errors.Join(err, db.R.Close())
	}
	return err
}

// Redacted describes the database for logs without its password.
func (db *DB) Redacted() string {
	if db.Dialect != Postgres {
		return "sqlite:" + db.dsn
	}
	u, err := url.Parse(db.dsn)
	if err != nil {
		return "postgres://(unparsable)"
	}
	return u.Redacted()
}

// Tx runs fn in a write transaction, committing if fn returns nil and rolling
// back otherwise, also when fn panics (the panic then goes on), so a panic
// never keeps the transaction and its connection (on SQLite, the one writer).
// Under a Chunk's context it runs fn in a savepoint of the chunk instead;
// on SQLite under GroupCommit, in a savepoint of a chunk it may share with
// other callers (group.go).
func (db *DB) Tx(ctx context.Context, fn func(*sql.Tx) error) error {
	if c, ok := ctx.Value(chunkKey{}).(*Chunk); ok && c.db == db {
		return c.inChunk(ctx, fn)
	}
	if db.Dialect == SQLite && ctx.Value(groupKey{}) != nil {
		return db.groupTx(ctx, fn)
	}
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback() // after a Commit, a no-op that returns sql.ErrTxDone
	if db.Dialect == Postgres && ctx.Value(asyncCommitKey{}) != nil {
		if _, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			return fmt.Errorf("store: async commit: %w", err)
		}
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// ConnTx is Tx that also gives fn the connection the transaction runs on,
// for what database/sql has no word for (PostgreSQL's COPY through
// conn.Raw), done inside the transaction.
func (db *DB) ConnTx(ctx context.Context, fn func(*sql.Conn, *sql.Tx) error) error {
	conn, err := db.W.Conn(ctx)
	if err != nil {
		return fmt.Errorf("store: connection: %w", err)
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	defer tx.Rollback()
	if err := fn(conn, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

type asyncCommitKey struct{}

// WithAsyncCommit marks the transactions Tx runs under ctx as ones a crash
// may lose the last of: on PostgreSQL they commit without waiting for the
// write-ahead log to reach the disk (synchronous_commit off, for each such
// transaction only). It is for work that is redone idempotently after a
// crash, such as a batch file sent again; the next ordinary commit (the
// job's record) makes everything before it durable. SQLite in WAL mode with
// synchronous=NORMAL already commits so.
func WithAsyncCommit(ctx context.Context) context.Context {
	return context.WithValue(ctx, asyncCommitKey{}, true)
}

// ReadSnapshot begins a read-only transaction on R in which every query sees
// the same snapshot of the database: on PostgreSQL at REPEATABLE READ (its
// default, READ COMMITTED, lets each statement see what committed since the
// one before); on SQLite every read transaction is one already.
func (db *DB) ReadSnapshot(ctx context.Context) (*sql.Tx, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if db.Dialect == Postgres {
		opts.Isolation = sql.LevelRepeatableRead
	}
	return db.R.BeginTx(ctx, opts)
}

// ScrubDeleted makes data that committed transactions deleted or overwrote
// unreadable from the database's files, as far as the engine allows; erasure
// calls it after its commit.
//
// On SQLite, secure_delete (set on every connection) zeroes deleted content
// in the pages it writes, but the WAL still holds the earlier images of those
// pages until they are checkpointed and the log is overwritten, so this runs
// a TRUNCATE checkpoint: it copies every frame into the database file and
// empties the WAL. It waits (busy_timeout) for readers still using old frames
// and fails if they outlast it; calling it again later finishes the job.
//
// On PostgreSQL it does nothing: old row versions stay in the table files
// until VACUUM reclaims (not zeroes) their space, which no query can read;
// see docs/operations.md.
func (db *DB) ScrubDeleted(ctx context.Context) error {
	if db.Dialect != SQLite {
		return nil
	}
	var busy, logFrames, done int
	err := db.W.QueryRowContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logFrames, &done)
	if err != nil {
		return fmt.Errorf("store: checkpoint: %w", err)
	}
	if busy != 0 {
		return errors.New("store: checkpoint: readers kept the WAL busy; deleted data stays in it until the next checkpoint")
	}
	return nil
}

// Pools names the connection pools for monitoring: "read" and "write" on
// SQLite; on PostgreSQL, where reads and writes share one pool, that pool
// once, as "read_write", so no connection is counted twice.
func (db *DB) Pools() map[string]*sql.DB {
	if db.R == db.W {
		return map[string]*sql.DB{"read_write": db.W}
	}
	return map[string]*sql.DB{"read": db.R, "write": db.W}
}

// Ping checks that the database answers, for readiness probes.
func (db *DB) Ping(ctx context.Context) error { return db.W.PingContext(ctx) }

// Deadlock reports whether err is PostgreSQL's deadlock_detected: the
// transaction was rolled back to break a cycle of lock waits and may be run
// again.
func Deadlock(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == "40P01"
}

// UniqueViolation reports whether err is a unique-constraint violation and on
// which constraint, named the PostgreSQL way ("members_phone_key") for both
// engines, so callers can tell a duplicate phone from a code collision.
func UniqueViolation(err error) (constraint string, ok bool) {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.ConstraintName, pgErr.Code == "23505"
	}
	var sqErr *sqlite.Error
	if errors.As(err, &sqErr) {
		code := sqErr.Code()
		if code != sqlite3.SQLITE_CONSTRAINT_UNIQUE && code != sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY {
			return "", false
		}
		// "UNIQUE constraint failed: members.phone (2067)"
		msg := sqErr.Error()
		if i := strings.LastIndex(msg, "failed: "); i >= 0 {
			col := strings.Fields(msg[i+len("failed: "):])[0]
			col = strings.TrimSuffix(col, ",")
			return strings.ReplaceAll(col, ".", "_") + "_key", true
		}
		return "", true
	}
	return "", false
}

// NullString maps "" to SQL NULL, for optional columns under a unique index.
func NullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
