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
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/id"
	"github.com/perk-platform/perk/internal/store"
)

// Message states in sms_outbox.status.
const (
	StatusQueued    = "queued"    // waiting for send_after
	StatusSending   = "sending"   // claimed by a sender until send_after (its lease)
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
	Campaign string // the campaign it is sent for, "" for none
	Attempts int    // attempts made before this one

	token string // the claim; settling checks it, so a stale sender cannot overwrite a newer claim
}

// Queue claims and settles outbound messages.
type Queue struct {
	db          *store.DB
	now         func() time.Time
	lease       time.Duration
	maxAttempts int
	metrics     *Metrics        // receipts; nil records nothing
	changes     change.Recorder // receipts' sms.delivered and sms.failed; nil reports nothing

	rec      recorder // group commit of acceptances and receipts
	stmts    sync.Map // statement name -> *sql.Stmt prepared on db.W (see prepare)
	prepMu   sync.Mutex
	prepared bool // guarded by prepMu
}

// SetChanges makes the queue report delivery receipts (sms.delivered,
// sms.failed) to r in the transaction that records them. Call it before the
// queue is used.
func (q *Queue) SetChanges(r change.Recorder) { q.changes = r }

// NewQueue returns a queue over db. lease is how long a claimed message is
// reserved for one sender (a crashed sender's messages come back after it);
// maxAttempts bounds retries of temporary failures.
func NewQueue(db *store.DB, now func() time.Time, lease time.Duration, maxAttempts int) *Queue {
	if now == nil {
		now = time.Now
	}
	return &Queue{db: db, now: now, lease: lease, maxAttempts: maxAttempts,
		rec: recorder{accepting: map[string]int{}, parked: map[string][]pendingReceipt{}}}
}

// SetMetrics makes the queue count the receipts it records in m. Call it
// before the queue is used.
func (q *Queue) SetMetrics(m *Metrics) { q.metrics = m }

func (q *Queue) utc() time.Time { return q.now().UTC().Truncate(time.Microsecond) }

// due is the condition of a row a sender may claim: queued and due, or
// claimed by a sender whose lease ran out. It is repeated in the outer
// UPDATE so that on PostgreSQL a row another sender claimed meanwhile is
// re-checked after its lock and skipped, never claimed twice. There status
// is concatenated with an empty string so that no planner picks the (status,
// send_after) index for the re-check: SQLite did, and read every due row to
// test each against the ids.
const due = `status || '' IN ('queued', 'sending') AND send_after <= $1`

