package batch

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/perk-platform/perk/internal/id"
	"github.com/perk-platform/perk/internal/job"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
)

// Job is the record of one batch run, whichever way it was started (the
// command line, an upload, the watched folder, the schedule), so operators
// see every file in and out with its counts and can fetch its files.
type Job struct {
	ID         string          `json:"id"`
	Kind       string          `json:"kind"` // transactions, offers
	Source     string          `json:"source,omitempty"`
	Filename   string          `json:"filename,omitempty"`
	Format     Format          `json:"format"`
	Mode       Mode            `json:"mode,omitempty"`
	Status     string          `json:"status"` // running, done, failed
	Stats      json.RawMessage `json:"stats"`  // a Summary (transactions) or a Manifest (offers)
	Error      string          `json:"error,omitempty"`
	StartedAt  time.Time       `json:"started_at"`
	FinishedAt *time.Time      `json:"finished_at,omitempty"`
	dir        string
}

// Job kinds and states.
const (
	KindTransactions = "transactions"
	KindOffers       = "offers"
	JobRunning       = "running"
	JobDone          = "done"
	JobFailed        = "failed"
)

// Files of a transactions job, in its folder.
const (
	ErrorsFile = "errors.csv"
	resultBase = "results."
)

// ResultsFile is the name of a transactions job's results file.
func (j *Job) ResultsFile() string { return resultBase + string(j.Format) }

// Summary decodes a transactions job's counts.
func (j *Job) Summary() Summary {
	var s Summary
	json.Unmarshal(j.Stats, &s)
	return s
}

// ErrJobNotFound is returned for an unknown job id.
var ErrJobNotFound = problem.New(problem.NotFound, "batch_job_not_found", "batch job not found")

// Jobs runs batch work and records it in batch_jobs; each job's files are
// in a folder of its own under Dir.
type Jobs struct {
	db   *store.DB
	proc *Processor
	exp  *Exporter
	dir  string
	now  func() time.Time
	log  *slog.Logger
	wg   sync.WaitGroup
	q    *job.Queue
}

// KindTransactionsJob is the job kind of an uploaded transaction file.
const KindTransactionsJob = "batch.transactions"

// UseQueue makes StartTransactions enqueue uploads on q, and q run them.
func (j *Jobs) UseQueue(q *job.Queue) {
	j.q = q
	q.Handle(KindTransactionsJob, j.runJob)
}

// NewJobs returns a job runner keeping job files under dir. Call
// FailInterrupted at start and Wait at shutdown.
func NewJobs(db *store.DB, proc *Processor, exp *Exporter, dir string, now func() time.Time, log *slog.Logger) *Jobs {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	return &Jobs{db: db, proc: proc, exp: exp, dir: dir, now: now, log: log}
}

// Exporter is the runner's offer exporter.
func (j *Jobs) Exporter() *Exporter { return j.exp }

// FailInterrupted marks jobs left running by a previous process that are
// not durable jobs (command line, watched folder, offer exports) as
// failed; an upload is a job, which resumes. Sending the file again is
// safe: transaction files are idempotent.
func (j *Jobs) FailInterrupted(ctx context.Context) error {
	_, err := j.db.W.ExecContext(ctx, `UPDATE batch_jobs SET status = 'failed', error = 'interrupted by a restart; send the file again',
		finished_at = $1 WHERE status = 'running' AND id NOT IN (SELECT id FROM jobs)`, j.now().UTC())
	return err
}

// Wait waits for background jobs to finish.
func (j *Jobs) Wait() { j.wg.Wait() }

