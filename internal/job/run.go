package job

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/perk-platform/perk/internal/id"
	"github.com/perk-platform/perk/internal/store"
)

// Handler does one kind of job. It resumes from r.Job.Progress when a
// previous run saved some, saves its own progress with r.Checkpoint in the
// transactions that do the work, and stops when ctx ends (shutdown, cancel
// or a lost lease): what it committed stays and the next run resumes. It
// returns nil when done, Permanent(err) when retrying cannot help, or an
// error to be retried after Backoff.
type Handler func(ctx context.Context, r *Run) error

// Options configure a Queue.
type Options struct {
	// Node names this instance's data folder (jobs whose input file is
	// there carry it). Required: Recover releases the jobs of this node's
	// dead processes.
	Node     string
	Now      func() time.Time // the clock for run_at and leases
	Log      *slog.Logger
	Lease    time.Duration // how long a claim holds without a heartbeat (30 s)
	Poll     time.Duration // idle wait between claims (1 s)
	Parallel int           // jobs run at once (2)
}

// Queue claims and runs jobs of the kinds it has handlers for.
type Queue struct {
	db       *store.DB
	opt      Options
	owner    string // node + "/" + this process
	handlers map[string]Handler
	wake     chan struct{}
}

// New returns a queue running jobs from db's jobs table. Register the
// handlers with Handle before Run.
func New(db *store.DB, opt Options) *Queue {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Lease <= 0 {
		opt.Lease = 30 * time.Second
	}
	if opt.Poll <= 0 {
		opt.Poll = time.Second
	}
	if opt.Parallel <= 0 {
		opt.Parallel = 2
	}
	return &Queue{db: db, opt: opt, owner: opt.Node + "/" + id.Token(5), handlers: map[string]Handler{}, wake: make(chan struct{}, 1)}
}

// Handle registers the handler of a kind.
func (q *Queue) Handle(kind string, h Handler) { q.handlers[kind] = h }

// Node is the queue's node name, for the jobs that must run here.
func (q *Queue) Node() string { return q.opt.Node }

// DB is the queue's database, for handlers' transactions.
func (q *Queue) DB() *store.DB { return q.db }

// Now is the queue's clock.
func (q *Queue) Now() time.Time { return q.opt.Now().UTC() }

