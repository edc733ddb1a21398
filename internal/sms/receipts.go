package sms

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/perk-platform/perk/internal/store"
)

// Delivered records a delivery receipt against the message the gateway id
// names. A receipt for a message whose submission is not recorded yet is kept
// and applied when it is (see Sent), so an early receipt is never lost.
// Gateway ids must already be normalised by the gateway.
func (q *Queue) Delivered(ctx context.Context, r Receipt) error {
	at := r.At.UTC()
	return q.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := q.lockGatewayID(ctx, tx, r.GatewayID); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE sms_outbox SET delivery_state = $2, delivered_at = $3
			WHERE gateway_message_id = $1`, r.GatewayID, r.State, at)
		if err != nil {
			return fmt.Errorf("sms receipt: %w", err)
		}
		if n, _ := res.RowsAffected(); n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM sms_early_receipts WHERE gateway_message_id = $1`, r.GatewayID); err != nil {
			return fmt.Errorf("sms receipt: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO sms_early_receipts (gateway_message_id, state, at) VALUES ($1, $2, $3)`,
			r.GatewayID, r.State, at)
		if err != nil {
			return fmt.Errorf("sms receipt: %w", err)
		}
		return nil
	})
}

// applyEarlyReceipt moves a waiting receipt onto the message just recorded
// as sent.
func applyEarlyReceipt(ctx context.Context, tx *sql.Tx, gatewayID string) error {
	var state string
	var at time.Time
	err := tx.QueryRowContext(ctx, `SELECT state, at FROM sms_early_receipts WHERE gateway_message_id = $1`, gatewayID).Scan(&state, &at)
	if err == sql.ErrNoRows {
		return nil
	}
	if err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sms_outbox SET delivery_state = $2, delivered_at = $3 WHERE gateway_message_id = $1`,
		gatewayID, state, at.UTC()); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `DELETE FROM sms_early_receipts WHERE gateway_message_id = $1`, gatewayID)
	return err
}

// lockGatewayID serialises the receipt and the submit record of one message.
// Without it, on PostgreSQL a receipt can miss the message (not yet
// committed) while the submit misses the receipt (not yet kept), and the
// receipt is stranded. SQLite's single writer already serialises them.
func (q *Queue) lockGatewayID(ctx context.Context, tx *sql.Tx, gatewayID string) error {
	if q.db.Dialect != store.Postgres {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7357002, hashtext($1))`, gatewayID); err != nil {
		return fmt.Errorf("sms lock %s: %w", gatewayID, err)
	}
	return nil
}
