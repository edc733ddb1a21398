package webhook

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/id"
)

// Delivery states in webhook_deliveries.status.
const (
	StatusPending   = "pending"   // waiting for next_at
	StatusSending   = "sending"   // claimed by a dispatcher until next_at (its lease)
	StatusDelivered = "delivered" // the endpoint answered 2xx
	StatusDead      = "dead"      // retried until expires_at without success; replay to try again
)

// job is a claimed delivery.
type job struct {
	id, endpointID, eventID string
	payload                 []byte
	attempts                int // made before this one
	expires                 time.Time
	token                   string
}

// due is the condition of a row a dispatcher may claim: pending and due, or
// claimed by a dispatcher whose lease ran out (it crashed or was killed).
// It is repeated in the outer UPDATE so that on PostgreSQL a row claimed by
// another dispatcher meanwhile is re-checked after its lock and skipped.
const due = `status IN ('pending', 'sending') AND next_at <= $1`

// claim reserves up to n due deliveries, oldest first, leaving out the
// endpoints in skip (those already at their concurrency limit here).
func (s *Service) claim(ctx context.Context, n int, lease time.Duration, skip []string) ([]job, error) {
	now := s.utc()
	token := id.Token(10)
	args := []any{now, now.Add(lease), token, n}
	not := ""
	if len(skip) > 0 {
		ph := make([]string, len(skip))
		for i, e := range skip {
			args = append(args, e)
			ph[i] = fmt.Sprintf("$%d", len(args))
		}
		not = ` AND endpoint_id NOT IN (` + strings.Join(ph, ", ") + `)`
	}
	rows, err := s.db.W.QueryContext(ctx, `UPDATE webhook_deliveries SET status = 'sending', next_at = $2, claim_token = $3
		WHERE id IN (SELECT id FROM webhook_deliveries WHERE `+due+not+` ORDER BY next_at LIMIT $4) AND `+due+`
		RETURNING id, endpoint_id, event_id, payload, attempts, expires_at`, args...)
	if err != nil {
		return nil, fmt.Errorf("webhook claim: %w", err)
	}
	defer rows.Close()
	var out []job
	for rows.Next() {
		j := job{token: token}
		var payload string
		if err := rows.Scan(&j.id, &j.endpointID, &j.eventID, &payload, &j.attempts, &j.expires); err != nil {
			return nil, fmt.Errorf("webhook claim: %w", err)
		}
		j.payload = []byte(payload)
		out = append(out, j)
	}
	return out, rows.Err()
}

// release gives claimed deliveries back unattempted (more were claimed for
// an endpoint than it may have in flight).
func (s *Service) release(ctx context.Context, js []job) error {
	for _, j := range js {
		if _, err := s.db.W.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'pending', next_at = $3, claim_token = NULL
			WHERE id = $1 AND claim_token = $2 AND status = 'sending'`, j.id, j.token, s.utc()); err != nil {
			return fmt.Errorf("webhook release: %w", err)
		}
	}
	return nil
}

// outcome is one attempt's result, to be settled.
type outcome struct {
	job     job
	at      time.Time // when the attempt started
	code    int       // HTTP status, 0 when none came
	latency time.Duration
	err     string // why it failed, "" on success
}

func (o outcome) ok() bool { return o.err == "" }

// settle records attempts in one transaction: the log rows, and each
// delivery delivered, rescheduled with back-off, or dead when its next try
// would come after it expires. A delivery whose claim was lost is skipped.
func (s *Service) settle(ctx context.Context, os []outcome) error {
	if len(os) == 0 {
		return nil
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		// Settle first: an attempt whose claim was lost is not logged, so
		// no attempt number is logged twice.
		var logged []outcome
		for _, o := range os {
			var res sql.Result
			var err error
			n := o.job.attempts + 1
			switch next := o.at.Add(s.opt.Jitter(Backoff(n))); {
			case o.ok():
				res, err = tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'delivered', attempts = $3, delivered_at = $4,
					last_code = $5, last_error = '', claim_token = NULL WHERE id = $1 AND claim_token = $2 AND status = 'sending'`,
					o.job.id, o.job.token, n, o.at.Add(o.latency), o.code)
			case next.After(o.job.expires):
				res, err = tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'dead', attempts = $3, last_code = $4,
					last_error = $5, claim_token = NULL WHERE id = $1 AND claim_token = $2 AND status = 'sending'`,
					o.job.id, o.job.token, n, o.code, o.err)
			default:
				res, err = tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'pending', attempts = $3, next_at = $4,
					last_code = $5, last_error = $6, claim_token = NULL WHERE id = $1 AND claim_token = $2 AND status = 'sending'`,
					o.job.id, o.job.token, n, next, o.code, o.err)
			}
			if err != nil {
				return fmt.Errorf("webhook settle %s: %w", o.job.id, err)
			}
			if k, _ := res.RowsAffected(); k > 0 {
				logged = append(logged, o)
			}
		}
		if len(logged) == 0 {
			return nil
		}
		const cols = 6
		var b strings.Builder
		args := make([]any, 0, cols*len(logged))
		b.WriteString(`INSERT INTO webhook_attempts (delivery_id, attempt, at, code, latency_us, error) VALUES `)
		for i, o := range logged {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(" + s.db.Dialect.Placeholders(1+i*cols, cols) + ")")
			args = append(args, o.job.id, o.job.attempts+1, o.at, o.code, o.latency.Microseconds(), o.err)
		}
		if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
			return fmt.Errorf("webhook attempts: %w", err)
		}
		return nil
	})
}
