package member

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/perk-platform/perk/internal/id"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/tabular"
)

// ImportJob is the record of one member import, whichever way it was started
// (CLI or upload), so operators can see every import and its rejected rows.
type ImportJob struct {
	ID         string      `json:"id"`
	Source     string      `json:"source,omitempty"`
	Filename   string      `json:"filename,omitempty"`
	Status     string      `json:"status"` // running, done, failed
	Stats      ImportStats `json:"stats"`
	Error      string      `json:"error,omitempty"`
	StartedAt  time.Time   `json:"started_at"`
	FinishedAt *time.Time  `json:"finished_at,omitempty"`
}

// Import job states.
const (
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// ErrJobNotFound is returned for an unknown import id.
var ErrJobNotFound = problem.New(problem.NotFound, "import_not_found", "import not found")

// Jobs runs imports in the background and records them.
type Jobs struct {
	svc *Service
	wg  sync.WaitGroup
}

// NewJobs returns a runner for s. Call FailInterrupted at start and Wait at
// shutdown.
func NewJobs(s *Service) *Jobs { return &Jobs{svc: s} }

// FailInterrupted marks imports left running by a previous process as
// failed. Re-running the file is safe: imports are idempotent.
func (j *Jobs) FailInterrupted(ctx context.Context) error {
	_, err := j.svc.db.W.ExecContext(ctx, `UPDATE imports SET status = 'failed', error = 'interrupted by a restart; import the file again', finished_at = $1
		WHERE status = 'running'`, nowUTC(j.svc.opt.Now))
	return err
}

// Run imports r synchronously, recording the job and its rejected rows.
// opt.OnError and opt.OnProgress are still called, after the recording.
func (j *Jobs) Run(ctx context.Context, r io.Reader, filename string, opt ImportOptions) (*ImportJob, error) {
	job, err := j.create(ctx, filename, opt.Source)
	if err != nil {
		return nil, err
	}
	return j.run(ctx, job, r, opt)
}

// Start records a job and imports the file at path in the background,
// removing the file when done. ctx bounds the import (the server's lifetime).
// Only opt's Source, NoWelcome and UpdatePhones are used: the job records
// the rejected rows and the progress itself.
func (j *Jobs) Start(ctx context.Context, path, filename string, opt ImportOptions) (*ImportJob, error) {
	job, err := j.create(ctx, filename, opt.Source)
	if err != nil {
		return nil, err
	}
	// The caller gets a copy: the import goroutine goes on writing job's
	// stats and status while the caller encodes its answer.
	started := *job
	j.wg.Add(1)
	go func() {
		defer j.wg.Done()
		defer os.Remove(path)
		f, err := os.Open(path)
		if err != nil {
			j.finish(context.WithoutCancel(ctx), job, fmt.Errorf("open upload: %w", err))
			return
		}
		defer f.Close()
		opt := ImportOptions{Source: opt.Source, NoWelcome: opt.NoWelcome, UpdatePhones: opt.UpdatePhones}
		if _, err := j.run(ctx, job, f, opt); err != nil {
			j.svc.opt.Log.Error("import failed", "import", job.ID, "err", err)
		}
	}()
	return &started, nil
}

// Wait blocks until background imports have stopped.
func (j *Jobs) Wait() { j.wg.Wait() }

func (j *Jobs) create(ctx context.Context, filename, source string) (*ImportJob, error) {
	now := nowUTC(j.svc.opt.Now)
	job := &ImportJob{ID: id.New("imp", now), Source: source, Filename: filename, Status: JobRunning, StartedAt: now}
	if _, err := j.svc.db.W.ExecContext(ctx, `INSERT INTO imports (id, source, filename, status, started_at)
		VALUES ($1, $2, $3, $4, $5)`, job.ID, source, filename, job.Status, now); err != nil {
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
		err := insertImportErrors(ctx, j.svc.db, job.ID, pending)
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
	job.Status = JobDone
	if runErr != nil {
		job.Status, job.Error = JobFailed, runErr.Error()
	}
	st := job.Stats
	if _, err := j.svc.db.W.ExecContext(ctx, `UPDATE imports SET status = $2, error = $3, finished_at = $4, rows_read = $5,
		created = $6, updated = $7, unchanged = $8, rejected = $9 WHERE id = $1`,
		job.ID, job.Status, job.Error, now, st.Rows, st.Created, st.Updated, st.Unchanged, st.Rejected); err != nil {
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

const jobColumns = `id, source, filename, status, rows_read, created, updated, unchanged, rejected, error, started_at, finished_at`

func scanJob(row interface{ Scan(...any) error }) (*ImportJob, error) {
	var job ImportJob
	var finished sql.NullTime
	st := &job.Stats
	if err := row.Scan(&job.ID, &job.Source, &job.Filename, &job.Status, &st.Rows, &st.Created, &st.Updated, &st.Unchanged,
		&st.Rejected, &job.Error, &job.StartedAt, &finished); err != nil {
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

func insertImportErrors(ctx context.Context, db *store.DB, jobID string, es []*tabular.RowError) error {
	var b strings.Builder
	b.WriteString(`INSERT INTO import_errors (import_id, row_num, col, reason) VALUES `)
	args := make([]any, 0, len(es)*4)
	for i, e := range es {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + db.Dialect.Placeholders(len(args)+1, 4) + ")")
		args = append(args, jobID, e.Row, e.Column, e.Reason)
	}
	if _, err := db.W.ExecContext(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("record import errors: %w", err)
	}
	return nil
}