// create records a job, in tx if not nil.
func (j *Jobs) create(ctx context.Context, tx *sql.Tx, job *Job) error {
	job.ID, job.Status, job.StartedAt = id.New("bat", j.now()), JobRunning, j.now().UTC()
	job.Stats = json.RawMessage(`{}`)
	job.dir = filepath.Join(j.dir, job.ID)
	if err := os.MkdirAll(job.dir, 0o755); err != nil {
		return fmt.Errorf("batch job: %w", err)
	}
	var e jobExecer = j.db.W
	if tx != nil {
		e = tx
	}
	_, err := e.ExecContext(ctx, `INSERT INTO batch_jobs (id, kind, source, filename, format, mode, status, dir, started_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, job.ID, job.Kind, job.Source, job.Filename, string(job.Format), string(job.Mode),
		job.Status, job.dir, job.StartedAt)
	if err != nil {
		return fmt.Errorf("record batch job: %w", err)
	}
	return nil
}

func (j *Jobs) finish(job *Job, stats any, runErr error) error {
	b, _ := json.Marshal(stats)
	job.Stats = b
	now := j.now().UTC()
	job.FinishedAt, job.Status = &now, JobDone
	if runErr != nil {
		job.Status, job.Error = JobFailed, runErr.Error()
	}
	// The run's own context may be cancelled: the record is written anyway.
	_, err := j.db.W.ExecContext(context.Background(), `UPDATE batch_jobs SET status = $2, stats = $3, error = $4, finished_at = $5 WHERE id = $1`,
		job.ID, job.Status, string(b), job.Error, now)
	if err != nil {
		return fmt.Errorf("record batch job: %w", err)
	}
	return runErr
}

// Transactions processes a transaction file now, writing its results and
// errors files into the job's folder. A file that cannot be read at all
// fails the job (ErrUnreadable); row errors do not.
func (j *Jobs) Transactions(ctx context.Context, r io.Reader, filename, source string, f Format, m Mode) (*Job, error) {
	job := &Job{Kind: KindTransactions, Source: source, Filename: filename, Format: f, Mode: m}
	if err := j.create(ctx, nil, job); err != nil {
		return nil, err
	}
	return job, j.runTransactions(ctx, job, r)
}

type jobExecer interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}

// StartTransactions records a job for the file at path and enqueues it on
// the job queue, which processes it in the background and removes the file
// when it ends. The file must be in this node's data folder: it is the
// job's input until then, across restarts.
func (j *Jobs) StartTransactions(ctx context.Context, path, filename, source string, f Format, m Mode) (*Job, error) {
	if j.q == nil {
		return nil, errors.New("batch: no job queue")
	}
	rec := &Job{Kind: KindTransactions, Source: source, Filename: filename, Format: f, Mode: m}
	err := j.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := j.create(ctx, tx, rec); err != nil {
			return err
		}
		return job.Enqueue(ctx, tx, job.Spec{ID: rec.ID, Kind: KindTransactionsJob, Node: j.q.Node(),
			Payload: transactionsPayload{Path: path}}, rec.StartedAt)
	})
	if err != nil {
		return nil, err
	}
	j.q.Wake()
	return rec, nil
}

// transactionsPayload is what a transactions job needs besides its record.
type transactionsPayload struct {
	Path string `json:"path"` // the upload, kept in the data folder until the job ends
}

// transactionsProgress is a transactions job's cursor and the sizes its
// results and errors files had at it.
type transactionsProgress struct {
	Cursor
	ResultsSize int64 `json:"results_size"`
	ErrorsSize  int64 `json:"errors_size"`
}

// runJob is the transactions job's handler. Every CheckpointEvery records
// it syncs the results and errors files and saves the cursor with their
// sizes; a resumed run cuts the files back to those sizes and goes on
// after the cursor. Records handled after the last checkpoint are sent
// through the checkout again, which recognises them (transaction files are
// idempotent): nothing is applied twice, though such a record counts as
// unchanged rather than committed.
func (j *Jobs) runJob(ctx context.Context, r *job.Run) error {
	var p transactionsPayload
	if err := r.Payload(&p); err != nil {
		return err
	}
	rec, err := j.Get(ctx, r.Job.ID)
	if err != nil {
		return err
	}
	var prog transactionsProgress
	resumed, err := r.Resume(&prog)
	if err != nil {
		return err
	}
	in, err := os.Open(p.Path)
	if err != nil {
		err = job.Permanent(err)
		j.finish(rec, Summary{}, err)
		return err
	}
	defer in.Close()
	res, err := openAt(filepath.Join(rec.dir, rec.ResultsFile()), resumed, prog.ResultsSize)
	if err != nil {
		return err
	}
	defer res.Close()
	errs, err := openAt(filepath.Join(rec.dir, ErrorsFile), resumed, prog.ErrorsSize)
	if err != nil {
		return err
	}
	defer errs.Close()
	run := Run{Format: rec.Format, Mode: rec.Mode, Results: res, Errors: errs}
	if resumed {
		run.Resume = &prog.Cursor
		j.log.Info("batch transactions resumed", "job", rec.ID, "after_records", prog.Records, "attempt", r.Job.Attempts)
	}
	run.Checkpoint = func(c Cursor) error {
		if err := errors.Join(res.Sync(), errs.Sync()); err != nil {
			return err
		}
		rs, err := res.Seek(0, io.SeekCurrent)
		if err != nil {
			return err
		}
		es, err := errs.Seek(0, io.SeekCurrent)
		if err != nil {
			return err
		}
		stats, _ := json.Marshal(c.Summary)
		return j.db.Tx(ctx, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, `UPDATE batch_jobs SET stats = $2 WHERE id = $1`, rec.ID, string(stats)); err != nil {
				return err
			}
			return r.Checkpoint(ctx, tx, transactionsProgress{Cursor: c, ResultsSize: rs, ErrorsSize: es})
		})
	}
	sum, err := j.proc.Process(ctx, in, run)
	if err == nil {
		err = errors.Join(res.Sync(), errs.Sync())
	}
	switch {
	case err == nil:
		r.SetResult(sum)
	case errors.Is(context.Cause(ctx), job.ErrCancelled):
		err = errors.New("cancelled")
	case ctx.Err() != nil:
		return err // shutdown or a lost lease: the job is resumed
	case errors.Is(err, ErrUnreadable):
		err = job.Permanent(err)
	case !r.Last():
		j.log.Warn("batch transactions will be retried", "job", rec.ID, "err", err)
		return err
	}
	j.log.Info("batch transactions", "job", rec.ID, "file", rec.Filename, "mode", rec.Mode, "records", sum.Records,
		"committed", sum.Committed, "unchanged", sum.Unchanged, "failed", sum.Failed, "row_errors", sum.RowErrors, "breaches", sum.Breaches)
	in.Close()
	os.Remove(p.Path)
	return j.finish(rec, sum, err)
}

// Cancel stops an uploaded file's job: at once if it waits, or at its
// next heartbeat. What it committed stays (sending the file again commits
// the rest).
func (j *Jobs) Cancel(ctx context.Context, id string) (*Job, error) {
	rec, err := j.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	st, err := job.Cancel(ctx, j.db, id, j.now())
	if errors.Is(err, job.ErrNotFound) {
		return nil, problem.New(problem.Conflict, "batch_job_not_cancellable", "only an uploaded transaction file's job can be cancelled")
	}
	if err != nil {
		return nil, err
	}
	if st == job.Cancelled && rec.Status == JobRunning {
		// It never ran (or its runner is gone): nobody else removes the upload.
		if jb, err := job.Get(ctx, j.db, id); err == nil {
			var p transactionsPayload
			if json.Unmarshal(jb.Payload, &p) == nil && p.Path != "" {
				os.Remove(p.Path)
			}
		}
		if err := j.finish(rec, rec.Summary(), errors.New("cancelled")); err != nil && err.Error() != "cancelled" {
			return nil, err
		}
	}
	return j.Get(ctx, id)
}

// openAt opens a job's output file for writing: new, or when resuming cut
// back to size (what the last checkpoint covered) and positioned there.
func openAt(path string, resume bool, size int64) (*os.File, error) {
	if !resume {
		return os.Create(path)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := f.Truncate(size); err != nil {
		f.Close()
		return nil, err
	}
	if _, err := f.Seek(size, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func (j *Jobs) runTransactions(ctx context.Context, job *Job, r io.Reader) error {
	res, err := os.Create(filepath.Join(job.dir, job.ResultsFile()))
	if err != nil {
		return j.finish(job, Summary{}, err)
	}
	defer res.Close()
	errs, err := os.Create(filepath.Join(job.dir, ErrorsFile))
	if err != nil {
		return j.finish(job, Summary{}, err)
	}
	defer errs.Close()
	sum, err := j.proc.Process(ctx, r, Run{Format: job.Format, Mode: job.Mode, Results: res, Errors: errs})
	if err == nil {
		err = errors.Join(res.Sync(), errs.Sync())
	}
	j.log.Info("batch transactions", "job", job.ID, "file", job.Filename, "mode", job.Mode, "records", sum.Records,
		"committed", sum.Committed, "unchanged", sum.Unchanged, "failed", sum.Failed, "row_errors", sum.RowErrors, "breaches", sum.Breaches)
	return j.finish(job, sum, err)
}

// Offers runs an offer export into opt.Dir (the job's own folder when
// empty) and records it.
func (j *Jobs) Offers(ctx context.Context, opt ExportOptions, source string) (*Job, *Manifest, error) {
	if opt.Since != "" {
		if _, err := parseCursor(opt.Since); err != nil {
			return nil, nil, err // the caller's mistake: no job
		}
	}
	job := &Job{Kind: KindOffers, Source: source, Format: opt.Format, Filename: opt.Store}
	if err := j.create(ctx, nil, job); err != nil {
		return nil, nil, err
	}
	if opt.Dir == "" {
		opt.Dir = job.dir
	} else if _, err := j.db.W.ExecContext(ctx, `UPDATE batch_jobs SET dir = $2 WHERE id = $1`, job.ID, opt.Dir); err == nil {
		os.Remove(job.dir) // the empty folder create made
		job.dir = opt.Dir
	}
	m, err := j.exp.Export(ctx, opt)
	if m == nil {
		m = &Manifest{}
	}
	return job, m, j.finish(job, m, err)
}

const jobCols = `id, kind, source, filename, format, mode, status, stats, error, dir, started_at, finished_at`

func scanJob(row interface{ Scan(...any) error }) (*Job, error) {
	var job Job
	var f, m, stats string
	var fin sql.NullTime
	if err := row.Scan(&job.ID, &job.Kind, &job.Source, &job.Filename, &f, &m, &job.Status, &stats, &job.Error, &job.dir,
		&job.StartedAt, &fin); err != nil {
		return nil, err
	}
	job.Format, job.Mode, job.Stats = Format(f), Mode(m), json.RawMessage(stats)
	if fin.Valid {
		t := fin.Time.UTC()
		job.FinishedAt = &t
	}
	job.StartedAt = job.StartedAt.UTC()
	return &job, nil
}

// Get returns a job.
func (j *Jobs) Get(ctx context.Context, jobID string) (*Job, error) {
	job, err := scanJob(j.db.R.QueryRowContext(ctx, `SELECT `+jobCols+` FROM batch_jobs WHERE id = $1`, jobID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrJobNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("batch job: %w", err)
	}
	return job, nil
}

// List returns the latest jobs, newest first.
func (j *Jobs) List(ctx context.Context, limit int) ([]*Job, error) {
	rows, err := j.db.R.QueryContext(ctx, `SELECT `+jobCols+` FROM batch_jobs ORDER BY started_at DESC, id DESC LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("batch jobs: %w", err)
	}
	defer rows.Close()
	var out []*Job
	for rows.Next() {
		job, err := scanJob(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, job)
	}
	return out, rows.Err()
}

// Open opens one of a job's files by its name (the results file, the
// errors file, or an offer export's file or manifest).
func (j *Jobs) Open(job *Job, name string) (*os.File, error) {
	if name != filepath.Base(name) || name == "" || name[0] == '.' {
		return nil, ErrJobNotFound
	}
	f, err := os.Open(filepath.Join(job.dir, name))
	if errors.Is(err, os.ErrNotExist) {
		return nil, ErrJobNotFound
	}
	return f, err
}

// Path is where a job's file is, for the command line to print.
func (j *Jobs) Path(job *Job, name string) string { return filepath.Join(job.dir, name) }
