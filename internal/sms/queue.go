// Package sms holds Perk's outbound SMS queue: every message is a row of
// sms_outbox, written in the same transaction as whatever caused it, and
// that row is its own job. A sender claims due rows under a lease, hands them
// to a gateway and records the outcome; a crash mid-send leaves the lease to
// expire, and the message is claimed again. (A separate job queue such as
// river would duplicate state the message row must carry anyway: attempts,
// gateway id, delivery state.)
//
// Gateways (simulator, SMPP, Kannel), the keyword router and the contact
// policy build on this package; they live in its sub-packages.
package sms

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/perk-platform/perk/internal/store"
)

// Message states in sms_outbox.status.
const (
	StatusQueued    = "queued"    // waiting for send_after
	StatusSending   = "sending"   // claimed by a sender until lease_until
	StatusSent      = "sent"      // accepted by the gateway; delivery_state follows
	StatusFailed    = "failed"    // permanent gateway error, or out of attempts
	StatusHeld      = "held"      // kept back for good by the contact policy (held_reason)
	StatusCancelled = "cancelled" // withdrawn, e.g. the member was erased
)

// Message is one outbound SMS as the sender sees it.
type Message struct {
	ID       string
	MemberID string
	To       string // E.164
	Body     string
	Kind     string // transactional or marketing
	Purpose  string
	Attempts int // attempts made before this one

	lease time.Time // this claim's lease end, which settling checks: a stale sender cannot overwrite a newer claim
}

// Queue claims and settles outbound messages.
type Queue struct {
	db          *store.DB
	now         func() time.Time
	lease       time.Duration
	maxAttempts int
}

// NewQueue returns a queue over db. lease is how long a claimed message is
// reserved for one sender (a crashed sender's messages come back after it);
// maxAttempts bounds retries of temporary failures.
func NewQueue(db *store.DB, now func() time.Time, lease time.Duration, maxAttempts int) *Queue {
	if now == nil {
		now = time.Now
	}
	return &Queue{db: db, now: now, lease: lease, maxAttempts: maxAttempts}
}

func (q *Queue) utc() time.Time { return q.now().UTC().Truncate(time.Microsecond) }

// Claim reserves up to n due messages, oldest first: queued ones whose
// send_after has come, and sending ones whose lease ran out. A message is
// claimed by a conditional update, so two senders never get the same one.
func (q *Queue) Claim(ctx context.Context, n int) ([]Message, error) {
	now := q.utc()
	rows, err := q.db.R.QueryContext(ctx, `SELECT id FROM sms_outbox
		WHERE (status = 'queued' AND (send_after IS NULL OR send_after <= $1))
		   OR (status = 'sending' AND lease_until <= $1)
		ORDER BY created_at LIMIT $2`, now, n)
	if err != nil {
		return nil, fmt.Errorf("sms claim: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("sms claim: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sms claim: %w", err)
	}
	var out []Message
	for _, id := range ids {
		m, ok, err := q.claimOne(ctx, id, now)
		if err != nil {
			return out, err
		}
		if ok {
			out = append(out, m)
		}
	}
	return out, nil
}

func (q *Queue) claimOne(ctx context.Context, id string, now time.Time) (Message, bool, error) {
	var m Message
	err := q.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE sms_outbox SET status = 'sending', lease_until = $2
			WHERE id = $1 AND ((status = 'queued' AND (send_after IS NULL OR send_after <= $3))
			   OR (status = 'sending' AND lease_until <= $3))`, id, now.Add(q.lease), now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errNotClaimed
		}
		var member, to sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT member_id, to_phone, body, kind, purpose, attempts FROM sms_outbox WHERE id = $1`, id).
			Scan(&member, &to, &m.Body, &m.Kind, &m.Purpose, &m.Attempts); err != nil {
			return err
		}
		m.ID, m.MemberID, m.To, m.lease = id, member.String, to.String, now.Add(q.lease)
		return nil
	})
	if errors.Is(err, errNotClaimed) {
		return m, false, nil
	}
	if err != nil {
		return m, false, fmt.Errorf("sms claim %s: %w", id, err)
	}
	return m, true, nil
}

