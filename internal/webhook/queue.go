package webhook

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/perk-platform/perk/internal/id"
	"github.com/perk-platform/perk/internal/store"
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
// Its status term is the condition of the partial index on next_at
// (webhook_deliveries_due_idx), which holds only these rows, so a claim
// reads the oldest few in order and stops at its LIMIT whatever the
// backlog. It is repeated in the outer UPDATE so that on PostgreSQL a row
// claimed by another dispatcher meanwhile is re-checked after its lock and
// skipped.
const due = `status IN ('pending', 'sending') AND next_at <= $1`

// claim reserves up to n due deliveries, oldest first, leaving out the
// endpoints in skip (those already at their concurrency limit here), in a
// statement of its own.
func (s *Service) claim(ctx context.Context, n int, lease time.Duration, skip []string) ([]job, error) {
	return s.claimIn(ctx, s.db.W, n, lease, skip)
}

// claimQuery is the claim's statement and its arguments.
func claimQuery(now time.Time, lease time.Duration, token string, n int, skip []string) (string, []any) {
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
	return `UPDATE webhook_deliveries SET status = 'sending', next_at = $2, claim_token = $3
		WHERE id IN (SELECT id FROM webhook_deliveries WHERE ` + due + not + ` ORDER BY next_at LIMIT $4) AND ` + due + `
		RETURNING id, endpoint_id, event_id, payload, attempts, expires_at`, args
}

// claimIn is claim through q, a transaction or the writer.
func (s *Service) claimIn(ctx context.Context, q querier, n int, lease time.Duration, skip []string) ([]job, error) {
	token := id.Token(10)
	query, args := claimQuery(s.utc(), lease, token, n, skip)
	rows, err := q.QueryContext(ctx, query, args...)
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
	gone    bool   // the endpoint was removed: nothing to retry
}

func (o outcome) ok() bool { return o.err == "" }

// settle records attempts in one transaction of two statements: each
// delivery delivered, rescheduled with back-off, or dead when its next try
// would come after it expires (one UPDATE over the batch: a statement per
// delivery was the bottleneck on PostgreSQL), and the log rows of the
// attempts it settled. A delivery whose claim was lost is skipped, and its
// attempt not logged, so no attempt number is logged twice. It returns the
// status each settled delivery was left in.
func (s *Service) settle(ctx context.Context, os []outcome) (map[string]string, error) {
	settled, _, err := s.settleClaim(ctx, os, 0, 0, nil)
	return settled, err
}

// settleClaim settles os and then, when n > 0, claims up to n deliveries
// as claim does, in one transaction: on SQLite the dispatcher takes the
// one writer once for both instead of twice, and on PostgreSQL it saves a
// commit. No HTTP is done while it holds the transaction.
func (s *Service) settleClaim(ctx context.Context, os []outcome, n int, lease time.Duration, skip []string) (map[string]string, []job, error) {
	if len(os) == 0 && n <= 0 {
		return nil, nil, nil
	}
	var settled map[string]string
	var claimed []job
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if settled, err = s.settleTx(ctx, tx, os); err != nil {
			return err
		}
		if n > 0 {
			claimed, err = s.claimIn(ctx, tx, n, lease, skip)
		}
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return settled, claimed, nil
}

// settleSizes are the row counts settle's two statements are written for:
// a batch is padded up to the next size with rows that match nothing, so a
// connection runs three texts of each again and again instead of parsing
// one per batch size (on SQLite a 32-row statement took longer to parse
// than to run, and a text per size crowded the till's statements out of
// the statement cache). A bigger batch is settled in chunks of the last.
var settleSizes = [...]int{8, 32, 128}

// settleSize is the size a chunk of n outcomes is padded to.
func settleSize(n int) int {
	for _, s := range settleSizes {
		if n <= s {
			return s
		}
	}
	return settleSizes[len(settleSizes)-1]
}

// settleSQL holds the texts of settle's statements by dialect and size.
var settleSQL sync.Map // settleKey -> [2]string

type settleKey struct {
	d    store.Dialect
	rows int
}

