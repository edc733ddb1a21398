// Package job runs Perk's long background work (member imports, batch
// transaction files, the points expiry sweep) durably: a job is a row of the
// jobs table, claimed under a lease that a heartbeat extends, retried with
// back-off, resumed after a crash or a restart from the progress cursor its
// handler saved in the same transaction as the work the cursor describes,
// and cancellable. It is the outbox-and-lease pattern of the SMS queue and
// the webhook outbox, for work that takes minutes rather than milliseconds,
// on SQLite and PostgreSQL alike (docs/architecture.md says why not river).
//
// It knows nothing of what a job does: a kind's Handler does the work and
// keeps its domain record (imports, batch_jobs) up to date.
package job

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
)

// State is where a job is in its life.
type State string

// Job states.
const (
	Queued    State = "queued"    // waiting for run_at
	Running   State = "running"   // claimed under a lease
	Done      State = "done"      // its handler finished
	Failed    State = "failed"    // a permanent error, or out of attempts
	Cancelled State = "cancelled" // stopped on request
)

// Job is one row of the jobs table.
type Job struct {
	ID          string          `json:"id"`
	Kind        string          `json:"kind"`
	Node        string          `json:"node,omitempty"`
	Payload     json.RawMessage `json:"payload"`
	State       State           `json:"state"`
	Attempts    int             `json:"attempts"`
	MaxAttempts int             `json:"max_attempts"`
	RunAt       time.Time       `json:"run_at"`
	Progress    json.RawMessage `json:"progress,omitempty"`
	Result      json.RawMessage `json:"result,omitempty"`
	Error       string          `json:"error,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	FinishedAt  *time.Time      `json:"finished_at,omitempty"`
	leaseOwner  string
}

// Spec is a job to enqueue.
type Spec struct {
	ID   string // the domain record's id (imp_..., bat_...), so both are found by one id
	Kind string
	// Node ties the job to the instance whose data folder holds its input
	// file; "" lets any instance run it.
	Node        string
	Payload     any       // marshalled to JSON
	RunAt       time.Time // zero: now
	MaxAttempts int       // 0: 5
}

// Execer is a transaction or a pool: a job is enqueued in the transaction
// that records the work it stands for.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// ErrNotFound is returned for an unknown job id.
var ErrNotFound = problem.New(problem.NotFound, "job_not_found", "job not found")

// Enqueue adds a job, due at s.RunAt (now if zero). A job whose id exists
// already is an error (store.UniqueViolation tells).
func Enqueue(ctx context.Context, e Execer, s Spec, now time.Time) error {
	payload, err := json.Marshal(s.Payload)
	if err != nil {
		return fmt.Errorf("job %s: payload: %w", s.Kind, err)
	}
	if s.Payload == nil {
		payload = []byte(`{}`)
	}
	runAt := s.RunAt
	if runAt.IsZero() {
		runAt = now
	}
	if s.MaxAttempts <= 0 {
		s.MaxAttempts = 5
	}
	if _, err := e.ExecContext(ctx, `INSERT INTO jobs (id, kind, node, payload, state, max_attempts, run_at, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, s.ID, s.Kind, s.Node, string(payload), string(Queued), s.MaxAttempts,
		runAt.UTC(), now.UTC()); err != nil {
		return fmt.Errorf("enqueue job %s: %w", s.Kind, err)
	}
	return nil
}

// EnqueueOnce enqueues s unless a job with its id is queued or running:
// for recurring work (a sweep) that must exist once however many
// instances start. It reports whether it enqueued. A finished job of the
// same id is replaced.
func EnqueueOnce(ctx context.Context, db *store.DB, s Spec, now time.Time) (bool, error) {
	added := false
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		var state string
		err := tx.QueryRowContext(ctx, `SELECT state FROM jobs WHERE id = $1`, s.ID).Scan(&state)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return fmt.Errorf("job %s: %w", s.ID, err)
		case state == string(Queued) || state == string(Running):
			return nil
		default:
			if _, err := tx.ExecContext(ctx, `DELETE FROM jobs WHERE id = $1`, s.ID); err != nil {
				return fmt.Errorf("job %s: %w", s.ID, err)
			}
		}
		added = true
		return Enqueue(ctx, tx, s, now)
	})
	if _, ok := store.UniqueViolation(err); ok {
		return false, nil // another instance enqueued it meanwhile
	}
	return added, err
}

const columns = `id, kind, node, payload, state, attempts, max_attempts, run_at, progress, result, error, created_at, finished_at, lease_owner`

func scan(row interface{ Scan(...any) error }) (*Job, error) {
	var j Job
	var payload, progress, result, state string
	var fin sql.NullTime
	if err := row.Scan(&j.ID, &j.Kind, &j.Node, &payload, &state, &j.Attempts, &j.MaxAttempts, &j.RunAt, &progress, &result,
		&j.Error, &j.CreatedAt, &fin, &j.leaseOwner); err != nil {
		return nil, err
	}
	j.State, j.Payload = State(state), json.RawMessage(payload)
	if progress != "" {
		j.Progress = json.RawMessage(progress)
	}
	if result != "" {
		j.Result = json.RawMessage(result)
	}
	j.RunAt, j.CreatedAt = j.RunAt.UTC(), j.CreatedAt.UTC()
	if fin.Valid {
		t := fin.Time.UTC()
		j.FinishedAt = &t
	}
	return &j, nil
}

// Get returns a job.
func Get(ctx context.Context, db *store.DB, id string) (*Job, error) {
	j, err := scan(db.R.QueryRowContext(ctx, `SELECT `+columns+` FROM jobs WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("job %s: %w", id, err)
	}
	return j, nil
}

// Cancel stops a job: a queued one, or one whose runner died (its lease ran
// out), is cancelled at once; a running one is asked to stop and stops at
// its runner's next heartbeat. It reports the state the job has now; a
// finished job is left as it is.
func Cancel(ctx context.Context, db *store.DB, id string, now time.Time) (State, error) {
	now = now.UTC()
	res, err := db.W.ExecContext(ctx, `UPDATE jobs SET state = 'cancelled', finished_at = $2, lease_owner = '', lease_until = NULL,
		error = 'cancelled' WHERE id = $1 AND (state = 'queued' OR (state = 'running' AND lease_until <= $2))`, id, now)
	if err != nil {
		return "", fmt.Errorf("cancel job: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return Cancelled, nil
	}
	if _, err := db.W.ExecContext(ctx, `UPDATE jobs SET cancel = TRUE WHERE id = $1 AND state = 'running'`, id); err != nil {
		return "", fmt.Errorf("cancel job: %w", err)
	}
	j, err := Get(ctx, db, id)
	if err != nil {
		return "", err
	}
	return j.State, nil
}

// permanent marks an error retrying cannot mend.
type permanent struct{ err error }

func (p permanent) Error() string { return p.err.Error() }
func (p permanent) Unwrap() error { return p.err }

// Permanent wraps err so that the job fails at once instead of being
// retried: a file that cannot be read will not read better later.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanent{err}
}

// IsPermanent reports whether err was marked Permanent.
func IsPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p)
}

// Backoff is the wait before retry n (1-based) of a failed job: 10 s,
// doubling, at most 10 min. No jitter: jobs are few and long, and a test
// steps the clock to the exact retry time.
func Backoff(n int) time.Duration {
	d := 10 * time.Second
	for i := 1; i < n && d < 10*time.Minute; i++ {
		d *= 2
	}
	return min(d, 10*time.Minute)
}