// Wake makes an idle Run look for work at once (a job was just enqueued).
func (q *Queue) Wake() {
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// Recover makes the jobs that an earlier process of this node was running
// claimable at once: a process starting on a node knows none of that
// node's jobs are running, so they need not wait for their leases to run
// out. The interrupted run counts as an attempt (a job that kills its
// process every time ends failed). It returns how many it released.
func (q *Queue) Recover(ctx context.Context) (int, error) {
	if q.opt.Node == "" {
		return 0, errors.New("job: recover needs a node name")
	}
	res, err := q.db.W.ExecContext(ctx, `UPDATE jobs SET state = 'queued', lease_owner = '', lease_until = NULL, run_at = $2
		WHERE state = 'running' AND lease_owner LIKE $1`, q.opt.Node+"/%", q.Now())
	if err != nil {
		return 0, fmt.Errorf("job recover: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// claimable is the condition of a job this queue may claim: due and
// queued, or running under a lease that ran out (its runner died), of a
// kind it handles, on no node or this one. It is repeated in the UPDATE so
// that on PostgreSQL a row another runner claimed meanwhile is skipped.
func (q *Queue) claimable(args *[]any) string {
	*args = append(*args, q.Now(), q.opt.Node)
	kinds := make([]string, 0, len(q.handlers))
	for k := range q.handlers {
		*args = append(*args, k)
		kinds = append(kinds, fmt.Sprintf("$%d", len(*args)))
	}
	return `((state = 'queued' AND run_at <= $1) OR (state = 'running' AND lease_until <= $1)) AND node IN ('', $2)
		AND kind IN (` + strings.Join(kinds, ", ") + `)`
}

// Claim takes the most overdue claimable job under a fresh lease, or
// returns nil when there is none.
func (q *Queue) Claim(ctx context.Context) (*Run, error) {
	if len(q.handlers) == 0 {
		return nil, nil
	}
	var args []any
	cond := q.claimable(&args)
	token := q.owner + "/" + id.Token(5)
	args = append(args, token, q.Now().Add(q.opt.Lease))
	n := len(args)
	j, err := scan(q.db.W.QueryRowContext(ctx, fmt.Sprintf(`UPDATE jobs SET state = 'running', lease_owner = $%d, lease_until = $%d,
		attempts = attempts + 1 WHERE id = (SELECT id FROM jobs WHERE %s ORDER BY run_at, id LIMIT 1) AND %s
		RETURNING `+columns, n-1, n, cond, cond), args...))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("job claim: %w", err)
	}
	return &Run{Job: j, q: q, token: token}, nil
}

// Run is one claimed run of a job, handed to its Handler.
type Run struct {
	Job   *Job
	q     *Queue
	token string
	mu    sync.Mutex // guards res and again
	res   any
	again time.Time
}

// ErrLeaseLost is returned by Checkpoint when another runner took the job
// over (this one stalled past its lease): the transaction must roll back.
var ErrLeaseLost = errors.New("job: lease lost to another runner")

// ErrCancelled is the cause of a handler's context when the job was
// cancelled.
var ErrCancelled = errors.New("job: cancelled")

// Checkpoint saves the job's progress in tx, the transaction that did the
// work progress describes, so a restart resumes exactly after it. It fails
// with ErrLeaseLost if this run no longer holds the job.
func (r *Run) Checkpoint(ctx context.Context, tx *sql.Tx, progress any) error {
	b, err := json.Marshal(progress)
	if err != nil {
		return fmt.Errorf("job progress: %w", err)
	}
	res, err := tx.ExecContext(ctx, `UPDATE jobs SET progress = $3 WHERE id = $1 AND lease_owner = $2 AND state = 'running'`,
		r.Job.ID, r.token, string(b))
	if err != nil {
		return fmt.Errorf("job progress: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrLeaseLost
	}
	r.Job.Progress = b
	return nil
}

// Save is Checkpoint in a transaction of its own, for work whose effects
// are files rather than rows.
func (r *Run) Save(ctx context.Context, progress any) error {
	return r.q.db.Tx(ctx, func(tx *sql.Tx) error { return r.Checkpoint(ctx, tx, progress) })
}

// Resume decodes the progress saved by an earlier run into v, reporting
// whether there was any.
func (r *Run) Resume(v any) (bool, error) {
	if len(r.Job.Progress) == 0 {
		return false, nil
	}
	if err := json.Unmarshal(r.Job.Progress, v); err != nil {
		return false, fmt.Errorf("job %s progress: %w", r.Job.ID, err)
	}
	return true, nil
}

// Payload decodes the job's payload into v.
func (r *Run) Payload(v any) error {
	if err := json.Unmarshal(r.Job.Payload, v); err != nil {
		return Permanent(fmt.Errorf("job %s payload: %w", r.Job.ID, err))
	}
	return nil
}

// SetResult is recorded as the job's result when the handler returns nil.
func (r *Run) SetResult(v any) {
	r.mu.Lock()
	r.res = v
	r.mu.Unlock()
}

// Again makes a recurring job (a sweep) due again at t when its handler
// returns nil, instead of done: one row stands for the recurring work.
func (r *Run) Again(t time.Time) {
	r.mu.Lock()
	r.again = t
	r.mu.Unlock()
}

// Last reports whether a failure of this run fails the job for good.
func (r *Run) Last() bool { return r.Job.Attempts >= r.Job.MaxAttempts }

// Run claims and runs jobs, up to Parallel at once, until ctx ends; then
// it waits for the runs in flight, whose handlers see ctx end and stop at
// their next checkpoint, and gives their jobs back for the next start.
func (q *Queue) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	slots := make(chan struct{}, q.opt.Parallel)
	for {
		select {
		case slots <- struct{}{}:
		case <-ctx.Done():
			return
		}
		r, err := q.Claim(ctx)
		if err != nil && ctx.Err() == nil {
			q.opt.Log.Error("job claim", "err", err)
		}
		if r != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { <-slots }()
				q.execute(ctx, r)
			}()
			continue
		}
		<-slots
		t := time.NewTimer(q.opt.Poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-q.wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// RunDue runs every claimable job one after another until none is left,
// and returns how many runs it made: for tests and commands that step an
// injected clock, where Run's polling adds nothing.
func (q *Queue) RunDue(ctx context.Context) (int, error) {
	n := 0
	for {
		r, err := q.Claim(ctx)
		if err != nil || r == nil {
			return n, err
		}
		q.execute(ctx, r)
		n++
	}
}

// execute runs a claimed job's handler under a heartbeat and settles it.
func (q *Queue) execute(parent context.Context, r *Run) {
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	beat := make(chan struct{})
	var beats sync.WaitGroup
	beats.Add(1)
	go func() { defer beats.Done(); q.heartbeat(ctx, r, cancel, beat) }()
	var err error
	if r.Job.Attempts > r.Job.MaxAttempts {
		// Claimed again after its runner died that many times: the job
		// itself is what kills the process.
		err = Permanent(fmt.Errorf("interrupted %d times", r.Job.Attempts-1))
	} else {
		err = q.call(ctx, r)
	}
	close(beat)
	beats.Wait()
	cause := context.Cause(ctx)
	settle := context.WithoutCancel(parent)
	switch {
	case errors.Is(cause, ErrLeaseLost):
		q.opt.Log.Warn("job lease lost", "job", r.Job.ID, "kind", r.Job.Kind)
	case err == nil:
		r.mu.Lock()
		res, again := r.res, r.again
		r.mu.Unlock()
		if !again.IsZero() {
			q.requeue(settle, r, again, res)
			break
		}
		q.finish(settle, r, Done, res, "")
	case errors.Is(cause, ErrCancelled):
		q.finish(settle, r, Cancelled, nil, "cancelled")
	case parent.Err() != nil:
		// Shutdown, not failure: the job goes back, resumable, and the
		// interrupted run does not count as an attempt.
		q.release(settle, r)
	case IsPermanent(err) || r.Last():
		q.opt.Log.Error("job failed", "job", r.Job.ID, "kind", r.Job.Kind, "attempts", r.Job.Attempts, "err", err)
		q.finish(settle, r, Failed, nil, err.Error())
	default:
		q.opt.Log.Warn("job will be retried", "job", r.Job.ID, "kind", r.Job.Kind, "attempts", r.Job.Attempts, "err", err)
		q.retry(settle, r, err)
	}
}

// call runs the handler, turning a panic into a failure of the job.
func (q *Queue) call(ctx context.Context, r *Run) (err error) {
	h := q.handlers[r.Job.Kind]
	defer func() {
		if p := recover(); p != nil {
			err = Permanent(fmt.Errorf("panic: %v", p))
		}
	}()
	return h(ctx, r)
}

// heartbeat extends the lease every third of it until beat closes; it
// cancels the run when the job was cancelled or taken over.
func (q *Queue) heartbeat(ctx context.Context, r *Run, cancel context.CancelCauseFunc, beat <-chan struct{}) {
	t := time.NewTicker(q.opt.Lease / 3)
	defer t.Stop()
	for {
		select {
		case <-beat:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var stop bool
		err := q.db.W.QueryRowContext(ctx, `UPDATE jobs SET lease_until = $3 WHERE id = $1 AND lease_owner = $2 AND state = 'running'
			RETURNING cancel`, r.Job.ID, r.token, q.Now().Add(q.opt.Lease)).Scan(&stop)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			cancel(ErrLeaseLost)
			return
		case err != nil:
			if ctx.Err() == nil {
				q.opt.Log.Error("job heartbeat", "job", r.Job.ID, "err", err)
			}
		case stop:
			cancel(ErrCancelled)
			return
		}
	}
}

// Heartbeat extends r's lease now, as the heartbeat goroutine does, and
// reports whether the job was asked to stop: for tests that drive runs on
// an injected clock.
func (r *Run) Heartbeat(ctx context.Context) (cancelled bool, err error) {
	err = r.q.db.W.QueryRowContext(ctx, `UPDATE jobs SET lease_until = $3 WHERE id = $1 AND lease_owner = $2 AND state = 'running'
		RETURNING cancel`, r.Job.ID, r.token, r.q.Now().Add(r.q.opt.Lease)).Scan(&cancelled)
	if errors.Is(err, sql.ErrNoRows) {
		return false, ErrLeaseLost
	}
	return cancelled, err
}

// finish records a job's end, if this run still holds it.
func (q *Queue) finish(ctx context.Context, r *Run, st State, result any, msg string) {
	res := ""
	if result != nil {
		b, err := json.Marshal(result)
		if err != nil {
			st, msg = Failed, "result: "+err.Error()
		}
		res = string(b)
	}
	if _, err := q.db.W.ExecContext(ctx, `UPDATE jobs SET state = $3, result = $4, error = $5, finished_at = $6, lease_owner = '',
		lease_until = NULL WHERE id = $1 AND lease_owner = $2`, r.Job.ID, r.token, string(st), res, msg, q.Now()); err != nil {
		q.opt.Log.Error("job finish", "job", r.Job.ID, "err", err)
	}
	r.Job.State, r.Job.Error = st, msg
}

// retry queues the job again after Backoff of its attempts.
func (q *Queue) retry(ctx context.Context, r *Run, cause error) {
	at := q.Now().Add(Backoff(r.Job.Attempts))
	if _, err := q.db.W.ExecContext(ctx, `UPDATE jobs SET state = 'queued', run_at = $3, error = $4, lease_owner = '', lease_until = NULL
		WHERE id = $1 AND lease_owner = $2`, r.Job.ID, r.token, at, cause.Error()); err != nil {
		q.opt.Log.Error("job retry", "job", r.Job.ID, "err", err)
	}
	r.Job.State, r.Job.RunAt, r.Job.Error = Queued, at, cause.Error()
}

// release gives an interrupted job back, due now, its attempt uncounted.
func (q *Queue) release(ctx context.Context, r *Run) {
	if _, err := q.db.W.ExecContext(ctx, `UPDATE jobs SET state = 'queued', run_at = $3, attempts = attempts - 1, lease_owner = '',
		lease_until = NULL WHERE id = $1 AND lease_owner = $2`, r.Job.ID, r.token, q.Now()); err != nil {
		q.opt.Log.Error("job release", "job", r.Job.ID, "err", err)
	}
	r.Job.State = Queued
}

// requeue makes a recurring job due again at t, as new.
// The last run's result stays on the row.
func (q *Queue) requeue(ctx context.Context, r *Run, t time.Time, result any) {
	res, _ := json.Marshal(result)
	if result == nil {
		res = nil
	}
	if _, err := q.db.W.ExecContext(ctx, `UPDATE jobs SET state = 'queued', run_at = $3, attempts = 0, progress = '', error = '',
		result = $4, lease_owner = '', lease_until = NULL WHERE id = $1 AND lease_owner = $2`, r.Job.ID, r.token, t.UTC(),
		string(res)); err != nil {
		q.opt.Log.Error("job requeue", "job", r.Job.ID, "err", err)
	}
	r.Job.State, r.Job.RunAt = Queued, t.UTC()
}