var errNotClaimed = errors.New("claimed by another sender")

// Sent records that the gateway accepted the message, and applies its
// delivery receipt if that arrived first.
func (q *Queue) Sent(ctx context.Context, m Message, gatewayID string, segments int) error {
	return q.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := q.lockGatewayID(ctx, tx, gatewayID); err != nil {
			return err
		}
		if err := q.settleIn(ctx, tx, m, `UPDATE sms_outbox SET status = 'sent', gateway_message_id = $3, segments = $4,
			sent_at = $5, attempts = attempts + 1, lease_until = NULL, last_error = ''`, gatewayID, segments, q.utc()); err != nil {
			return err
		}
		if err := applyEarlyReceipt(ctx, tx, gatewayID); err != nil {
			return fmt.Errorf("sms sent %s: %w", m.ID, err)
		}
		return nil
	})
}

// Retry puts a message back after a temporary failure, with exponential
// back-off (30 s, 1 min, 2 min ... capped at 1 h); after maxAttempts it fails
// for good. It reports whether the message will be tried again.
func (q *Queue) Retry(ctx context.Context, m Message, cause error) (bool, error) {
	attempts := m.Attempts + 1
	if attempts >= q.maxAttempts {
		return false, q.Fail(ctx, m, fmt.Errorf("gave up after %d attempts: %w", attempts, cause))
	}
	return true, q.settle(ctx, m, `UPDATE sms_outbox SET status = 'queued', attempts = $3, send_after = $4,
		lease_until = NULL, last_error = $5`, attempts, q.utc().Add(Backoff(attempts)), cause.Error())
}

// Backoff is the wait before retry number attempts (1-based).
func Backoff(attempts int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempts && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// Fail records a permanent failure.
func (q *Queue) Fail(ctx context.Context, m Message, cause error) error {
	return q.settle(ctx, m, `UPDATE sms_outbox SET status = 'failed', attempts = attempts + 1, lease_until = NULL,
		last_error = $3`, cause.Error())
}

// Defer puts a claimed message back until a later time without counting an
// attempt, with the reason (e.g. quiet_hours, capped).
func (q *Queue) Defer(ctx context.Context, m Message, reason string, until time.Time) error {
	return q.settle(ctx, m, `UPDATE sms_outbox SET status = 'queued', send_after = $3, held_reason = $4,
		lease_until = NULL`, until.UTC(), reason)
}

// Hold keeps a claimed message back for good, with the reason (e.g.
// opted_out): it is recorded, never silently dropped.
func (q *Queue) Hold(ctx context.Context, m Message, reason string) error {
	return q.settle(ctx, m, `UPDATE sms_outbox SET status = 'held', held_reason = $3, lease_until = NULL`, reason)
}

// ErrLeaseLost means the message was no longer claimed by this sender (its
// lease ran out and another sender took it): the outcome is not recorded.
var ErrLeaseLost = errors.New("sms: lease lost")

// settle runs an UPDATE whose SET clause uses $3 onwards, restricted to the
// message while this claim still holds it ($1 id, $2 lease).
func (q *Queue) settle(ctx context.Context, m Message, update string, args ...any) error {
	return q.settleIn(ctx, q.db.W, m, update, args...)
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (q *Queue) settleIn(ctx context.Context, ex execer, m Message, update string, args ...any) error {
	query := update + ` WHERE id = $1 AND status = 'sending' AND lease_until = $2`
	res, err := ex.ExecContext(ctx, query, append([]any{m.ID, m.lease}, args...)...)
	if err != nil {
		return fmt.Errorf("sms settle %s: %w", m.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sms settle %s: %w", m.ID, ErrLeaseLost)
	}
	return nil
}
