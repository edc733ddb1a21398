package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
)

// Group commit on SQLite. SQLite has one writer, so tills' commits queue for
// it, and each commit pays for writing its pages to the WAL, the same index
// and counter pages over and over. Under GroupCommit, DB.Tx lets the writer
// take the units that are waiting together: the first unit begins a Chunk,
// each unit runs in a savepoint of it (its failure undoes its writes alone),
// and the unit that finds nobody waiting after it commits the chunk for all.
// A unit's Tx returns only when the chunk has committed, with the commit's
// error if it failed, so a caller sees exactly what it would with a
// transaction of its own: durable (as SQLite's synchronous=NORMAL makes any
// commit) on nil, nothing written on an error. The limits hold as they did:
// the units run one after the other on the one connection, and each sees
// every write of the units before it.
//
// On PostgreSQL, whose commits run in parallel, GroupCommit changes nothing.

// maxGroup bounds the units of one chunk, so that the first of a long queue
// does not wait for all the others before its answer.
const maxGroup = 64

type groupKey struct{}

// GroupCommit marks the DB.Tx calls made under ctx as ones whose
// transaction SQLite may share with others waiting at the same time (see
// above). fn must not keep the *sql.Tx, must not commit or roll it back, and
// must leave no rows open when it returns.
func GroupCommit(ctx context.Context) context.Context {
	return context.WithValue(ctx, groupKey{}, true)
}

// group is the writer's queue of units.
type group struct {
	tok     chan struct{} // held by the goroutine running a unit (or closing a batch)
	waiting atomic.Int32  // units waiting for tok
	open    *batch        // the batch being filled; only tok's holder touches it
	batches atomic.Int64  // batches committed, for tests and metrics
	units   atomic.Int64  // units run in them
}

func newGroup() *group { return &group{tok: make(chan struct{}, 1)} }

// batch is one chunk shared by units.
type batch struct {
	c     *Chunk
	units int
	done  chan struct{} // closed once the chunk has committed or rolled back
	err   error         // the commit's error, set before done is closed
}

// errBroken is what every unit of a batch hears when the batch's
// transaction could not be kept (a savepoint could not be rolled back).
var errBroken = errors.New("store: the shared transaction failed and was rolled back")

// groupTx runs fn as a unit of the open batch, or of a new one.
func (db *DB) groupTx(ctx context.Context, fn func(*sql.Tx) error) error {
	g := db.group
	g.waiting.Add(1)
	select {
	case g.tok <- struct{}{}:
		g.waiting.Add(-1)
	case <-ctx.Done():
		g.waiting.Add(-1)
		// The unit holding tok may have left the batch open for this one:
		// close it if nobody else comes.
		go db.flushGroup()
		return fmt.Errorf("store: begin: %w", ctx.Err())
	}
	b := g.open
	if b == nil {
		// The batch is not any one unit's: a caller's cancellation must
		// not roll back the others' writes.
		c, err := db.BeginChunk(context.WithoutCancel(ctx))
		if err != nil {
			<-g.tok
			return err
		}
		b = &batch{c: c, done: make(chan struct{})}
		g.open = b
	}
	b.units++
	finished := false
	defer func() {
		if !finished { // fn panicked: the others' writes commit all the same
			db.endUnit(b, true)
		}
	}()
	err := b.c.inChunk(ctx, fn)
	finished = true
	db.endUnit(b, false)
	<-b.done
	if err != nil {
		return err
	}
	return b.err
}

// endUnit hands tok on to the next unit waiting, leaving the batch open for
// it, or, when none waits, the batch is full or broken, or now is set,
// commits the batch first.
func (db *DB) endUnit(b *batch, now bool) {
	g := db.group
	if now || b.c.broken || b.units >= maxGroup || g.waiting.Load() == 0 {
		db.closeBatch(b)
	}
	<-g.tok
}

// closeBatch commits b (rolls it back if broken) and tells its units.
func (db *DB) closeBatch(b *batch) {
	g := db.group
	g.open = nil
	if b.c.broken {
		b.c.Rollback()
		b.err = errBroken
	} else if err := b.c.Commit(); err != nil {
		b.err = err
	} else {
		g.batches.Add(1)
		g.units.Add(int64(b.units))
	}
	close(b.done)
}

// flushGroup commits a batch left open for a unit that gave up waiting.
func (db *DB) flushGroup() {
	g := db.group
	g.tok <- struct{}{}
	if b := g.open; b != nil && g.waiting.Load() == 0 {
		db.closeBatch(b)
	}
	<-g.tok
}

// GroupStats returns how many group-commit batches have committed and the
// units that ran in them, failed ones included (both 0 on PostgreSQL).
func (db *DB) GroupStats() (batches, units int64) {
	return db.group.batches.Load(), db.group.units.Load()
}
