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
// gateway ids name, in one transaction. A receipt for a message whose
// submission is not recorded yet is kept and applied when it is (see
// SentBatch), so an early receipt is never lost. Gateway ids must already be
// normalised by the gateway.
func (q *Queue) DeliveredBatch(ctx context.Context, rs []Receipt) error {
	if len(rs) == 0 {
		return nil
	}
	ids := make([]string, len(rs))
	for i, r := range rs {
		ids[i] = r.GatewayID
	}
	matched := map[string]bool{}
	err := q.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := q.lockGatewayIDs(ctx, tx, ids); err != nil {
			return err
		}
		var b strings.Builder
		args := make([]any, 0, 3*len(rs))
		b.WriteString(`UPDATE sms_outbox SET delivery_state = v.state, delivered_at = v.at FROM (`)
		for i, r := range rs {
			if i > 0 {
				b.WriteString(" UNION ALL ")
			}
			n := len(args)
			fmt.Fprintf(&b, "SELECT $%d AS gid, $%d AS state, %s AS at", n+1, n+2, q.db.Dialect.TimeParam(fmt.Sprintf("$%d", n+3)))
			args = append(args, r.GatewayID, r.State, r.At.UTC())
		}
		b.WriteString(`) AS v WHERE sms_outbox.gateway_message_id = v.gid
			RETURNING sms_outbox.gateway_message_id, sms_outbox.id, sms_outbox.member_id, sms_outbox.campaign_id, sms_outbox.delivery_state`)
		rows, err := tx.QueryContext(ctx, b.String(), args...)
		if err != nil {
			return fmt.Errorf("sms receipts: %w", err)
		}
		var events []change.Event
		var es []smsEvent
		for rows.Next() {
			var g, id, campaign, state string
			var member sql.NullString
			if err := rows.Scan(&g, &id, &member, &campaign, &state); err != nil {
				rows.Close()
				return fmt.Errorf("sms receipts: %w", err)
			}
			matched[g] = true
			events = appendReceiptEvent(events, id, member.String, state)
			if typ := receiptEvent(state); typ != "" {
				es = append(es, smsEvent{typ: typ, messageID: id, memberID: member.String, campaign: campaign, detail: state, at: atOf(rs, g)})
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("sms receipts: %w", err)
		}
		if err := change.Record(ctx, q.changes, tx, events...); err != nil {
			return fmt.Errorf("sms receipts: %w", err)
		}
		if err := recordSMS(ctx, tx, q.db.Dialect, es); err != nil {
			return err
		}
		for _, r := range rs {
			if matched[r.GatewayID] {
				continue
			}
			// Not recorded as sent yet: keep the receipt for SentBatch.
			if _, err := tx.ExecContext(ctx, `DELETE FROM sms_early_receipts WHERE gateway_message_id = $1`, r.GatewayID); err != nil {
				return fmt.Errorf("sms receipt: %w", err)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO sms_early_receipts (gateway_message_id, state, at) VALUES ($1, $2, $3)`,
				r.GatewayID, r.State, r.At.UTC()); err != nil {
				return fmt.Errorf("sms receipt: %w", err)
			}
		}
		return nil
	})
	if err == nil && q.metrics != nil {
		counts := map[string]int{}
		for _, r := range rs {
			if matched[r.GatewayID] {
				counts[r.State]++
			} else {
				counts[receiptUnmatched]++
			}
		}
		for state, n := range counts {
			q.metrics.receipt(state, n)
		}
	}
	return err
}

// atOf is the time of the receipt for gateway id g.
func atOf(rs []Receipt, g string) time.Time {
	for _, r := range rs {
		if r.GatewayID == g {
			return r.At
		}
	}
	return time.Time{}
}

// applyEarlyReceipts moves waiting receipts onto the messages just recorded
// as sent, and returns how many of each state it applied.
func (q *Queue) applyEarlyReceipts(ctx context.Context, tx *sql.Tx, gatewayIDs []string) (map[string]int, error) {
	d := q.db.Dialect
	args := make([]any, len(gatewayIDs))
	for i, g := range gatewayIDs {
		args[i] = g
	}
	rows, err := tx.QueryContext(ctx, `SELECT gateway_message_id, state, at FROM sms_early_receipts
		WHERE gateway_message_id IN (`+d.Placeholders(1, len(args))+`)`, args...)
	if err != nil {
		return nil, err
	}
	type early struct {
		id, state string
		at        time.Time
	}
	var found []early
	for rows.Next() {
		var e early
		if err := rows.Scan(&e.id, &e.state, &e.at); err != nil {
			rows.Close()
			return nil, err
		}
		found = append(found, e)
	}
	rows.Close()
	applied := map[string]int{}
	var events []change.Event
	for _, e := range found {
		rows, err := tx.QueryContext(ctx, `UPDATE sms_outbox SET delivery_state = $2, delivered_at = $3 WHERE gateway_message_id = $1
			RETURNING id, member_id, campaign_id`, e.id, e.state, e.at.UTC())
		if err != nil {
			return nil, err
		}
		var es []smsEvent
		for rows.Next() {
			var id, campaign string
			var member sql.NullString
			if err := rows.Scan(&id, &member, &campaign); err != nil {
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

// lockGatewayIDs serialises the receipt and the submit record of each
// message. Without it, on PostgreSQL a receipt can miss the message (not yet
// committed) while the submit misses the receipt (not yet kept), and the
// receipt is stranded. SQLite's single writer already serialises them
// (store.Dialect.LockKeys).
func (q *Queue) lockGatewayIDs(ctx context.Context, tx *sql.Tx, ids []string) error {
	if err := q.db.Dialect.LockKeys(ctx, tx, gatewayIDLocks, ids); err != nil {
		return fmt.Errorf("sms lock: %w", err)
	}
	return nil
}

// gatewayIDLocks is the lock namespace of gateway message ids.
const gatewayIDLocks = 7357002
