package member

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/id"
	"github.com/perk-platform/perk/internal/job"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/tabular"
)

// ImportJob is the record of one member import, whichever way it was started
// (CLI or upload), so operators can see every import and its rejected rows.
type ImportJob struct {
	ID       string `json:"id"`
	Source   string `json:"source,omitempty"`
	Filename string `json:"filename,omitempty"`
	// SyncRun is set when the import is a CRM subset sync: its run id,
	// which a resumed run keeps. Full: the file is the whole subset.
	SyncRun    string      `json:"sync_run,omitempty"`
	Full       bool        `json:"full,omitempty"`
	Status     string      `json:"status"` // running, done, failed
	Stats      ImportStats `json:"stats"`
	Error      string      `json:"error,omitempty"`
	StartedAt  time.Time   `json:"started_at"`
	FinishedAt *time.Time  `json:"finished_at,omitempty"`
}

// Import job states. An import waiting for its job's next attempt (after a
// restart, or a database error) is still running.
const (
	JobRunning   = "running"
	JobDone      = "done"
	JobFailed    = "failed"
	JobCancelled = "cancelled"
)

// KindImport is the job kind of an uploaded member file.
const KindImport = "member.import"

// ErrJobNotFound is returned for an unknown import id.
var ErrJobNotFound = problem.New(problem.NotFound, "import_not_found", "import not found")

// Jobs runs imports and records them: from the command line, at once
// (Run); uploaded, as durable jobs (Start) that the job queue resumes
// after a restart from their last committed chunk.
type Jobs struct {
	svc   *Service
	queue *job.Queue
}

// NewJobs returns a runner for s. Call FailInterrupted at start; UseQueue
// before Start.
func NewJobs(s *Service) *Jobs { return &Jobs{svc: s} }

// UseQueue makes Start enqueue uploads on q, and q run them.
func (j *Jobs) UseQueue(q *job.Queue) {
	j.queue = q
	q.Handle(KindImport, j.runJob)
}

// FailInterrupted marks imports left running by a command-line import that
// died as failed (an upload is a job, which resumes). Re-running the file
// is safe: imports are idempotent.
func (j *Jobs) FailInterrupted(ctx context.Context) error {
	_, err := j.svc.db.W.ExecContext(ctx, `UPDATE imports SET status = 'failed', error = 'interrupted; import the file again', finished_at = $1
		WHERE status = 'running' AND id NOT IN (SELECT id FROM jobs)`, nowUTC(j.svc.opt.Now))
	return err
}

// Run imports r synchronously, recording the job and its rejected rows.
// opt.OnError and opt.OnProgress are still called, after the recording.
func (j *Jobs) Run(ctx context.Context, r io.Reader, filename string, opt ImportOptions) (*ImportJob, error) {
	job, err := j.create(ctx, nil, filename, opt)
	if err != nil {
		return nil, err
	}
	return j.run(ctx, job, r, opt)
}

// importPayload is what an import job needs: the upload, which stays in
// the data folder until the job ends, and the options.
type importPayload struct {
	Path         string `json:"path"`
	NoWelcome    bool   `json:"no_welcome,omitempty"`
	UpdatePhones bool   `json:"update_phones,omitempty"`
	// Sync and Full make the import a CRM subset sync (ImportOptions):
	// the run id is drawn once, when the job is enqueued, so that every
	// run of the job marks the members it names with the same one.
	Sync string `json:"sync,omitempty"`
	Full bool   `json:"full,omitempty"`
}

// Start records an import of the file at path and enqueues its job, which
// removes the file when it ends. The file must be in this node's data
// folder: it is the job's input until then, across restarts. Only opt's
// Source, NoWelcome, UpdatePhones, Sync and Full are used: with Sync (a run
// id from NewSyncRun) the job is a CRM subset sync, resumable like any
// import, whose Full end (members left out leave the subset) counts every
// member once however often it is interrupted.
func (j *Jobs) Start(ctx context.Context, path, filename string, opt ImportOptions) (*ImportJob, error) {
	if j.queue == nil {
		return nil, errors.New("member imports: no job queue")
	}
	var rec *ImportJob
	err := j.svc.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		if rec, err = j.create(ctx, tx, filename, opt); err != nil {
			return err
		}
		return job.Enqueue(ctx, tx, job.Spec{ID: rec.ID, Kind: KindImport, Node: j.queue.Node(),
			Payload: importPayload{Path: path, NoWelcome: opt.NoWelcome, UpdatePhones: opt.UpdatePhones,
				Sync: opt.Sync, Full: opt.Full && opt.Sync != ""}}, rec.StartedAt)
	})
	if err != nil {
		return nil, err
	}
	j.queue.Wake()
	return rec, nil
}

