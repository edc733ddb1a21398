package store_test

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// A backup taken while another connection commits transactions holds every
// transaction committed before it began and no half of any: each one writes
// a row to two tables, and the copy has as many rows in both.
func TestBackup_IsAConsistentCopyWhileWritesGoOn(t *testing.T) {
	ctx := context.Background()
	db, path := storetest.SQLiteFile(t)
	for _, q := range []string{`CREATE TABLE backup_a (n INTEGER PRIMARY KEY)`, `CREATE TABLE backup_b (n INTEGER PRIMARY KEY)`} {
		if _, err := db.W.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	const before = 200 // transactions committed before the backup starts
	started := make(chan struct{})
	stop := make(chan struct{})
	written := make(chan int)
	go func() {
		n := 0
		defer func() { written <- n }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			err := db.Tx(ctx, func(tx *sql.Tx) error {
				if _, err := tx.ExecContext(ctx, `INSERT INTO backup_a (n) VALUES ($1)`, n); err != nil {
					return err
				}
				_, err := tx.ExecContext(ctx, `INSERT INTO backup_b (n) VALUES ($1)`, n)
				return err
			})
			if err != nil {
				t.Error(err)
				return
			}
			n++
			if n == before {
				close(started)
			}
		}
	}()
	<-started
	out := filepath.Join(t.TempDir(), "perk-backup.db")
	size, err := db.Backup(ctx, out)
	close(stop)
	total := <-written
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(out); err != nil || st.Size() != size || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v, %v; want %d bytes, mode 0600", st, err, size)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".*partial")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	copyDB, err := store.Open(ctx, out)
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	var a, b int
	if err := copyDB.R.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM backup_a), (SELECT COUNT(*) FROM backup_b)`).Scan(&a, &b); err != nil {
		t.Fatal(err)
	}
	if a != b || a < before || a > total {
		t.Fatalf("backup holds %d and %d rows; want the same, between %d and %d", a, b, before, total)
	}
	t.Logf("backup holds %d of %d transactions (%s)", a, total, path)
}

func TestBackup_Refuses(t *testing.T) {
	ctx := context.Background()
	db := storetest.SQLite(t)
	exists := filepath.Join(t.TempDir(), "there.db")
	os.WriteFile(exists, []byte("keep me"), 0o600)
	tests := []struct {
		name, out, want string
	}{
		{"an existing file", exists, "already exists"},
		{"a folder that does not exist", filepath.Join(t.TempDir(), "no", "such.db"), "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := db.Backup(ctx, tt.out); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Backup(%s) = %v, want an error with %q", tt.out, err, tt.want)
			}
		})
	}
	if b, _ := os.ReadFile(exists); string(b) != "keep me" {
		t.Errorf("the existing file was changed: %q", b)
	}
	t.Run("postgres", func(t *testing.T) {
		pg := storetest.Postgres(t)
		if _, err := pg.Backup(ctx, filepath.Join(t.TempDir(), "pg.db")); !errors.Is(err, store.ErrBackupUnsupported) {
			t.Fatalf("Backup on PostgreSQL = %v, want ErrBackupUnsupported", err)
		}
	})
}
