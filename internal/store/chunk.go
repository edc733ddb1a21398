package store

import (
	"context"
	"database/sql"
	"fmt"
)

// Chunk is one write transaction shared by many units of work, each of which
// runs in a savepoint of its own: a unit that fails is rolled back alone
// and the others stay. It is for bulk work that goes through the same code
// as single requests (a transaction file's baskets through the checkout):
// under a context from Context, DB.Tx runs its function in a savepoint of
// the chunk instead of a transaction of its own, so that code needs no
// second, bulk version. Nothing a unit wrote is visible outside the chunk,
// or durable, before Commit.
//
// Reads that a unit makes on the read pool (DB.R, DB.Read) do not see the
// chunk's uncommitted writes; a unit that leaves a cache stale in a way the
// next unit must not see calls AfterCommit, and the chunk's owner commits
// before the next unit (Split).
//
// A Chunk is used by one goroutine at a time.
type Chunk struct {
	db    *DB
	tx    *sql.Tx
	units int
	split bool
	after []func()
	// committed runs only after a successful Commit (OnCommit).
	committed []func()
	// broken is set when a savepoint could not be rolled back or released:
	// the transaction may no longer hold what the units before wrote (SQLite
	// rolls a whole transaction back when an interrupted write fails).
	broken bool
}

type chunkKey struct{}

// BeginChunk begins a chunk. On PostgreSQL under WithAsyncCommit it commits
// without waiting for the disk, as Tx does.
func (db *DB) BeginChunk(ctx context.Context) (*Chunk, error) {
	tx, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	if db.Dialect == Postgres && ctx.Value(asyncCommitKey{}) != nil {
		if _, err := tx.ExecContext(ctx, `SET LOCAL synchronous_commit = off`); err != nil {
			tx.Rollback()
			return nil, fmt.Errorf("store: async commit: %w", err)
		}
	}
	return &Chunk{db: db, tx: tx}, nil
}

// Context returns ctx under which DB.Tx runs in a savepoint of c.
func (c *Chunk) Context(ctx context.Context) context.Context {
	return context.WithValue(ctx, chunkKey{}, c)
}

// Tx is the chunk's transaction, for the owner's own statements (written
// before Commit, they commit with the units).
func (c *Chunk) Tx() *sql.Tx { return c.tx }

// Units is how many units ran in the chunk, failed ones included.
func (c *Chunk) Units() int { return c.units }

// Split reports whether a unit asked, through AfterCommit, that the chunk
// commit before the next unit runs.
func (c *Chunk) Split() bool { return c.split }

// Commit commits the chunk, then runs the functions units gave AfterCommit.
func (c *Chunk) Commit() error {
	if err := c.tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	for _, fn := range c.after {
		fn()
	}
	for _, fn := range c.committed {
		fn()
	}
	c.after, c.committed = nil, nil
	return nil
}

// Rollback abandons the chunk and every unit in it; the AfterCommit
// functions run all the same, since they drop caches that may have been
// refilled from the abandoned writes' view.
func (c *Chunk) Rollback() error {
	err := c.tx.Rollback()
	for _, fn := range c.after {
		fn()
	}
	c.after, c.committed = nil, nil
	return err
}

// OnCommit runs fn once what the caller wrote under ctx is durable: at once
// outside a chunk (the caller's transaction has committed), after the
// chunk's commit inside one, and never if the chunk is rolled back. It is for
// effects outside the database that must follow the writes exactly once,
// such as counts kept in memory: a unit whose chunk never commits (a crash,
// a failed commit) is sent again, and counting it at once would count it
// twice. Unlike AfterCommit it does not split the chunk.
func OnCommit(ctx context.Context, fn func()) {
	if c, ok := ctx.Value(chunkKey{}).(*Chunk); ok {
		c.committed = append(c.committed, fn)
		return
	}
	fn()
}

// AfterCommit runs fn once what the caller wrote under ctx is committed:
// at once outside a chunk; in a chunk after its commit, and the chunk is
// asked to commit before its next unit, so that unit reads committed state
// through the caches fn drops. fn also runs at once in a chunk: a cache
// dropped twice costs one reload.
func AfterCommit(ctx context.Context, fn func()) {
	fn()
	if c, ok := ctx.Value(chunkKey{}).(*Chunk); ok {
		c.split = true
		c.after = append(c.after, fn)
	}
}

// inChunk runs fn in a savepoint of the chunk: released when fn returns
// nil, rolled back to (leaving the chunk usable, on PostgreSQL too) when fn
// fails or panics.
func (c *Chunk) inChunk(ctx context.Context, fn func(*sql.Tx) error) (err error) {
	c.units++
	if _, err := c.tx.ExecContext(ctx, `SAVEPOINT unit`); err != nil {
		return fmt.Errorf("store: savepoint: %w", err)
	}
	done := false
	defer func() {
		if done {
			return
		}
		// fn failed or panicked: undo its writes and keep the chunk going.
		if _, rerr := c.tx.ExecContext(context.WithoutCancel(ctx), `ROLLBACK TO SAVEPOINT unit`); rerr != nil {
			c.broken = true
			if err == nil {
				err = fmt.Errorf("store: rollback to savepoint: %w", rerr)
			}
		}
		if _, rerr := c.tx.ExecContext(context.WithoutCancel(ctx), `RELEASE SAVEPOINT unit`); rerr != nil {
			c.broken = true
		}
	}()
	if err := fn(c.tx); err != nil {
		return err
	}
	if _, err := c.tx.ExecContext(context.WithoutCancel(ctx), `RELEASE SAVEPOINT unit`); err != nil {
		c.broken = true
		return fmt.Errorf("store: release savepoint: %w", err)
	}
	done = true
	return nil
}
