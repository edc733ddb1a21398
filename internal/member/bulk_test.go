package member

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestInsertMembers_AConflictFailsTheWholeBatchAsErrPhoneTaken checks the
// bulk insert's failure path, which a single-writer import only meets when
// another writer got in first: on SQLite INSERT OR ROLLBACK ends the
// transaction, on PostgreSQL COPY fails it; either way the error is the
// domain's (upsertChunk retries on it), nothing of the batch is left, and the
// database takes the retry.
func TestInsertMembers_AConflictFailsTheWholeBatchAsErrPhoneTaken(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := NewService(db, Options{Region: "GB"})
		now := time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
		member := func(id, phone string) *Member {
			return s.newImported(importRow{profile: Profile{Phone: phone, ExternalID: "X-" + id}}, "test", now)
		}
		taken := member("a", "+447400100001")
		err := s.importTx(ctx, func(conn *sql.Conn, tx *sql.Tx) error {
			return insertMembers(ctx, conn, tx, db.Dialect, []*Member{taken}, "")
		})
		if err != nil {
			t.Fatal(err)
		}
		batch := []*Member{member("b", "+447400100002"), member("c", "+447400100001"), member("d", "+447400100003")}
		err = s.importTx(ctx, func(conn *sql.Conn, tx *sql.Tx) error {
			return insertMembers(ctx, conn, tx, db.Dialect, batch, "")
		})
		if !errors.Is(err, ErrPhoneTaken) {
			t.Fatalf("batch with a taken phone: %v, want ErrPhoneTaken", err)
		}
		var n int
		if err := db.R.QueryRow(`SELECT COUNT(*) FROM members`).Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d members after the failed batch (%v), want the 1 from before", n, err)
		}
		retry := []*Member{member("b", "+447400100002"), member("d", "+447400100003")}
		err = s.importTx(ctx, func(conn *sql.Conn, tx *sql.Tx) error {
			return insertMembers(ctx, conn, tx, db.Dialect, retry, "")
		})
		if err != nil {
			t.Fatalf("retry: %v", err)
		}
		if err := db.R.QueryRow(`SELECT COUNT(*) FROM members`).Scan(&n); err != nil || n != 3 {
			t.Fatalf("%d members after the retry (%v), want 3", n, err)
		}
	})
}