// Claim reserves up to n due messages, oldest first, in one statement.
// The due rows are looked up per status, each an ordered range of the
// (status, send_after) index read for at most n rows, and then updated by
// id: asking for both statuses at once made the database read every due
// row to sort them, so the claim slowed down with the queue's depth. The
// statement text does not depend on n, so it is prepared once.
func (q *Queue) Claim(ctx context.Context, n int) ([]Message, error) {
	now := q.utc()
	token := id.Token(10)
	if err := q.prepare(ctx); err != nil {
		return nil, fmt.Errorf("sms claim: %w", err)
	}
	st, _ := q.stmts.Load("claim")
	rows, err := st.(*sql.Stmt).QueryContext(ctx, now, now.Add(q.lease), token, n)
	if err != nil {
		return nil, fmt.Errorf("sms claim: %w", err)
	}
	defer rows.Close()
	var out []Message
	for rows.Next() {
		m := Message{token: token}
		if err := rows.Scan(&m.ID, &m.MemberID, &m.To, &m.Body, &m.Kind, &m.Purpose, &m.Campaign, &m.Attempts); err != nil {
			return nil, fmt.Errorf("sms claim: %w", err)
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sms claim: %w", err)
	}
	// RETURNING follows no order; the sender sends oldest first.
	slices.SortFunc(out, func(a, b Message) int { return strings.Compare(a.ID, b.ID) })
	return out, nil
}

// claimSQL is Claim's statement.
func (q *Queue) claimSQL() string {
	byStatus := func(status string) string {
		return `SELECT id, send_after FROM (SELECT id, send_after FROM sms_outbox WHERE status = '` + status + `' AND send_after <= $1
			ORDER BY send_after LIMIT $4)`
	}
	return `UPDATE sms_outbox SET status = 'sending', send_after = $2, claim_token = $3
		WHERE id IN (SELECT id FROM (` + byStatus("queued") + ` AS q UNION ALL ` + byStatus("sending") + ` AS s) AS d
			ORDER BY send_after LIMIT $4) AND ` + due + `
		RETURNING id, COALESCE(member_id, ''), COALESCE(to_phone, ''), body, kind, purpose, campaign_id, attempts`
}

// SentResult is one message a gateway accepted.
type SentResult struct {
	Message   Message
	GatewayID string
	Segments  int
}

// Sent records that the gateway accepted the message.
func (q *Queue) Sent(ctx context.Context, m Message, gatewayID string, segments int) error {
	return q.SentBatch(ctx, []SentResult{{m, gatewayID, segments}})
}

// SentBatch records accepted messages, in one transaction with whatever
// else is waiting to be recorded (see recorder), and applies the receipts
// of any that arrived first. A message whose claim was lost is skipped and
// reported with ErrLeaseLost; the others are recorded.
func (q *Queue) SentBatch(ctx context.Context, rs []SentResult) error {
	if len(rs) == 0 {
		return nil
	}
	lost, err := q.record(ctx, rs, nil)
	if err != nil {
		return err
	}
	if lost > 0 {
		return fmt.Errorf("sms sent: %d of %d messages: %w", lost, len(rs), ErrLeaseLost)
	}
	return nil
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
		last_error = $5`, attempts, q.utc().Add(Backoff(attempts)), cause.Error())
}

// Backoff is the wait before retry number attempts (1-based).
func Backoff(attempts int) time.Duration {
	d := 30 * time.Second
	for i := 1; i < attempts && d < time.Hour; i++ {
		d *= 2
	}
	return min(d, time.Hour)
}

// Fail records a permanent failure, and reports it as sms.failed.
func (q *Queue) Fail(ctx context.Context, m Message, cause error) error {
	return q.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := q.settleIn(ctx, tx, m, `UPDATE sms_outbox SET status = 'failed', attempts = attempts + 1, last_error = $3`, cause.Error()); err != nil {
			return err
		}
		if err := change.Record(ctx, q.changes, tx, change.Event{Type: change.SMSFailed, MemberID: m.MemberID,
			Data: map[string]any{"message_id": m.ID, "state": "send_failed"}}); err != nil {
			return err
		}
		return recordSMS(ctx, tx, q.db.Dialect, []smsEvent{{typ: event.SMSFailed, messageID: m.ID, memberID: m.MemberID,
			campaign: m.Campaign, detail: "not sent", at: q.utc()}})
	})
}

// Defer puts a claimed message back until a later time without counting an
// attempt, with the reason (e.g. quiet_hours, capped).
func (q *Queue) Defer(ctx context.Context, m Message, reason string, until time.Time) error {
	return q.settle(ctx, m, `UPDATE sms_outbox SET status = 'queued', send_after = $3, held_reason = $4`, until.UTC(), reason)
}

// Hold keeps a claimed message back for good, with the reason (e.g.
// opted_out): it is recorded, never silently dropped.
func (q *Queue) Hold(ctx context.Context, m Message, reason string) error {
	return q.settle(ctx, m, `UPDATE sms_outbox SET status = 'held', held_reason = $3`, reason)
}

// Cancel withdraws a claimed message for good, with the reason (e.g.
// too_late): it could no longer do what it was queued for.
func (q *Queue) Cancel(ctx context.Context, m Message, reason string) error {
	return q.settle(ctx, m, `UPDATE sms_outbox SET status = 'cancelled', held_reason = $3`, reason)
}

// ErrLeaseLost means the message was no longer claimed by this sender (its
// lease ran out and another sender took it): the outcome is not recorded.
var ErrLeaseLost = errors.New("sms: lease lost")

// settle runs an UPDATE whose SET clause uses $3 onwards, restricted to the
// message while this claim still holds it ($1 id, $2 claim token).
func (q *Queue) settle(ctx context.Context, m Message, update string, args ...any) error {
	return q.settleIn(ctx, q.db.W, m, update, args...)
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

func (q *Queue) settleIn(ctx context.Context, ex execer, m Message, update string, args ...any) error {
	query := update + ` WHERE id = $1 AND status = 'sending' AND claim_token = $2`
	res, err := ex.ExecContext(ctx, query, append([]any{m.ID, m.token}, args...)...)
	if err != nil {
		return fmt.Errorf("sms settle %s: %w", m.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("sms settle %s: %w", m.ID, ErrLeaseLost)
	}
	return nil
}
