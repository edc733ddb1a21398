package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/perk-platform/perk/internal/loadgen"
)

func cmdBench(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: perk bench gen-members [--rows N] [--bad F] [--seed S] [--tags] [--out FILE] | perk bench http --key KEY [flags] | perk bench checkout --key POS_KEY [flags] | perk bench gen-data --db DB [flags] | perk bench sms --db DB [-n N] [--binds B] [--window W] | perk bench smsc | perk bench events --key KEY [-c C] [-n N] [--batch B] [--server-pid PID] [--db DB]")
		return errUsage
	}
	switch args[0] {
	case "gen-members":
		return benchGenMembers(args[1:])
	case "http":
		return benchHTTP(ctx, args[1:])
	case "checkout":
		return benchCheckout(ctx, args[1:])
	case "gen-data":
		return benchGenData(ctx, args[1:])
	case "sms":
		return benchSMS(ctx, args[1:])
	case "smsc":
		return benchSMSC(args[1:])
	case "events":
		return benchEvents(ctx, args[1:])
	}
	return fmt.Errorf("unknown bench command %q", args[0])
}

func benchGenMembers(args []string) error {
	var opt loadgen.MembersCSVOptions
	var out string
	fs := flag.NewFlagSet("perk bench gen-members", flag.ContinueOnError)
	fs.IntVar(&opt.Rows, "rows", 1_000_000, "data rows")
	fs.Float64Var(&opt.BadFraction, "bad", 0.02, "share of deliberately bad rows")
	fs.Int64Var(&opt.Seed, "seed", 1, "same seed, same file")
	fs.BoolVar(&opt.Tags, "tags", false, "add a tags column of CRM segments: a file for perk crm sync")
	fs.StringVar(&out, "out", "-", "output file, - for stdout")
	if err := parse(fs, args); err != nil {
		return err
	}
	var w io.Writer = os.Stdout
	if out != "-" {
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		defer f.Close()
		w = f
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	st, err := loadgen.GenerateMembersCSV(bw, opt)
	if err != nil {
		return err
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "wrote %d rows (%d bad)\n", st.Rows, st.Bad)
	return nil
}

func benchHTTP(ctx context.Context, args []string) error {
	var opt loadgen.Options
	var scenario string
	fs := flag.NewFlagSet("perk bench http", flag.ContinueOnError)
	strFlag(fs, &opt.BaseURL, "url", "PERK_BENCH_URL", "http://127.0.0.1:8080", "server to load")
	strFlag(fs, &opt.APIKey, "key", "PERK_BENCH_KEY", "", "API key (manager or admin)")
	fs.StringVar(&scenario, "scenario", "enrol", "enrol (POST /v1/members) or lookup (GET /v1/members/{code})")
	fs.IntVar(&opt.Concurrency, "c", 16, "concurrent workers")
	fs.DurationVar(&opt.Duration, "d", 10*time.Second, "run time")
	fs.IntVar(&opt.MaxRequests, "n", 0, "stop after this many requests (0: only -d)")
	fs.IntVar(&opt.Setup, "setup", 1000, "lookup: members to enrol first")
	fs.Int64Var(&opt.PhoneSeed, "seed", time.Now().UnixNano(), "phone numbering seed (a new one enrols new members)")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	opt.Scenario = loadgen.Scenario(scenario)
	res, err := loadgen.Run(ctx, opt)
	if err != nil {
		return err
	}
	return printResult(res, *asJSON, res.Report())
}

func benchCheckout(ctx context.Context, args []string) error {
	var opt loadgen.Options
	var scenario, codesFrom string
	fs := flag.NewFlagSet("perk bench checkout", flag.ContinueOnError)
	strFlag(fs, &opt.BaseURL, "url", "PERK_BENCH_URL", "http://127.0.0.1:8080", "server to load")
	strFlag(fs, &opt.APIKey, "key", "PERK_BENCH_KEY", "", "API key with the checkout permission: a pos key (its store is used) or an admin key with --store")
	fs.StringVar(&scenario, "scenario", "evaluate", "evaluate (POST /v1/checkout/evaluate), commit (POST /v1/checkout/commit) or mixed (80% evaluate, 20% commit)")
	fs.IntVar(&opt.Concurrency, "c", 16, "concurrent workers (tills)")
	fs.DurationVar(&opt.Duration, "d", 10*time.Second, "run time")
	fs.IntVar(&opt.MaxRequests, "n", 0, "stop after this many requests (0: only -d)")
	fs.IntVar(&opt.Setup, "members", 1000, "member pool: enrol this many members first (POST /v1/members with --key; pos keys may enrol)")
	fs.StringVar(&codesFrom, "codes-from", "", "member pool: read member codes from this file (one a line) instead of enrolling")
	fs.IntVar(&opt.Checkout.Lines, "lines", 10, "lines per basket (1-500)")
	fs.StringVar(&opt.Checkout.Store, "store", "", "store id sent in every basket (default: none, so a pos key's own store)")
	fs.StringVar(&opt.Checkout.Currency, "currency", "GBP", "the server's --currency")
	fs.Int64Var(&opt.Checkout.Seed, "seed", time.Now().UnixNano(), "the same seed gives the same baskets and members (transaction ids are new on every run); also numbers the phones of --members")
	asJSON := fs.Bool("json", false, "print the result as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if codesFrom != "" {
		if flagSet(fs, "members") {
			fmt.Fprintln(os.Stderr, "perk bench checkout: give --members or --codes-from, not both")
			return errUsage
		}
		f, err := os.Open(codesFrom)
		if err != nil {
			return err
		}
		opt.Codes, err = loadgen.ReadCodes(f)
		f.Close()
		if err != nil {
			return fmt.Errorf("%s: %w", codesFrom, err)
		}
	} else if opt.Setup < 1 {
		fmt.Fprintln(os.Stderr, "perk bench checkout: --members must be at least 1")
		return errUsage
	}
	if opt.Concurrency < 1 {
		fmt.Fprintln(os.Stderr, "perk bench checkout: -c must be at least 1")
		return errUsage
	}
	opt.Scenario = loadgen.Scenario(scenario)
	if opt.Scenario != loadgen.ScenarioEvaluate && opt.Scenario != loadgen.ScenarioCommit && opt.Scenario != loadgen.ScenarioMixed {
		fmt.Fprintf(os.Stderr, "perk bench checkout: --scenario %q: want evaluate, commit or mixed\n", scenario)
		return errUsage
	}
	opt.PhoneSeed = opt.Checkout.Seed // enrolled pool members: a new seed, new members
	pool := len(opt.Codes)
	if pool == 0 {
		pool = opt.Setup
	}
	if !*asJSON {
		fmt.Fprintf(os.Stderr, "checkout %s: %d workers, %d lines a basket, %d members, seed %d\n",
			opt.Scenario, opt.Concurrency, opt.Checkout.Lines, pool, opt.Checkout.Seed)
	}
	res, err := loadgen.Run(ctx, opt)
	if err != nil {
		return err
	}
	return printResult(res, *asJSON, struct {
		loadgen.Report
		Seed        int64  `json:"seed"`
		Lines       int    `json:"lines"`
		Members     int    `json:"members"`
		Concurrency int    `json:"concurrency"`
		URL         string `json:"url"`
	}{res.Report(), opt.Checkout.Seed, opt.Checkout.Lines, pool, opt.Concurrency, opt.BaseURL})
}

// printResult prints a load run's result as text lines, or v as one line
// of JSON.
func printResult(res loadgen.Result, asJSON bool, v any) error {
	if !asJSON {
		fmt.Println(res.Text())
		return nil
	}
	return json.NewEncoder(os.Stdout).Encode(v)
}

// flagSet reports whether the command line set the flag name.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// benchGenData fills an empty database with the reporting data set.
func benchGenData(ctx context.Context, args []string) error {
	var c Config
	var opt loadgen.DatasetOptions
	fs := flag.NewFlagSet("perk bench gen-data", flag.ContinueOnError)
	commonFlags(fs, &c)
	fs.IntVar(&opt.Members, "members", 1_000_000, "members")
	fs.IntVar(&opt.Messages, "messages", 10_000_000, "campaign SMS")
	fs.IntVar(&opt.Baskets, "baskets", 5_000_000, "committed baskets")
	fs.IntVar(&opt.Campaigns, "campaigns", 20, "launched campaigns")
	fs.Uint64Var(&opt.Seed, "seed", 1, "same seed, same data")
	if err := parse(fs, args); err != nil {
		return err
	}
	db, _, err := setup(ctx, &c)
	if err != nil {
		return err
	}
	defer db.Close()
	var n int
	if err := db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM members`).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("gen-data fills an empty database; %s has %d members", db.Redacted(), n)
	}
	start := time.Now()
	opt.Progress = func(table string, rows int, took time.Duration) {
		fmt.Fprintf(os.Stderr, "%-16s %10d rows in %6.1fs (%.0f rows/s)\n", table, rows, took.Seconds(), float64(rows)/max(took.Seconds(), 1e-9))
	}
	if err := loadgen.GenerateDataset(ctx, db, opt); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "done in %s\n", time.Since(start).Round(time.Second))
	return nil
}
