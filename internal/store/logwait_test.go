package store_test

import (
	"context"
	"database/sql"
	"os"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestWaitLog_GivesAFloorPastWhatHasEnded: the boundary WaitLog returns
// stays at or below a transaction of this database still in flight, passes
// it once it has ended, and is not held back by a transaction open in
// another database. Readers take it as a floor for their snapshot's own
// boundary, so it must never pass a writer still in flight.
func TestWaitLog_GivesAFloorPastWhatHasEnded(t *testing.T) {
	storetest.EachIsolated(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		boundary := db.Dialect.LogBoundary("crm_feed")
		if db.Dialect == store.SQLite {
			floor, err := db.WaitLog(ctx, boundary, time.Minute)
			if err != nil || floor != 0 {
				t.Fatalf("SQLite: WaitLog = %d, %v; want 0 at once (the one writer has committed)", floor, err)
			}
			return
		}
		xid := func(tx *sql.Tx) int64 {
			t.Helper()
			var x int64
			if err := tx.QueryRowContext(ctx, `SELECT pg_current_xact_id()::text::bigint`).Scan(&x); err != nil {
				t.Fatal(err)
			}
			return x
		}

		// A transaction of another database (the shared test database)
		// holds nothing back.
		other, err := sql.Open("pgx", os.Getenv(storetest.PostgresEnv))
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		foreign, err := other.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer foreign.Rollback()
		fx := xid(foreign)
		// A snapshot lists as in flight only the ids below the newest
		// that has ended: a later transaction must end for the open one
		// to be placed at all.
		later := func() {
			t.Helper()
			tx, err := db.W.BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			xid(tx)
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}
		}
		later()
		if floor, err := db.WaitLog(ctx, boundary, time.Minute); err != nil || floor <= fx {
			t.Fatalf("with another database's transaction %d open: WaitLog = %d, %v; want past it", fx, floor, err)
		}

		// One of this database holds the floor at or below it for as long
		// as it is open, however long the wait.
		mine, err := db.W.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer mine.Rollback()
		x := xid(mine)
		later()
		if floor, err := db.WaitLog(ctx, boundary, 300*time.Millisecond); err != nil || floor > x {
			t.Fatalf("with this database's transaction %d open: WaitLog = %d, %v; want at most %d", x, floor, err, x)
		}
		if err := mine.Commit(); err != nil {
			t.Fatal(err)
		}
		if floor, err := db.WaitLog(ctx, boundary, time.Minute); err != nil || floor <= x {
			t.Fatalf("after transaction %d ended: WaitLog = %d, %v; want past it", x, floor, err)
		}
	})
}
