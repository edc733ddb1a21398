package change

import (
	"context"
	"database/sql"
	"reflect"
)

// Batch holds the events that the code under one context records for one
// Recorder in one transaction, and hands them over in a single Record call
// at Flush. The till's commit uses it so that the events of the ledger
// (points.changed) and of the checkout (transaction.committed,
// offer.redeemed) cost one outbox statement instead of one each, and the
// member's CRM id, which the checkout knows, serves the ledger's event too
// instead of costing a query.
//
// A Batch must be flushed in the same transaction before it commits:
// events still held when the transaction commits are lost. Code that rolls
// back a savepoint and carries on must not record into a Batch inside that
// savepoint (the ledger records last, just before it releases its own).
type Batch struct {
	r      Recorder
	tx     *sql.Tx
	events []Event
}

type batchKey struct{}

// Batched returns a context under which Record holds the events for r in
// tx in the returned Batch instead of writing them; other recorders and
// other transactions are unaffected. With a nil r it returns ctx and a
// Batch that holds nothing.
func Batched(ctx context.Context, r Recorder, tx *sql.Tx) (context.Context, *Batch) {
	b := &Batch{r: r, tx: tx}
	if r == nil || !reflect.TypeOf(r).Comparable() {
		return ctx, b
	}
	return context.WithValue(ctx, batchKey{}, b), b
}

// Len is the number of events held.
func (b *Batch) Len() int { return len(b.events) }

// Flush records the held events with one call to the Recorder, in the
// Batch's transaction, and empties the Batch.
func (b *Batch) Flush(ctx context.Context) error {
	if len(b.events) == 0 {
		return nil
	}
	events := b.events
	b.events = nil
	// The events go to r itself, not back into this Batch.
	return b.r.Record(context.WithValue(ctx, batchKey{}, nil), b.tx, events...)
}

// hold keeps events for r in tx when ctx carries a Batch for them.
func hold(ctx context.Context, r Recorder, tx *sql.Tx, events []Event) bool {
	b, _ := ctx.Value(batchKey{}).(*Batch)
	if b == nil || b.tx != tx || !reflect.TypeOf(r).Comparable() || b.r != r {
		return false
	}
	b.events = append(b.events, events...)
	return true
}
