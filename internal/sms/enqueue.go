package sms

import (
	"context"
	"fmt"
	"time"

	"github.com/perk-platform/perk/internal/id"
	"github.com/perk-platform/perk/internal/store"
)

// Outbound is a message to queue.
type Outbound struct {
	MemberID string // "" for a number that is not a member (e.g. STOP from a stranger)
	To       string // E.164
	Body     string
	Kind     string // transactional or marketing
	Purpose  string // welcome, code, stop_confirm, help, ...
	Campaign string // the campaign the message is sent for, if any
}

// Kinds of message.
const (
	Transactional = "transactional"
	Marketing     = "marketing"
)

// Enqueue writes a message to the queue, in the caller's transaction when
// ex is one, so the message exists if and only if what caused it does.
func Enqueue(ctx context.Context, ex execer, o Outbound, now time.Time) (string, error) {
	msgID := id.New("msg", now)
	_, err := ex.ExecContext(ctx, `INSERT INTO sms_outbox (id, member_id, to_phone, body, kind, purpose, campaign_id, created_at, send_after)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`, msgID, store.NullString(o.MemberID), o.To, o.Body, o.Kind, o.Purpose, o.Campaign, now.UTC())
	if err != nil {
		return "", fmt.Errorf("queue %s sms: %w", o.Purpose, err)
	}
	return msgID, nil
}

// EnqueueMany writes messages to the queue in a few statements, in the
// caller's transaction when ex is one: a bulk import's welcomes.
func EnqueueMany(ctx context.Context, ex execer, d store.Dialect, os []Outbound, now time.Time) error {
	at := now.UTC()
	err := store.InsertRows(ctx, ex, d, "sms_outbox", []string{"id", "member_id", "to_phone", "body", "kind", "purpose",
		"campaign_id", "created_at", "send_after"}, len(os), 500, func(i int) []any {
		o := os[i]
		return []any{id.New("msg", now), store.NullString(o.MemberID), o.To, o.Body, o.Kind, o.Purpose, o.Campaign, at, at}
	})
	if err != nil {
		return fmt.Errorf("queue %d sms: %w", len(os), err)
	}
	return nil
}
