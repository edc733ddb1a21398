package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/perk-platform/perk/internal/batch"
	"github.com/perk-platform/perk/internal/links"
	"github.com/perk-platform/perk/internal/store"
)

const batchUsage = `usage:
  perk batch offers [--store S001] --out DIR [--since CURSOR] [--format csv|jsonl]
  perk batch transactions [--mode decide|applied] [--format csv|jsonl] [--batch-workers N] FILE
  perk batch reconciliation [--since 2026-11-01] [--out FILE]`

// batchFlags are perk serve's managed-service settings.
func batchFlags(fs *flag.FlagSet, c *Config) {
	strFlag(fs, &c.BatchDir, "batch-dir", "PERK_BATCH_DIR", "", "watched folder: transaction files from DIR/inbox, results and offer exports to DIR/outbox (empty: none)")
	batchWorkersFlag(fs, c)
	strFlag(fs, &c.OfferExport, "offer-export", "PERK_OFFER_EXPORT", "", `scheduled offer export into the batch folder's outbox, e.g. "daily 05:00" in the campaign zone`)
}

func batchWorkersFlag(fs *flag.FlagSet, c *Config) {
	intFlag(fs, &c.BatchWorkers, "batch-workers", "PERK_BATCH_WORKERS", 1,
		"baskets of a transaction file committed at once; above 1, different shoppers' baskets may commit out of file order (docs/batch.md)")
}

// batchJobs is the managed service over the loyalty services.
func (c *Config) batchJobs(db *store.DB, loy *loyalty, log *slog.Logger) (*batch.Jobs, error) {
	pol, err := c.Loyalty.policy()
	if err != nil {
		return nil, err
	}
	proc := batch.NewProcessor(loy.checkout, batch.Options{Log: log, DB: db, Workers: c.BatchWorkers, Now: c.now()})
	exp := batch.NewExporter(db, loy.campaigns, pol, c.now())
	return batch.NewJobs(db, proc, exp, filepath.Join(c.DataDir, "batch"), c.now(), log), nil
}

// startBatchFolder watches --batch-dir until ctx ends; the returned
// function waits for it.
func (c *Config) startBatchFolder(ctx context.Context, jobs *batch.Jobs, log *slog.Logger) (func(), error) {
	if c.BatchDir == "" {
		if c.OfferExport != "" {
			return nil, fmt.Errorf("--offer-export needs --batch-dir, whose outbox receives the files")
		}
		return func() {}, nil
	}
	var sched *batch.Schedule
	if c.OfferExport != "" {
		zone, err := time.LoadLocation(c.Loyalty.Zone)
		if err != nil {
			return nil, fmt.Errorf("--campaign-zone: %w", err)
		}
		if sched, err = batch.ParseSchedule(c.OfferExport, zone); err != nil {
			return nil, fmt.Errorf("--offer-export: %w", err)
		}
	}
	f, err := batch.NewFolder(jobs, c.BatchDir, batch.FolderOptions{Schedule: sched, Log: log, Now: c.now()})
	if err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() { defer close(done); f.Run(ctx, 2*time.Second) }()
	log.Info("batch folder watched", "dir", c.BatchDir, "offer_export", c.OfferExport)
	return func() { <-done }, nil
}

func cmdBatch(ctx context.Context, args []string) error {
	if len(args) == 0 || (args[0] != "offers" && args[0] != "transactions" && args[0] != "reconciliation") {
		fmt.Fprintln(os.Stderr, batchUsage)
		return errUsage
	}
	sub := args[0]
	var c Config
	var storeID, out, since, format, mode string
	fs := flag.NewFlagSet("perk batch "+sub, flag.ContinueOnError)
	commonFlags(fs, &c)
	programmeFlag(fs, &c)
	publicURLFlags(fs, &c)
	loyaltyFlags(fs, &c)
	switch sub {
	case "offers":
		fs.StringVar(&storeID, "store", "", "the store whose offers to export (default: every store)")
		fs.StringVar(&out, "out", "", "folder the files and the manifest appear in")
		fs.StringVar(&since, "since", "", "a cursor printed by an earlier export: only the members whose offers changed since")
		fs.StringVar(&format, "format", "csv", "csv or jsonl")
	case "transactions":
		batchWorkersFlag(fs, &c)
		fs.StringVar(&mode, "mode", "decide", "decide (Perk decides the benefits) or applied (record what the till gave offline)")
		fs.StringVar(&format, "format", "", "csv or jsonl (default: from the file's extension)")
	case "reconciliation":
		fs.StringVar(&since, "since", "", "list breaches of sales at or after this date (2026-11-01) or RFC 3339 time")
		fs.StringVar(&out, "out", "", "file to write (default: standard output)")
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if (sub == "offers" && (out == "" || fs.NArg() != 0)) || (sub == "transactions" && fs.NArg() != 1) || (sub == "reconciliation" && fs.NArg() != 0) {
		fmt.Fprintln(os.Stderr, batchUsage)
		return errUsage
	}
	db, log, err := setup(ctx, &c)
	if err != nil {
		return err
	}
	defer db.Close()
	loy, err := c.loyalty(db, c.memberService(db, log), links.NewService(db, c.PublicURL, nil), log)
	if err != nil {
		return err
	}
	jobs, err := c.batchJobs(db, loy, log)
	if err != nil {
		return err
	}
	switch sub {
	case "offers":
		f, err := batch.ParseFormat(format)
		if err != nil {
			return err
		}
		_, m, err := jobs.Offers(ctx, batch.ExportOptions{Store: storeID, Format: f, Since: since, Dir: out}, "cli")
		if err != nil {
			return err
		}
		for _, f := range m.Files {
			fmt.Fprintf(os.Stderr, "%-28s %10d rows  sha256 %s\n", f.Name, f.Rows, f.SHA256)
		}
		fmt.Println(m.Cursor) // the next export's --since
		return nil
	case "transactions":
		return batchTransactions(ctx, jobs, fs.Arg(0), format, mode)
	}
	var from time.Time
	if since != "" {
		if from, err = parseSince(since); err != nil {
			return err
		}
	}
	w := os.Stdout
	if out != "" {
		if w, err = os.Create(out); err != nil {
			return err
		}
		defer w.Close()
	}
	n, err := batch.WriteReconciliation(ctx, db, from, w)
	if err == nil {
		log.Info("reconciliation report", "breaches", n)
	}
	return err
}

func batchTransactions(ctx context.Context, jobs *batch.Jobs, path, format, mode string) error {
	m, err := batch.ParseMode(mode)
	if err != nil {
		return err
	}
	if format == "" {
		format = filepath.Ext(path)
	}
	f, err := batch.ParseFormat(format)
	if err != nil {
		return err
	}
	in, err := os.Open(path)
	if err != nil {
		return err
	}
	defer in.Close()
	job, err := jobs.Transactions(ctx, in, filepath.Base(path), "cli", f, m)
	if job == nil {
		return err
	}
	s := job.Summary()
	fmt.Printf("job %s: %d records, %d committed, %d unchanged, %d failed (%d conflicts), %d row errors, %d breaches\n",
		job.ID, s.Records, s.Committed, s.Unchanged, s.Failed, s.Conflicts, s.RowErrors, s.Breaches)
	fmt.Printf("results: %s\nerrors:  %s\n", jobs.Path(job, job.ResultsFile()), jobs.Path(job, batch.ErrorsFile))
	return err
}