// runJob is the import job's handler: it imports the upload from the
// cursor its last run committed, writing the rejected rows, the counts and
// the cursor in each chunk's transaction.
func (j *Jobs) runJob(ctx context.Context, r *job.Run) error {
	var p importPayload
	if err := r.Payload(&p); err != nil {
		return err
	}
	rec, err := j.Get(ctx, r.Job.ID)
	if err != nil {
		return err
	}
	opt := ImportOptions{Source: rec.Source, NoWelcome: p.NoWelcome, UpdatePhones: p.UpdatePhones, Sync: p.Sync, Full: p.Full}
	if p.Sync != "" {
		opt.BatchSize = 5000 // as perk crm sync: a subset file is big and mostly unchanged
	}
	var cur ImportCursor
	if ok, err := r.Resume(&cur); err != nil {
		return err
	} else if ok {
		opt.Resume = &cur
		j.svc.opt.Log.Info("import resumed", "import", rec.ID, "after_row", cur.Row, "attempt", r.Job.Attempts)
	}
	opt.Checkpoint = func(ctx context.Context, tx *sql.Tx, c ImportCursor, rejected []*tabular.RowError) error {
		if len(rejected) > 0 {
			if err := insertImportErrors(ctx, tx, j.svc.db.Dialect, rec.ID, rejected); err != nil {
				return err
			}
		}
		st := c.Stats
		if _, err := tx.ExecContext(ctx, `UPDATE imports SET rows_read = $2, created = $3, updated = $4, unchanged = $5, rejected = $6,
			left_subset = $7 WHERE id = $1`, rec.ID, st.Rows, st.Created, st.Updated, st.Unchanged, st.Rejected, st.LeftSubset); err != nil {
			return fmt.Errorf("record import progress: %w", err)
		}
		return r.Checkpoint(ctx, tx, c)
	}
	f, err := os.Open(p.Path)
	if err != nil {
		err = job.Permanent(fmt.Errorf("open upload: %w", err))
		j.finish(context.WithoutCancel(ctx), rec, err)
		return err
	}
	defer f.Close()
	st, err := j.svc.Import(ctx, f, opt)
	rec.Stats = st
	switch {
	case err == nil:
		r.SetResult(st)
	case errors.Is(context.Cause(ctx), job.ErrCancelled):
		rec.Status = JobCancelled
	case ctx.Err() != nil:
		return err // shutdown: the next start resumes
	case isFileError(err):
		err = job.Permanent(err)
	case !r.Last():
		j.svc.opt.Log.Warn("import will be retried", "import", rec.ID, "err", err)
		return err
	}
	f.Close()
	os.Remove(p.Path)
	j.finish(context.WithoutCancel(ctx), rec, err)
	return err
}

// isFileError tells a file Perk cannot read (retrying will not help) from
// a database failure.
func isFileError(err error) bool {
	var he *tabular.HeaderError
	return errors.As(err, &he) || errors.Is(err, tabular.ErrNoHeader) || errors.Is(err, tabular.ErrUnsupportedEncoding)
}

// Cancel stops an upload's import: at once if it waits, or at its next
// heartbeat. The rows it committed stay.
func (j *Jobs) Cancel(ctx context.Context, id string) (*ImportJob, error) {
	rec, err := j.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	st, err := job.Cancel(ctx, j.svc.db, id, nowUTC(j.svc.opt.Now))
	if errors.Is(err, job.ErrNotFound) {
		return nil, problem.New(problem.Conflict, "import_not_cancellable", "a command-line import cannot be cancelled here")
	}
	if err != nil {
		return nil, err
	}
	if st == job.Cancelled && rec.Status == JobRunning {
		// It never ran (or its runner is gone): nobody else removes the upload.
		if jb, err := job.Get(ctx, j.svc.db, id); err == nil {
			var p importPayload
			if json.Unmarshal(jb.Payload, &p) == nil && p.Path != "" {
				os.Remove(p.Path)
			}
		}
		rec.Status = JobCancelled
		j.finish(ctx, rec, errors.New("cancelled"))
	}
	return j.Get(ctx, id)
}

