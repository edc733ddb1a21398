// Package crm is what flows back to the retailer's CRM: the feed of changes
// (members, consent, transactions and their lines, redemptions, returns,
// points movements, message outcomes), each keyed by the member's CRM id,
// exported incrementally by an opaque cursor as CSV or JSON Lines files with
// a manifest, or streamed one feed at a time by the API.
//
// Changes reach the feed through change.Recorder, like the webhooks: Feed
// writes one log row per change in the transaction that makes it, so the
// feed holds exactly what was committed, stamped when it was written (a
// late delivery receipt or an offline till's file of yesterday's sales
// still comes after the cursor). The subset sync and personal offers that
// flow from the CRM into Perk live in member and campaign; this package only
// reads and reports.
package crm

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/store"
)

// feedTable is the change log the feed reads.
const feedTable = "crm_feed"

// Feed records changes into the CRM feed's log. It implements
// change.Recorder and change.Filter.
type Feed struct {
	db  *store.DB
	now func() time.Time
}

var (
	_ change.Recorder = (*Feed)(nil)
	_ change.Filter   = (*Feed)(nil)
)

// NewFeed returns the recorder; now stamps each row (nil: the wall clock).
func NewFeed(db *store.DB, now func() time.Time) *Feed {
	if now == nil {
		now = time.Now
	}
	return &Feed{db: db, now: now}
}

// recorded lists the change types the feed keeps, with the data keys each
// keeps: ids, amounts and states, never personal data (an erasure leaves
// nothing to chase in the log).
var recorded = map[string][]string{
	change.MemberCreated:        nil,
	change.MemberUpdated:        {"changed"},
	change.MemberOptedOut:       {"method"},
	change.MemberErased:         nil,
	change.ConsentChanged:       {"status", "action", "method", "source"},
	change.TransactionCommitted: {"transaction_id", "store", "currency", "subtotal", "total_discount", "total", "points_earned", "points_redeemed", "amount_due"},
	change.TransactionReturned:  {"transaction_id", "return_id", "store", "value", "refund", "points_reversed", "points_refunded", "offers_restored"},
	change.TransactionVoided:    {"transaction_id", "store", "value", "refund", "points_reversed", "points_refunded", "offers_restored"},
	change.OfferRedeemed:        {"transaction_id", "store", "offer_id", "campaign_id", "kind", "discount", "points"},
	change.PointsChanged:        {"points", "entries"},
	change.SMSDelivered:         {"message_id", "state"},
	change.SMSFailed:            {"message_id", "state"},
}

// Wants reports whether the feed keeps events of type t.
func (f *Feed) Wants(t string) bool {
	_, ok := recorded[t]
	return ok
}

const (
	feedCols   = 5    // columns of one log row in Record's INSERT
	insertRows = 2000 // rows of one INSERT at most
)

// Record writes one log row per event about a member, in tx, with one
// statement. Events about no member (an anonymous basket, a message to a
// number that is no member's) have no CRM id to key them and are left out.
// An erasure is recorded before the member row is cleared, so its row keeps
// the CRM id the member had.
func (f *Feed) Record(ctx context.Context, tx *sql.Tx, events ...change.Event) error {
	now := f.now().UTC()
	args := make([]any, 0, feedCols*len(events))
	rows := 0
	for _, e := range events {
		keys, ok := recorded[e.Type]
		if !ok || e.MemberID == "" {
			continue
		}
		var ext any
		if e.Type == change.MemberErased {
			var x sql.NullString
			err := tx.QueryRowContext(ctx, `SELECT external_id FROM members WHERE id = $1`, e.MemberID).Scan(&x)
			if err != nil && err != sql.ErrNoRows {
				return fmt.Errorf("crm feed: %w", err)
			}
			if x.Valid {
				ext = x.String
			}
		}
		data := make(map[string]any, len(keys))
		for _, k := range keys {
			if v, ok := e.Data[k]; ok {
				data[k] = v
			}
		}
		b, err := json.Marshal(data)
		if err != nil {
			return fmt.Errorf("crm feed %s: %w", e.Type, err)
		}
		args = append(args, e.Type, e.MemberID, ext, string(b), now)
		rows++
	}
	// COPY under a bulk writer's context (store.WithCopy: a file import
	// reports thousands of changes in one transaction), else statements of
	// at most insertRows rows (SQLite allows 32,766 parameters).
	err := store.InsertRows(ctx, tx, f.db.Dialect, feedTable, []string{"type", "member_id", "external_id", "data", "at"},
		rows, insertRows, func(i int) []any { return args[i*feedCols : (i+1)*feedCols] })
	if err != nil {
		return fmt.Errorf("crm feed: %w", err)
	}
	return nil
}
