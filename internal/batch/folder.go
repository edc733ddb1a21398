package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Folder is the watched folder of the managed service: transaction files
// dropped into inbox/ are processed and moved to processed/ (or to failed/
// with a .reason.txt beside them when they cannot be read at all); their
// results and errors files, and the scheduled offer exports, are written
// to outbox/.
//
// A file is taken once its size has not changed between two scans, so a
// file still being copied in waits. Its mode is the folder's, or applied
// when its name ends in .applied.csv or .applied.jsonl.
type Folder struct {
	jobs     *Jobs
	dir      string
	mode     Mode
	schedule *Schedule
	now      func() time.Time
	log      *slog.Logger
	sizes    map[string]int64 // inbox file -> size at the last scan
	next     time.Time        // the next scheduled export
}

// FolderOptions configure a Folder.
type FolderOptions struct {
	Mode     Mode      // the mode of files that do not name one; "" = decide
	Schedule *Schedule // offer exports into outbox/; nil = none
	Format   Format    // of the scheduled offer exports; "" = csv
	Now      func() time.Time
	Log      *slog.Logger
}

// NewFolder prepares dir's inbox, processed, failed and outbox folders.
func NewFolder(jobs *Jobs, dir string, opt FolderOptions) (*Folder, error) {
	for _, sub := range []string{"inbox", "processed", "failed", "outbox"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			return nil, fmt.Errorf("batch folder: %w", err)
		}
	}
	if opt.Mode == "" {
		opt.Mode = Decide
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	f := &Folder{jobs: jobs, dir: dir, mode: opt.Mode, schedule: opt.Schedule, now: opt.Now, log: opt.Log, sizes: map[string]int64{}}
	if f.schedule != nil {
		f.next = f.schedule.Next(opt.Now())
	}
	return f, nil
}

// Run scans the inbox and runs the schedule every poll until ctx ends.
func (f *Folder) Run(ctx context.Context, poll time.Duration) {
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		if err := f.Scan(ctx); err != nil && ctx.Err() == nil {
			f.log.Error("batch folder", "err", err)
		}
		if err := f.ExportIfDue(ctx); err != nil && ctx.Err() == nil {
			f.log.Error("scheduled offer export", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Scan processes every inbox file whose size is the same as at the last
// scan; a file that cannot be read at all goes to failed/.
func (f *Folder) Scan(ctx context.Context) error {
	inbox := filepath.Join(f.dir, "inbox")
	entries, err := os.ReadDir(inbox)
	if err != nil {
		return fmt.Errorf("batch folder: %w", err)
	}
	seen := map[string]int64{}
	for _, e := range entries {
		if e.IsDir() || strings.HasPrefix(e.Name(), ".") {
			continue
		}
		info, err := e.Info()
		if err != nil {
			continue
		}
		seen[e.Name()] = info.Size()
		if last, ok := f.sizes[e.Name()]; !ok || last != info.Size() {
			continue // new or still growing: next scan
		}
		delete(seen, e.Name())
		if err := f.take(ctx, e.Name()); err != nil {
			return err
		}
	}
	f.sizes = seen
	return nil
}

// take processes one inbox file and moves it on.
func (f *Folder) take(ctx context.Context, name string) error {
	path := filepath.Join(f.dir, "inbox", name)
	format, err := ParseFormat(filepath.Ext(name))
	if err != nil {
		return f.fail(name, err)
	}
	mode := f.mode
	if strings.HasSuffix(strings.TrimSuffix(name, filepath.Ext(name)), ".applied") {
		mode = Applied
	}
	in, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("batch folder: %w", err)
	}
	job, err := f.jobs.Transactions(ctx, in, name, "folder", format, mode)
	in.Close()
	if job == nil {
		return err // not even recorded: the database is down; try again next scan
	}
	if err != nil {
		if ctx.Err() != nil || !errors.Is(err, ErrUnreadable) {
			return err // stays in the inbox, to be sent again in full: files are idempotent
		}
		return f.fail(name, err)
	}
	stem := strings.TrimSuffix(name, filepath.Ext(name))
	for _, c := range [][2]string{{job.ResultsFile(), stem + ".results." + string(format)}, {ErrorsFile, stem + ".errors.csv"}} {
		if err := f.copyOut(job, c[0], c[1]); err != nil {
			return err
		}
	}
	return os.Rename(path, filepath.Join(f.dir, "processed", name))
}

// fail moves an unreadable file to failed/ with the reason beside it.
func (f *Folder) fail(name string, reason error) error {
	f.log.Warn("batch folder: file failed", "file", name, "err", reason)
	if err := os.WriteFile(filepath.Join(f.dir, "failed", name+".reason.txt"), []byte(reason.Error()+"\n"), 0o644); err != nil {
		return fmt.Errorf("batch folder: %w", err)
	}
	return os.Rename(filepath.Join(f.dir, "inbox", name), filepath.Join(f.dir, "failed", name))
}

// copyOut copies a job file into outbox/ under a temporary name first.
func (f *Folder) copyOut(job *Job, from, to string) error {
	src, err := f.jobs.Open(job, from)
	if err != nil {
		return err
	}
	defer src.Close()
	tmp, err := os.CreateTemp(filepath.Join(f.dir, "outbox"), "."+to+".*.tmp")
	if err != nil {
		return fmt.Errorf("batch folder: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := io.Copy(tmp, src); err != nil {
		tmp.Close()
		return fmt.Errorf("batch folder: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("batch folder: %w", err)
	}
	return os.Rename(tmp.Name(), filepath.Join(f.dir, "outbox", to))
}

// ExportIfDue runs the scheduled offer export into outbox/ when its time
// has come. A time missed while the server was down is not made up.
func (f *Folder) ExportIfDue(ctx context.Context) error {
	if f.schedule == nil || f.now().Before(f.next) {
		return nil
	}
	f.next = f.schedule.Next(f.now())
	_, m, err := f.jobs.Offers(ctx, ExportOptions{Format: CSV, Dir: filepath.Join(f.dir, "outbox")}, "schedule")
	if err != nil {
		return err
	}
	f.log.Info("scheduled offer export", "files", len(m.Files), "cursor", m.Cursor)
	return nil
}

// Schedule is "daily HH:MM" in a zone.
type Schedule struct {
	hour, minute int
	loc          *time.Location
}

// ParseSchedule reads "daily 05:00".
func ParseSchedule(s string, loc *time.Location) (*Schedule, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "daily ")
	h, m, ok2 := strings.Cut(strings.TrimSpace(rest), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || !ok2 || err1 != nil || err2 != nil || hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return nil, fmt.Errorf("schedule %q: want daily HH:MM, e.g. daily 05:00", s)
	}
	if loc == nil {
		loc = time.UTC
	}
	return &Schedule{hour: hh, minute: mm, loc: loc}, nil
}

// Next is the first scheduled time after t.
func (s *Schedule) Next(t time.Time) time.Time {
	l := t.In(s.loc)
	n := time.Date(l.Year(), l.Month(), l.Day(), s.hour, s.minute, 0, 0, s.loc)
	if !n.After(t) {
		n = time.Date(l.Year(), l.Month(), l.Day()+1, s.hour, s.minute, 0, 0, s.loc)
	}
	return n
}