// create records an import, in tx if not nil.
func (j *Jobs) create(ctx context.Context, tx *sql.Tx, filename string, opt ImportOptions) (*ImportJob, error) {
	now := nowUTC(j.svc.opt.Now)
	job := &ImportJob{ID: id.New("imp", now), Source: opt.Source, Filename: filename, SyncRun: opt.Sync,
		Full: opt.Sync != "" && opt.Full, Status: JobRunning, StartedAt: now}
	var e interface {
		ExecContext(context.Context, string, ...any) (sql.Result, error)
	} = j.svc.db.W
	if tx != nil {
		e = tx
	}
	if _, err := e.ExecContext(ctx, `INSERT INTO imports (id, source, filename, sync_run, full_sync, status, started_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, job.ID, job.Source, filename, job.SyncRun, job.Full, job.Status, now); err != nil {
		return nil, fmt.Errorf("record import: %w", err)
	}
	return job, nil
}

func (j *Jobs) run(ctx context.Context, job *ImportJob, r io.Reader, opt ImportOptions) (*ImportJob, error) {
	var pending []*tabular.RowError
	flush := func() error {
		if len(pending) == 0 {
			return nil
		}
		err := insertImportErrors(ctx, j.svc.db.W, j.svc.db.Dialect, job.ID, pending)
		pending = pending[:0]
		return err
	}
	userErr, userProgress := opt.OnError, opt.OnProgress
	opt.OnError = func(e *tabular.RowError) error {
		pending = append(pending, e)
		if len(pending) >= 500 {
			if err := flush(); err != nil {
				return err
			}
		}
		if userErr != nil {
			return userErr(e)
		}
		return nil
	}
	opt.OnProgress = func(st ImportStats) {
		if err := flush(); err != nil {
			j.svc.opt.Log.Error("record import errors", "import", job.ID, "err", err)
		}
		j.svc.db.W.ExecContext(ctx, `UPDATE imports SET rows_read = $2, created = $3, updated = $4, unchanged = $5, rejected = $6
			WHERE id = $1`, job.ID, st.Rows, st.Created, st.Updated, st.Unchanged, st.Rejected)
		if userProgress != nil {
			userProgress(st)
		}
	}
	st, err := j.svc.Import(ctx, r, opt)
	job.Stats = st
	err = errors.Join(err, flush())
	j.finish(context.WithoutCancel(ctx), job, err)
	return job, err
}

func (j *Jobs) finish(ctx context.Context, job *ImportJob, runErr error) {
	now := nowUTC(j.svc.opt.Now)
	job.FinishedAt = &now
	switch {
	case job.Status == JobCancelled:
		job.Error = "cancelled"
	case runErr != nil:
		job.Status, job.Error = JobFailed, runErr.Error()
	default:
		job.Status = JobDone
	}
	st := job.Stats
	if _, err := j.svc.db.W.ExecContext(ctx, `UPDATE imports SET status = $2, error = $3, finished_at = $4, rows_read = $5,
		created = $6, updated = $7, unchanged = $8, rejected = $9, left_subset = $10 WHERE id = $1`,
		job.ID, job.Status, job.Error, now, st.Rows, st.Created, st.Updated, st.Unchanged, st.Rejected, st.LeftSubset); err != nil {
		j.svc.opt.Log.Error("record import result", "import", job.ID, "err", err)
	}
}

// Get returns an import's current state.
func (j *Jobs) Get(ctx context.Context, jobID string) (*ImportJob, error) {
	job, err := scanJob(j.svc.db.R.QueryRowContext(ctx, `SELECT `+jobColumns+` FROM imports WHERE id = $1`, jobID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrJobNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("import status: %w", err)
	}
	return job, nil
}

const jobColumns = `id, source, filename, sync_run, full_sync, status, rows_read, created, updated, unchanged, rejected, left_subset,
	error, started_at, finished_at`

func scanJob(row interface{ Scan(...any) error }) (*ImportJob, error) {
	var job ImportJob
	var finished sql.NullTime
	st := &job.Stats
	if err := row.Scan(&job.ID, &job.Source, &job.Filename, &job.SyncRun, &job.Full, &job.Status, &st.Rows, &st.Created,
		&st.Updated, &st.Unchanged, &st.Rejected, &st.LeftSubset, &job.Error, &job.StartedAt, &finished); err != nil {
		return nil, err
	}
	job.StartedAt = job.StartedAt.UTC()
	if finished.Valid {
		t := finished.Time.UTC()
		job.FinishedAt = &t
	}
	return &job, nil
}

// List returns the most recent imports, newest first.
func (j *Jobs) List(ctx context.Context, limit int) ([]*ImportJob, error) {
	rows, err := j.svc.db.R.QueryContext(ctx, `SELECT `+jobColumns+` FROM imports ORDER BY started_at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("list imports: %w", err)
	}
	defer rows.Close()
	out := []*ImportJob{}
	for rows.Next() {
		job, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, job)
	}
	return out, rows.Err()
}

// WriteErrors writes an import's rejected rows as an errors CSV.
func (j *Jobs) WriteErrors(ctx context.Context, jobID string, w io.Writer) error {
	if _, err := j.Get(ctx, jobID); err != nil {
		return err
	}
	rows, err := j.svc.db.R.QueryContext(ctx, `SELECT row_num, col, reason FROM import_errors WHERE import_id = $1 ORDER BY row_num`, jobID)
	if err != nil {
		return fmt.Errorf("import errors: %w", err)
	}
	defer rows.Close()
	ew := tabular.NewErrorWriter(w)
	for rows.Next() {
		var e tabular.RowError
		if err := rows.Scan(&e.Row, &e.Column, &e.Reason); err != nil {
			return fmt.Errorf("import errors: %w", err)
		}
		if err := ew.Write(&e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return ew.Flush()
}

func insertImportErrors(ctx context.Context, e interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, d store.Dialect, jobID string, es []*tabular.RowError) error {
	var b strings.Builder
	b.WriteString(`INSERT INTO import_errors (import_id, row_num, col, reason) VALUES `)
	args := make([]any, 0, len(es)*4)
	for i, e := range es {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + d.Placeholders(len(args)+1, 4) + ")")
		args = append(args, jobID, e.Row, e.Column, e.Reason)
	}
	if _, err := e.ExecContext(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("record import errors: %w", err)
	}
	return nil
}
