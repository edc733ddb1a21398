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
// nil and the reader reads what is final, the rest waiting for its next
// read.
func (db *DB) WaitLog(ctx context.Context, boundary string, wait time.Duration) error {
	q := db.Dialect.LogNext()
	if q == "" || wait <= 0 {
		return nil
	}
	var target int64
	if err := db.R.QueryRowContext(ctx, q).Scan(&target); err != nil {
		return err
	}
	timeout := time.NewTimer(wait)
	defer timeout.Stop()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		var final int64
		if err := db.R.QueryRowContext(ctx, boundary).Scan(&final); err != nil {
			return err
		}
		if final >= target {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timeout.C:
			return nil
		case <-tick.C:
		}
	}
}
