package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestCheckpointer_CopiesCommittedPagesBesideAnOpenWrite: a SQLite file's
// checkpointer moves committed pages from the WAL into the database file
// while the writer holds a write transaction open (it needs no write lock,
// so a till never waits for it), all of them, and Close stops it.
func TestCheckpointer_CopiesCommittedPagesBesideAnOpenWrite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "perk.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if db.ckpt == nil {
		t.Fatal("a SQLite file opened without a checkpointer")
	}
	// About 1 MB: a few hundred pages, far below wal_autocheckpoint, so
	// no commit of the writer's checkpoints them.
	const rows = `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
		INSERT INTO t (v) SELECT printf('%.1000d', i) FROM n`
	for _, q := range []string{`CREATE TABLE t (v TEXT NOT NULL)`, rows} {
		if _, err := db.W.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := db.W.BeginTx(ctx, nil) // BEGIN IMMEDIATE: the write lock
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, rows); err != nil {
		t.Fatal(err)
	}
	log, copied, err := db.ckpt.checkpoint(ctx)
	for errors.Is(err, errCheckpointBusy) { // the background run got there first
		log, copied, err = db.ckpt.checkpoint(ctx)
	}
	if err != nil {
		t.Fatal(err)
	}
	if log < 250 || copied != log {
		t.Errorf("checkpoint beside an open write: %d of %d committed frames in the file, want all of at least 250", copied, log)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() < 1_000_000 {
		t.Errorf("database file %d bytes after the checkpoint, want the committed 1 MB in it", st.Size())
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	ckpt := db.ckpt
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ckpt.done:
	default:
		t.Error("Close left the checkpointer running")
	}
}
