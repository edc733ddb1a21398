package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ErrBackupUnsupported is returned by Backup for a PostgreSQL database,
// which pg_dump backs up.
var ErrBackupUnsupported = errors.New("store: backup copies SQLite databases only; back up PostgreSQL with pg_dump")

// Backup writes a consistent copy of a SQLite database to path, which must
// not exist, while other connections and processes go on reading and
// writing: VACUUM INTO reads one snapshot (a read transaction, which in WAL
// mode neither waits for writers nor holds them up) and writes it compacted
// to a new file. The copy is written beside path under a temporary name,
// synced, checked (PRAGMA quick_check) and only then renamed to path, so a
// file at path is always a whole backup. It returns the copy's size.
func (db *DB) Backup(ctx context.Context, path string) (int64, error) {
	if db.Dialect != SQLite {
		return 0, ErrBackupUnsupported
	}
	if db.dsn == ":memory:" {
		return 0, errors.New("store: backup: an in-memory database has no file to copy")
	}
	if _, err := os.Lstat(path); err == nil {
		return 0, fmt.Errorf("store: backup: %s already exists", path)
	} else if !errors.Is(err, os.ErrNotExist) {
		return 0, fmt.Errorf("store: backup: %w", err)
	}
	dir := filepath.Dir(path)
	// VACUUM INTO writes into an empty file; CreateTemp makes it 0600, as a
	// copy of members' personal data should be.
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.partial")
	if err != nil {
		return 0, fmt.Errorf("store: backup: %w", err)
	}
	tmpPath := tmp.Name()
	tmp.Close()
	done := false
	defer func() {
		if !done {
			os.Remove(tmpPath)
		}
	}()
	// A connection of its own: the pools' readers are query_only, which
	// refuses VACUUM INTO, and the writer must stay free for writes.
	src, err := sql.Open("sqlite", "file:"+db.dsn+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return 0, fmt.Errorf("store: backup: %w", err)
	}
	defer src.Close()
	if _, err := src.ExecContext(ctx, `VACUUM INTO $1`, tmpPath); err != nil {
		return 0, fmt.Errorf("store: backup: vacuum into: %w", err)
	}
	if err := checkSQLiteFile(ctx, tmpPath); err != nil {
		return 0, fmt.Errorf("store: backup: %w", err)
	}
	size, err := syncFile(tmpPath)
	if err != nil {
		return 0, fmt.Errorf("store: backup: %w", err)
	}
	if err := os.Rename(tmpPath, path); err != nil {
		return 0, fmt.Errorf("store: backup: %w", err)
	}
	done = true
	if d, err := os.Open(dir); err == nil {
		d.Sync() // the rename; some file systems cannot sync a folder
		d.Close()
	}
	return size, nil
}

// checkSQLiteFile opens a SQLite file read-only and runs quick_check.
func checkSQLiteFile(ctx context.Context, path string) error {
	c, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=query_only(ON)")
	if err != nil {
		return err
	}
	defer c.Close()
	var res string
	if err := c.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&res); err != nil {
		return fmt.Errorf("check %s: %w", path, err)
	}
	if res != "ok" {
		return fmt.Errorf("check %s: quick_check: %s", path, res)
	}
	return nil
}

func syncFile(path string) (int64, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return 0, err
	}
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}
