package store_test

import (
	"context"
	"database/sql"
	"testing"

	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestTx_AsyncCommitOnlyWhereAsked: a transaction under WithAsyncCommit
// does not wait for the disk on PostgreSQL; every other keeps the server's
// setting, since the SET is LOCAL to the one transaction.
func TestTx_AsyncCommitOnlyWhereAsked(t *testing.T) {
	db := storetest.Postgres(t)
	show := func(ctx context.Context) string {
		var v string
		if err := db.Tx(ctx, func(tx *sql.Tx) error {
			return tx.QueryRowContext(ctx, `SHOW synchronous_commit`).Scan(&v)
		}); err != nil {
			t.Fatal(err)
		}
		return v
	}
	ctx := context.Background()
	before := show(ctx)
	if got := show(store.WithAsyncCommit(ctx)); got != "off" {
		t.Errorf("under WithAsyncCommit: synchronous_commit = %q, want off", got)
	}
	if got := show(ctx); got != before || got == "off" {
		t.Errorf("afterwards: synchronous_commit = %q, want the server's %q", got, before)
	}
}
