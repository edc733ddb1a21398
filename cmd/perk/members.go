package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/term"

	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/tabular"
)

func cmdMembers(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "import" {
		fmt.Fprintln(os.Stderr, "usage: perk members import [--source NAME] [--errors FILE] FILE")
		return errUsage
	}
	var c Config
	var source, errorsPath string
	var batch int
	var welcome, updatePhones bool
	fs := flag.NewFlagSet("perk members import", flag.ContinueOnError)
	commonFlags(fs, &c)
	publicURLFlags(fs, &c) // the member service's links, as perk serve builds them
	fs.StringVar(&source, "source", "", "name recorded on new members and consents (default: the file name)")
	fs.StringVar(&errorsPath, "errors", "", "where to write rejected rows as CSV (default FILE.errors.csv)")
	fs.IntVar(&batch, "batch", 5000, "rows per database transaction")
	fs.BoolVar(&welcome, "welcome", true, "text new members who consented their code and card link (--welcome=false for a silent migration)")
	fs.BoolVar(&updatePhones, "update-phones", false, "let a row change the phone of the member its external_id names")
	var cpuprofile string
	fs.StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile of the import to this file")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: perk members import [flags] FILE")
		return errUsage
	}
	path := fs.Arg(0)
	if source == "" {
		source = filepath.Base(path)
	}
	_, err := importFile(ctx, &c, path, errorsPath, cpuprofile, member.ImportOptions{
		Source: source, BatchSize: batch, NoWelcome: !welcome, UpdatePhones: updatePhones,
	})
	return err
}

// importFile imports the member file at path as a job, with a progress
// display, rejected rows in errorsPath (FILE.errors.csv by default, removed
// when nothing was rejected) and a summary line.
func importFile(ctx context.Context, c *Config, path, errorsPath, cpuprofile string, opt member.ImportOptions) (*member.ImportJob, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if errorsPath == "" {
		errorsPath = path + ".errors.csv"
	}
	db, log, err := setup(ctx, c)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	ef, err := os.Create(errorsPath)
	if err != nil {
		return nil, err
	}
	defer ef.Close()
	ew := tabular.NewErrorWriter(ef)

	stopProfile, err := startCPUProfile(cpuprofile)
	if err != nil {
		return nil, err
	}
	defer stopProfile()
	counter := &countingReader{r: f}
	prog := newProgress(os.Stderr, info.Size(), counter)
	jobs := member.NewJobs(c.memberService(db, log))
	start := time.Now()
	opt.OnError, opt.OnProgress = ew.Write, prog.update
	job, err := jobs.Run(ctx, counter, filepath.Base(path), opt)
	prog.done()
	if ferr := ew.Flush(); ferr != nil && err == nil {
		err = ferr
	}
	if err != nil {
		return nil, err
	}
	st := job.Stats
	elapsed := time.Since(start)
	fmt.Fprintf(os.Stderr, "import %s: %d rows in %s (%.0f rows/s): %d created, %d updated, %d unchanged, %d rejected\n",
		job.ID, st.Rows, elapsed.Round(time.Millisecond), float64(st.Rows)/elapsed.Seconds(), st.Created, st.Updated, st.Unchanged, st.Rejected)
	if st.Rejected > 0 {
		fmt.Fprintf(os.Stderr, "rejected rows are listed in %s\n", errorsPath)
	} else {
		ef.Close()
		os.Remove(errorsPath)
	}
	if opt.Full {
		fmt.Fprintf(os.Stderr, "full sync: %d members not in the file left the CRM subset (tag %q removed)\n", st.LeftSubset, member.SubsetTag)
	}
	return job, nil
}

type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

// progress draws a bar on a terminal and prints a plain line every few
// seconds otherwise (CI logs, cron mail).
type progress struct {
	w     *os.File
	tty   bool
	size  int64
	read  *countingReader
	last  time.Time
	start time.Time
}

func newProgress(w *os.File, size int64, read *countingReader) *progress {
	return &progress{w: w, tty: term.IsTerminal(int(w.Fd())), size: size, read: read, start: time.Now()}
}

func (p *progress) update(st member.ImportStats) {
	now := time.Now()
	every := 5 * time.Second
	if p.tty {
		every = 100 * time.Millisecond
	}
	if now.Sub(p.last) < every {
		return
	}
	p.last = now
	frac := 0.0
	if p.size > 0 {
		frac = float64(p.read.n.Load()) / float64(p.size)
	}
	rate := float64(st.Rows) / now.Sub(p.start).Seconds()
	if p.tty {
		const width = 30
		filled := int(frac * width)
		fmt.Fprintf(p.w, "\r[%s%s] %3.0f%% %d rows, %.0f rows/s, %d rejected ",
			strings.Repeat("#", filled), strings.Repeat(".", width-filled), frac*100, st.Rows, rate, st.Rejected)
		return
	}
	fmt.Fprintf(p.w, "progress: %.0f%% %d rows (%.0f rows/s), %d created, %d updated, %d unchanged, %d rejected\n",
		frac*100, st.Rows, rate, st.Created, st.Updated, st.Unchanged, st.Rejected)
}

func (p *progress) done() {
	if p.tty {
		fmt.Fprintln(p.w)
	}
}

// startCPUProfile writes a CPU profile to path until the returned function
// is called; with an empty path it does nothing.
func startCPUProfile(path string) (stop func(), err error) {
	if path == "" {
		return func() {}, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}
