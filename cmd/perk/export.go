package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/mart"
)

const exportUsage = "usage: perk export mart --out DIR [--since 2026-11-01|RFC3339] [--format csv|parquet] [--pseudonym-key HEX]"

func cmdExport(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "mart" {
		fmt.Fprintln(os.Stderr, exportUsage)
		return errUsage
	}
	var c Config
	var out, since, format, key string
	fs := flag.NewFlagSet("perk export mart", flag.ContinueOnError)
	commonFlags(fs, &c)
	strFlag(fs, &out, "out", "PERK_MART_OUT", "", "folder to write the tables and manifest.json into (created if missing)")
	strFlag(fs, &since, "since", "PERK_MART_SINCE", "", "export only facts at or after this time: 2026-11-01 (UTC midnight) or RFC 3339; dimensions are always whole")
	strFlag(fs, &format, "format", "PERK_MART_FORMAT", mart.CSV, "csv or parquet")
	strFlag(fs, &key, "pseudonym-key", "PERK_MART_KEY", "", "secret hex key (at least 32 hex digits) that pseudonymises member ids; keep it the same across exports")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 0 || out == "" {
		fmt.Fprintln(os.Stderr, exportUsage)
		return errUsage
	}
	if format != mart.CSV && format != mart.Parquet {
		return fmt.Errorf("--format must be csv or parquet, not %q", format)
	}
	var from time.Time
	if since != "" {
		var err error
		if from, err = parseSince(since); err != nil {
			return err
		}
	}
	k, err := mart.ParseKey(key)
	if err != nil {
		return err
	}
	db, log, err := setup(ctx, &c)
	if err != nil {
		return err
	}
	defer db.Close()
	start := time.Now()
	m, err := mart.Export(ctx, db, mart.Options{Dir: out, Format: format, Since: from, Key: k, Now: time.Now})
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	for _, t := range m.Tables {
		fmt.Printf("%-22s %10d rows  %s\n", t.Name, t.Rows, t.File)
	}
	log.Info("data mart exported", "dir", out, "format", format, "rows", m.Rows(),
		"elapsed", elapsed.Round(time.Millisecond), "rows_per_s", int64(float64(m.Rows())/elapsed.Seconds()))
	return nil
}

// parseSince reads --since: a date (midnight UTC) or an RFC 3339 time.
func parseSince(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--since %q is not a date (2026-11-01) or an RFC 3339 time (2026-11-01T09:00:00Z)", s)
}
