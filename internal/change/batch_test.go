package change_test

import (
	"context"
	"database/sql"
	"slices"
	"testing"

	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// calls is a Recorder that keeps each Record call's event types, so a test
// can see how many calls (outbox statements) a transaction cost.
type calls struct{ got [][]string }

func (c *calls) Record(_ context.Context, _ *sql.Tx, events ...change.Event) error {
	var types []string
	for _, e := range events {
		types = append(types, e.Type)
	}
	c.got = append(c.got, types)
	return nil
}

// TestBatch_HoldsOneRecordersEventsInOneTransactionUntilFlush specifies
// what the till relies on: the events every package records for the
// batched recorder in the batched transaction reach it in one call, at
// Flush; other recorders and other transactions are not held.
func TestBatch_HoldsOneRecordersEventsInOneTransactionUntilFlush(t *testing.T) {
	db := storetest.SQLite(t)
	ctx := context.Background()
	tx, err := db.R.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	other, err := db.R.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Rollback()

	batched, bystander := &calls{}, &calls{}
	bctx, b := change.Batched(ctx, batched, tx)
	steps := []struct {
		name string
		r    change.Recorder
		tx   *sql.Tx
		ev   string
		// calls each recorder has received after the step
		batched, bystander int
	}{
		{"the ledger's event is held", batched, tx, change.PointsChanged, 0, 0},
		{"the checkout's event is held with it", batched, tx, change.TransactionCommitted, 0, 0},
		{"another recorder is not held", bystander, tx, change.MemberUpdated, 0, 1},
		{"another transaction is not held", batched, other, change.MemberCreated, 1, 1},
	}
	for _, s := range steps {
		if err := change.Record(bctx, s.r, s.tx, change.Event{Type: s.ev}); err != nil {
			t.Fatal(err)
		}
		if len(batched.got) != s.batched || len(bystander.got) != s.bystander {
			t.Errorf("%s: calls %d and %d, want %d and %d", s.name, len(batched.got), len(bystander.got), s.batched, s.bystander)
		}
	}
	if b.Len() != 2 {
		t.Errorf("held %d events, want 2", b.Len())
	}
	if err := b.Flush(bctx); err != nil {
		t.Fatal(err)
	}
	want := [][]string{{change.MemberCreated}, {change.PointsChanged, change.TransactionCommitted}}
	if !slices.EqualFunc(batched.got, want, slices.Equal) {
		t.Errorf("the batched recorder got %v, want %v (the held events in one call)", batched.got, want)
	}
	if err := b.Flush(bctx); err != nil || len(batched.got) != 2 {
		t.Errorf("a second Flush recorded again (%v calls, %v)", len(batched.got), err)
	}
	// After a Flush, recording under the same context holds again.
	if err := change.Record(bctx, batched, tx, change.Event{Type: change.PointsChanged}); err != nil || b.Len() != 1 {
		t.Errorf("after Flush: held %d, %v", b.Len(), err)
	}
}

// TestBatch_NilRecorderHoldsNothing: with no listener configured nothing is
// recorded and Flush is a no-op.
func TestBatch_NilRecorderHoldsNothing(t *testing.T) {
	ctx, b := change.Batched(context.Background(), nil, nil)
	if err := change.Record(ctx, nil, nil, change.Event{Type: change.PointsChanged}); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(ctx); err != nil || b.Len() != 0 {
		t.Errorf("Flush: %v, held %d", err, b.Len())
	}
}