// settleQueries returns settle's UPDATE and INSERT for rows rows in d.
// Each reads its rows from a SELECT ... UNION ALL of parameters; a row
// whose id is NULL is padding, and matches or inserts nothing.
func settleQueries(d store.Dialect, rows int) (update, insert string) {
	k := settleKey{d, rows}
	if q, ok := settleSQL.Load(k); ok {
		return q.([2]string)[0], q.([2]string)[1]
	}
	n := 0
	ph := func() string {
		n++
		if d == store.SQLite {
			return "?"
		}
		return fmt.Sprintf("$%d", n)
	}
	var b strings.Builder
	b.WriteString(`UPDATE webhook_deliveries SET status = v.st, attempts = v.n, next_at = COALESCE(v.nx, webhook_deliveries.next_at),
		delivered_at = COALESCE(v.dl, webhook_deliveries.delivered_at), last_code = v.code, last_error = v.err, claim_token = NULL FROM (`)
	for i := range rows {
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		fmt.Fprintf(&b, "SELECT %s AS id, %s AS tok, %s AS st, CAST(%s AS INTEGER) AS n, %s AS nx, %s AS dl, CAST(%s AS INTEGER) AS code, %s AS err",
			ph(), ph(), ph(), ph(), d.TimeParam(ph()), d.TimeParam(ph()), ph(), ph())
	}
	b.WriteString(`) AS v WHERE webhook_deliveries.id = v.id AND webhook_deliveries.claim_token = v.tok
		AND webhook_deliveries.status = 'sending' RETURNING webhook_deliveries.id`)
	update = b.String()
	n = 0
	b.Reset()
	b.WriteString(`INSERT INTO webhook_attempts (delivery_id, attempt, at, code, latency_us, error)
		SELECT id, n, at, code, lat, err FROM (`)
	for i := range rows {
		if i > 0 {
			b.WriteString(" UNION ALL ")
		}
		fmt.Fprintf(&b, "SELECT %s AS id, CAST(%s AS INTEGER) AS n, %s AS at, CAST(%s AS INTEGER) AS code, CAST(%s AS BIGINT) AS lat, %s AS err",
			ph(), ph(), d.TimeParam(ph()), ph(), ph(), ph())
	}
	b.WriteString(`) AS v WHERE id IS NOT NULL`)
	insert = b.String()
	settleSQL.Store(k, [2]string{update, insert})
	return update, insert
}

// settleTx is settle's work in tx.
func (s *Service) settleTx(ctx context.Context, tx *sql.Tx, os []outcome) (map[string]string, error) {
	settled := map[string]string{}
	last := settleSizes[len(settleSizes)-1]
	for len(os) > 0 {
		chunk := os[:min(len(os), last)]
		os = os[len(chunk):]
		if err := s.settleChunk(ctx, tx, chunk, settled); err != nil {
			return nil, err
		}
	}
	return settled, nil
}

// settleChunk settles at most the last of settleSizes outcomes, adding
// those it settled to settled.
func (s *Service) settleChunk(ctx context.Context, tx *sql.Tx, os []outcome, settled map[string]string) error {
	rows := settleSize(len(os))
	update, insert := settleQueries(s.db.Dialect, rows)
	const cols = 8
	args := make([]any, 0, cols*rows)
	statuses := make(map[string]string, len(os))
	for _, o := range os {
		attempt := o.job.attempts + 1
		var next, delivered sql.NullTime
		status := StatusDelivered
		switch t := o.at.Add(s.opt.Jitter(Backoff(attempt))); {
		case o.ok():
			delivered = sql.NullTime{Time: o.at.Add(o.latency), Valid: true}
		case o.gone || t.After(o.job.expires):
			status = StatusDead
		default:
			status, next = StatusPending, sql.NullTime{Time: t, Valid: true}
		}
		args = append(args, o.job.id, o.job.token, status, attempt, next, delivered, o.code, o.err)
		statuses[o.job.id] = status
	}
	for len(args) < cap(args) {
		args = append(args, nil)
	}
	found := 0
	res, err := tx.QueryContext(ctx, update, args...)
	if err != nil {
		return fmt.Errorf("webhook settle: %w", err)
	}
	for res.Next() {
		var id string
		if err := res.Scan(&id); err != nil {
			res.Close()
			return fmt.Errorf("webhook settle: %w", err)
		}
		settled[id] = statuses[id]
		found++
	}
	res.Close()
	if err := res.Err(); err != nil {
		return fmt.Errorf("webhook settle: %w", err)
	}
	if found == 0 {
		return nil
	}
	// The log rows of the attempts settled: a delivery whose claim was
	// lost is padding here, so no attempt number is logged twice.
	const logCols = 6
	vals := make([]any, 0, logCols*rows)
	for _, o := range os {
		if _, ok := settled[o.job.id]; ok {
			vals = append(vals, o.job.id, o.job.attempts+1, o.at, o.code, o.latency.Microseconds(), o.err)
		}
	}
	for len(vals) < cap(vals) {
		vals = append(vals, nil)
	}
	if _, err := tx.ExecContext(ctx, insert, vals...); err != nil {
		return fmt.Errorf("webhook attempts: %w", err)
	}
	return nil
}
