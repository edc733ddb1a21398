package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/perk-platform/perk/internal/loadgen"
)

func cmdBench(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: perk bench gen-members [--rows N] [--bad F] [--seed S] [--out FILE] | perk bench http --key KEY [flags]")
		return errUsage
	}
	switch args[0] {
	case "gen-members":
		return benchGenMembers(args[1:])
	case "http":
		return benchHTTP(ctx, args[1:])
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
	if err := parse(fs, args); err != nil {
		return err
	}
	opt.Scenario = loadgen.Scenario(scenario)
	res, err := loadgen.Run(ctx, opt)
	if err != nil {
		return err
	}
	fmt.Println(res)
	return nil
}
