package sms

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/change"
)

// Delivered records one delivery receipt (see DeliveredBatch).
func (q *Queue) Delivered(ctx context.Context, r Receipt) error {
	return q.DeliveredBatch(ctx, []Receipt{r})
}

// DeliveredBatch records delivery receipts against the messages their
// gateway ids name, in one transaction with whatever else is waiting to be
// recorded (see recorder). A receipt for a message whose submission is not
// recorded yet is kept and applied when it is (see SentBatch), so an early
// receipt is never lost. Gateway ids must already be normalised by the
// gateway. It returns once every receipt is stored.
func (q *Queue) DeliveredBatch(ctx context.Context, rs []Receipt) error {
	if len(rs) == 0 {
		return nil
	}
	_, err := q.record(ctx, nil, rs)
	return err
}

// applyEarlyReceipts moves waiting receipts onto the messages just recorded
// as sent, and returns how many of each state it applied.
func (q *Queue) applyEarlyReceipts(ctx context.Context, tx *sql.Tx, tc *tallyChange, gatewayIDs []string) (map[string]int, error) {
	d := q.db.Dialect
	type early struct {
		id, state string
		at        time.Time
	}
	var found []early
	err := inChunks(len(gatewayIDs), func(lo, hi, size int) error {
		st, err := q.stmt(ctx, tx, fmt.Sprint("early", size))
		if err != nil {
			return err
		}
		args := make([]any, size)
		for i, g := range gatewayIDs[lo:hi] {
			args[i] = g
		}
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e early
			if err := rows.Scan(&e.id, &e.state, &e.at); err != nil {
				return err
			}
			found = append(found, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	applied := map[string]int{}
	if len(found) == 0 {
		return applied, nil
	}
	var events []change.Event
	for _, e := range found {
		rows, err := tx.QueryContext(ctx, `UPDATE sms_outbox SET delivery_state = $2, delivered_at = $3 WHERE gateway_message_id = $1
			RETURNING id, member_id, campaign_id, `+deliveryColumns(d, ""), e.id, e.state, e.at.UTC())
		if err != nil {
			return nil, err
		}
		var es []smsEvent
		for rows.Next() {
			var id, campaign, state string
			var member sql.NullString
			var hour sql.NullInt64
			if err := rows.Scan(&id, &member, &campaign, &state, &hour); err != nil {
				rows.Close()
				return nil, err
			}
			if err := tc.delivered(id, state, hour); err != nil {
				rows.Close()
				return nil, err
			}
			events = appendReceiptEvent(events, id, member.String, e.state)
			if typ := receiptEvent(e.state); typ != "" {
				es = append(es, smsEvent{typ: typ, messageID: id, memberID: member.String, campaign: campaign,
					detail: e.state, at: e.at.UTC()})
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		if err := recordSMS(ctx, tx, d, es); err != nil {
			return nil, err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sms_early_receipts WHERE gateway_message_id = $1`, e.id); err != nil {
			return nil, err
		}
		applied[e.state]++
	}
	return applied, change.Record(ctx, q.changes, tx, events...)
}

// appendReceiptEvent adds the event a receipt's state reports: delivered,
// or failed for good (undeliverable, expired, rejected, deleted); an
// unknown or intermediate state reports nothing.
func appendReceiptEvent(events []change.Event, msgID, memberID, state string) []change.Event {
	kind := ""
	switch strings.ToUpper(state) {
	case "DELIVERED", "DELIVRD":
		kind = change.SMSDelivered
	case "UNDELIV", "EXPIRED", "REJECTED", "REJECTD", "DELETED":
		kind = change.SMSFailed
	}
	if kind == "" {
		return events
	}
	return append(events, change.Event{Type: kind, MemberID: memberID,
		Data: map[string]any{"message_id": msgID, "state": state}})
}
