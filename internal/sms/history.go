package sms

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/store"
)

// OutboxEntry is a message as operators see it.
type OutboxEntry struct {
	ID            string     `json:"id"`
	MemberID      string     `json:"member_id,omitempty"`
	To            string     `json:"to,omitempty"`
	Body          string     `json:"body"`
	Kind          string     `json:"kind"`
	Purpose       string     `json:"purpose"`
	Campaign      string     `json:"campaign_id,omitempty"`
	Status        string     `json:"status"`
	HeldReason    string     `json:"held_reason,omitempty"`
	Attempts      int        `json:"attempts"`
	LastError     string     `json:"last_error,omitempty"`
	Segments      int        `json:"segments,omitempty"`
	DeliveryState string     `json:"delivery_state,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	SendAfter     *time.Time `json:"send_after,omitempty"`
	SentAt        *time.Time `json:"sent_at,omitempty"`
	DeliveredAt   *time.Time `json:"delivered_at,omitempty"`
}

// InboxEntry is an inbound message as operators see it.
type InboxEntry struct {
	ID         string    `json:"id"`
	From       string    `json:"from,omitempty"`
	Body       string    `json:"body"`
	Keyword    string    `json:"keyword,omitempty"` // "" when not understood
	MemberID   string    `json:"member_id,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
}

// Filter selects entries, newest first.
type Filter struct {
	Phone        string // E.164, optional
	MemberID     string
	Status       string // outbox only
	Campaign     string // outbox only
	Unrecognised bool   // inbox only: messages no keyword matched
	Before       string // id cursor: entries older than this one
	Limit        int    // 1..500
}

func (f Filter) where(phoneCol string) (string, []any) {
	var conds []string
	var args []any
	add := func(cond string, v any) {
		args = append(args, v)
		conds = append(conds, fmt.Sprintf(cond, len(args)))
	}
	if f.Phone != "" {
		add(phoneCol+" = $%d", f.Phone)
	}
	if f.MemberID != "" {
		add("member_id = $%d", f.MemberID)
	}
	if f.Status != "" {
		add("status = $%d", f.Status)
	}
	if f.Campaign != "" {
		add("campaign_id = $%d", f.Campaign)
	}
	if f.Unrecognised {
		conds = append(conds, "keyword = ''")
	}
	if f.Before != "" {
		add("id < $%d", f.Before)
	}
	w := ""
	if len(conds) > 0 {
		w = " WHERE " + strings.Join(conds, " AND ")
	}
	args = append(args, max(1, min(f.Limit, 500)))
	return w + fmt.Sprintf(" ORDER BY id DESC LIMIT $%d", len(args)), args
}

// ListOutbox returns outbound messages matching f.
func ListOutbox(ctx context.Context, db *store.DB, f Filter) ([]OutboxEntry, error) {
	w, args := f.where("to_phone")
	rows, err := db.R.QueryContext(ctx, `SELECT id, COALESCE(member_id, ''), COALESCE(to_phone, ''), body, kind, purpose,
		campaign_id, status, held_reason, attempts, last_error, segments, delivery_state, created_at, send_after, sent_at, delivered_at
		FROM sms_outbox`+w, args...)
	if err != nil {
		return nil, fmt.Errorf("list outbox: %w", err)
	}
	defer rows.Close()
	out := []OutboxEntry{}
	for rows.Next() {
		var e OutboxEntry
		var after, sent, delivered sql.NullTime
		if err := rows.Scan(&e.ID, &e.MemberID, &e.To, &e.Body, &e.Kind, &e.Purpose, &e.Campaign, &e.Status, &e.HeldReason, &e.Attempts,
			&e.LastError, &e.Segments, &e.DeliveryState, &e.CreatedAt, &after, &sent, &delivered); err != nil {
			return nil, fmt.Errorf("list outbox: %w", err)
		}
		e.CreatedAt = e.CreatedAt.UTC()
		e.SendAfter, e.SentAt, e.DeliveredAt = utcPtr(after), utcPtr(sent), utcPtr(delivered)
		out = append(out, e)
	}
	return out, rows.Err()
}

// ListInbox returns inbound messages matching f.
func ListInbox(ctx context.Context, db *store.DB, f Filter) ([]InboxEntry, error) {
	w, args := f.where("from_phone")
	rows, err := db.R.QueryContext(ctx, `SELECT id, COALESCE(from_phone, ''), body, keyword, COALESCE(member_id, ''), received_at
		FROM sms_inbox`+w, args...)
	if err != nil {
		return nil, fmt.Errorf("list inbox: %w", err)
	}
	defer rows.Close()
	out := []InboxEntry{}
	for rows.Next() {
		var e InboxEntry
		if err := rows.Scan(&e.ID, &e.From, &e.Body, &e.Keyword, &e.MemberID, &e.ReceivedAt); err != nil {
			return nil, fmt.Errorf("list inbox: %w", err)
		}
		e.ReceivedAt = e.ReceivedAt.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

func utcPtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// Counts is how many messages are in each state, for a campaign or all.
type Counts struct {
	Total     int            `json:"total"`
	ByStatus  map[string]int `json:"by_status"`
	Delivered int            `json:"delivered"`
	Undeliv   int            `json:"failed_delivery"`
	Clicks    int            `json:"clicks"`
	// Reasons counts the messages kept back, by status (held, cancelled)
	// and then reason (opted_out, campaign_paused, too_late ...).
	Reasons map[string]map[string]int `json:"reasons"`
}

// Count sums messages by status and delivery state, and the clicks on their
// links, for one campaign ("" for all messages).
func Count(ctx context.Context, db *store.DB, campaign string) (Counts, error) {
	c := Counts{ByStatus: map[string]int{}, Reasons: map[string]map[string]int{}}
	where, args := "", []any{}
	if campaign != "" {
		where, args = " WHERE campaign_id = $1", []any{campaign}
	}
	rows, err := db.R.QueryContext(ctx, `SELECT status, delivery_state, held_reason, COUNT(*) FROM sms_outbox`+where+
		` GROUP BY status, delivery_state, held_reason`, args...)
	if err != nil {
		return c, fmt.Errorf("count sms: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var status, delivery, reason string
		var n int
		if err := rows.Scan(&status, &delivery, &reason, &n); err != nil {
			return c, fmt.Errorf("count sms: %w", err)
		}
		c.Total += n
		c.ByStatus[status] += n
		if (status == StatusHeld || status == StatusCancelled) && reason != "" {
			if c.Reasons[status] == nil {
				c.Reasons[status] = map[string]int{}
			}
			c.Reasons[status][reason] += n
		}
		switch delivery {
		case Delivered:
			c.Delivered += n
		case Undeliv, Expired:
			c.Undeliv += n
		}
	}
	if err := rows.Err(); err != nil {
		return c, err
	}
	q := `SELECT COUNT(*) FROM link_clicks k JOIN short_links l ON l.code = k.code`
	if campaign != "" {
		q += ` WHERE l.campaign = $1`
	}
	if err := db.R.QueryRowContext(ctx, q, args...).Scan(&c.Clicks); err != nil {
		return c, fmt.Errorf("count clicks: %w", err)
	}
	return c, nil
}
