package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/store"
)

const backupUsage = `usage: perk backup --out FILE|DIR/ [--config FILE] [--db FILE | --data-dir DIR]
Copies the SQLite database to FILE (which must not exist), or to
DIR/perk-YYYYMMDDTHHMMSSZ.db, while perk serve goes on running, and prints
the file's name. PostgreSQL is backed up with pg_dump.`

// cmdBackup copies a live SQLite database with VACUUM INTO, through the
// driver perk serve uses, so no sqlite3 program is needed. It does not
// migrate: a backup is the database as the running server left it.
func cmdBackup(ctx context.Context, args []string) error {
	var c Config
	var out string
	fs := flag.NewFlagSet("perk backup", flag.ContinueOnError)
	commonFlags(fs, &c)
	fs.StringVar(&out, "out", "", "file to write the copy to, which must not exist; or an existing folder, to write perk-YYYYMMDDTHHMMSSZ.db (UTC) in it")
	if err := parse(fs, args); err != nil {
		return err
	}
	if out == "" || fs.NArg() > 0 {
		fmt.Fprintln(os.Stderr, backupUsage)
		return errUsage
	}
	if st, err := os.Stat(out); err == nil && st.IsDir() {
		out = filepath.Join(out, "perk-"+time.Now().UTC().Format("20060102T150405Z")+".db")
	}
	dsn := c.dsn()
	if store.IsPostgres(dsn) {
		return store.ErrBackupUnsupported
	}
	// store.Open would create a missing database: a mistyped path must not
	// back up an empty one.
	if _, err := os.Stat(strings.TrimPrefix(dsn, "sqlite:")); err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("no database at %s (set --db, --data-dir or --config as perk serve has them)", dsn)
		}
		return err
	}
	log, err := c.logger(os.Stderr)
	if err != nil {
		return err
	}
	db, err := store.Open(ctx, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	size, err := db.Backup(ctx, out)
	if err != nil {
		return err
	}
	log.Info("backup written", "db", db.Redacted(), "out", out, "bytes", size)
	fmt.Println(out)
	return nil
}
