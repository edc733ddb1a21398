package store

import (
	"context"
	"time"
)

// WaitLog waits, up to wait, until the transactions that had written when
// it was called have ended, so that a read of a log ordered by commit
// (LogPosition) right after a write includes it. boundary is the log's
// LogBoundary (or LogBoundaryOf) query. On SQLite it returns at once: the
// one writer has committed by the time a reader runs. It polls, since
// PostgreSQL tells no one when a transaction ends; after wait it returns
// and the reader reads what is final, the rest waiting for its next read.
//
// It returns the highest boundary it read (0 on SQLite; with no wait, one
// read), which the caller
// takes as a floor for the boundary of its own read: every transaction of
// this database below it had ended when it was read, so its rows are in any
// later snapshot. The boundary query cannot always tell a transaction of
// another database from one of this one (pg_stat_activity is read a moment
// after the snapshot, and a backend that has just committed shows no xid),
// and holds back for what it cannot place; without the floor, a read right
// after a wait that saw everything end could stop below the very write it
// waited for (a CI run did).
func (db *DB) WaitLog(ctx context.Context, boundary string, wait time.Duration) (int64, error) {
	q := db.Dialect.LogNext()
	if q == "" {
		return 0, nil
	}
	if wait <= 0 { // no wait: the boundary now, as a floor all the same
		var final int64
		err := db.R.QueryRowContext(ctx, boundary).Scan(&final)
		return final, err
	}
	var target int64
	if err := db.R.QueryRowContext(ctx, q).Scan(&target); err != nil {
		return 0, err
	}
	timeout := time.NewTimer(wait)
	defer timeout.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	var seen int64
	for {
		var final int64
		if err := db.R.QueryRowContext(ctx, boundary).Scan(&final); err != nil {
			return seen, err
		}
		seen = max(seen, final)
		if final >= target {
			return seen, nil
		}
		select {
		case <-ctx.Done():
			return seen, ctx.Err()
		case <-timeout.C:
			return seen, nil
		case <-tick.C:
		}
	}
}
