package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// checkpointEvery is how often a SQLite database's background checkpointer
// copies the write-ahead log's committed pages into the database file. Each
// run copies again the pages written since the last one, the tills' hot
// pages among them: every 200 ms cost the till 5% more CPU per commit than
// no background checkpoints at all, every second 6% less (docs/benchmarks.md).
const checkpointEvery = time.Second

// checkpointer copies committed WAL frames into a SQLite database file from
// a connection of its own, beside the writer.
//
// Without it every checkpoint ran inside the commit that pushed the WAL past
// wal_autocheckpoint (16,384 pages): on the one writer, while the tills, the
// event batches and the imports queued behind it. Under `perk bench events`
// those checkpoints were 11% of the server's CPU; in a 1M-member CRM sync,
// 7% of it. A PASSIVE checkpoint takes SQLite's checkpoint lock, not the
// write lock, so it runs while the writer commits, on the other core; it
// copies what no reader still needs and never waits. The writer keeps its
// wal_autocheckpoint: it then finds little left to copy, and its complete
// checkpoint is what lets the next transaction start the log over, so the
// WAL file stays bounded when this one falls behind or is busy.
type checkpointer struct {
	conn *sql.DB
	stop context.CancelFunc
	done chan struct{}
}

// startCheckpointer opens the checkpointer's connection on dsn and starts
// it; close stops it.
func startCheckpointer(dsn string) (*checkpointer, error) {
	conn, err := openSQLitePool(dsn)
	if err != nil {
		return nil, err
	}
	conn.SetMaxOpenConns(1)
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{conn: conn, stop: cancel, done: make(chan struct{})}
	go c.run(ctx)
	return c, nil
}

func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		// A failure (the file gone, the disk full) is the writer's to
		// report: its own checkpoints and commits meet the same error.
		_, _, _ = c.checkpoint(ctx)
	}
}

// checkpoint runs one PASSIVE checkpoint and returns the WAL's size in
// frames and how many of them are now in the database file.
func (c *checkpointer) checkpoint(ctx context.Context) (log, copied int, err error) {
	var busy int
	if err := c.conn.QueryRowContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`).Scan(&busy, &log, &copied); err != nil {
		return 0, 0, fmt.Errorf("store: checkpoint: %w", err)
	}
	if busy != 0 {
		// Another checkpoint (the writer's) holds the lock: it does the work.
		return log, copied, errCheckpointBusy
	}
	return log, copied, nil
}

var errCheckpointBusy = errors.New("store: checkpoint: another checkpoint is running")

func (c *checkpointer) close() error {
	c.stop()
	<-c.done
	return c.conn.Close()
}
