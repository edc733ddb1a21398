package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/perk-platform/perk/internal/batch"
	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/crm"
	"github.com/perk-platform/perk/internal/links"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/tabular"
)

const crmUsage = `usage: perk crm sync [--full] [--welcome=false] [--update-phones] [--errors FILE] [--cpuprofile FILE] FILE
                                          upsert the CRM subset by external_id (--full: the file is the whole subset)
       perk crm offers [--errors FILE] FILE   give the personal offers of a CRM file (one member and offer a row)
       perk crm export --out DIR [--since CURSOR] [--format csv|jsonl] [--wait 5s] [-o table|json]
                                          write the CRM feed files (changes after CURSOR) and their manifest`

// cmdCRM runs the CRM guise's commands.
func cmdCRM(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "sync" {
		return crmSync(ctx, args[1:])
	}
	if len(args) > 0 && args[0] == "export" {
		return crmExport(ctx, args[1:])
	}
	if len(args) == 0 || args[0] != "offers" {
		fmt.Fprintln(os.Stderr, crmUsage)
		return errUsage
	}
	var c Config
	var errorsPath string
	fs := flag.NewFlagSet("perk crm offers", flag.ContinueOnError)
	commonFlags(fs, &c)
	// The same settings as perk serve, so that the announcements queued
	// here read as the server's would.
	programmeFlag(fs, &c)
	publicURLFlags(fs, &c)
	loyaltyFlags(fs, &c)
	fs.StringVar(&errorsPath, "errors", "", "where to write rejected rows as CSV (default FILE.errors.csv)")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fmt.Fprintln(os.Stderr, crmUsage)
		return errUsage
	}
	path := pos[0]
	if errorsPath == "" {
		errorsPath = path + ".errors.csv"
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	ef, err := os.Create(errorsPath)
	if err != nil {
		return err
	}
	defer ef.Close()
	ew := tabular.NewErrorWriter(ef)
	rejected := 0
	onError := func(e *tabular.RowError) error { rejected++; return ew.Write(e) }
	// A file with a bad header is refused before the database is opened.
	grants, err := campaign.ReadOfferFile(f, onError)
	if err != nil {
		return fmt.Errorf("%s: %w; nothing was given", path, err)
	}
	db, log, err := setup(ctx, &c)
	if err != nil {
		return err
	}
	defer db.Close()
	members := c.memberService(db, log)
	loy, err := c.loyalty(db, members, links.NewService(db, c.PublicURL, nil), log)
	if err != nil {
		return err
	}
	for _, g := range grants {
		var ids []string
		for i, key := range g.Members {
			m, err := members.Lookup(ctx, key)
			if err != nil {
				if k := problem.KindOf(err); k != problem.NotFound && k != problem.Invalid {
					return err
				}
				if err := onError(&tabular.RowError{Row: g.Rows[i], Column: "external_id", Reason: err.Error()}); err != nil {
					return err
				}
				continue
			}
			ids = append(ids, m.ID)
		}
		for start := 0; start < len(ids); start += campaign.MaxAssign {
			given, err := loy.campaigns.GivePersonal(ctx, g.Offer, ids[start:min(start+campaign.MaxAssign, len(ids))], g.Announce)
			if err != nil {
				return fmt.Errorf("offer %q: %w", g.Offer.Description, err)
			}
			fmt.Printf("%s (%s): %d given, %d had it already, %d announced\n",
				given.Campaign.Spec.Name, given.Campaign.ID, given.Added, given.Already, given.Announced)
		}
	}
	if err := ew.Flush(); err != nil {
		return err
	}
	if rejected > 0 {
		fmt.Fprintf(os.Stderr, "%d rows rejected, listed in %s\n", rejected, errorsPath)
	} else {
		ef.Close()
		os.Remove(errorsPath)
	}
	return nil
}

// crmSync upserts the retailer's CRM subset from a member file keyed by
// external_id: the members it names join the subset (tag crm) with the
// file's tags as their segments; with --full the members of the subset the
// file leaves out leave it. Nobody is deleted.
func crmSync(ctx context.Context, args []string) error {
	var c Config
	var errorsPath, cpuprofile string
	var full, welcome, updatePhones bool
	fs := flag.NewFlagSet("perk crm sync", flag.ContinueOnError)
	commonFlags(fs, &c)
	publicURLFlags(fs, &c)
	fs.StringVar(&errorsPath, "errors", "", "where to write rejected rows as CSV (default FILE.errors.csv)")
	fs.BoolVar(&full, "full", false, "the file is the whole subset: members of the subset it leaves out leave it")
	fs.BoolVar(&welcome, "welcome", true, "text new members who consented their code and card link")
	fs.BoolVar(&updatePhones, "update-phones", false, "let a row change the phone of the member its external_id names")
	fs.StringVar(&cpuprofile, "cpuprofile", "", "write a CPU profile of the sync to this file")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		fmt.Fprintln(os.Stderr, crmUsage)
		return errUsage
	}
	_, err = importFile(ctx, &c, pos[0], errorsPath, cpuprofile, member.ImportOptions{Source: "crm sync " + filepath.Base(pos[0]),
		BatchSize: 5000, NoWelcome: !welcome, UpdatePhones: updatePhones, Sync: member.NewSyncRun(time.Now()), Full: full})
	return err
}

// crmExport writes the CRM feed files: every change after --since (a cursor
// an earlier export printed; none: from the beginning), one file per feed
// and a manifest, into --out. It prints the files and the cursor to pass as
// --since next time (-o json: the manifest).
func crmExport(ctx context.Context, args []string) error {
	var c Config
	var out, since, format, output string
	var wait time.Duration
	fs := flag.NewFlagSet("perk crm export", flag.ContinueOnError)
	commonFlags(fs, &c)
	fs.StringVar(&out, "out", "", "the folder the files appear in (created if need be)")
	fs.StringVar(&since, "since", "", "the cursor an earlier export printed; none: every change")
	fs.StringVar(&format, "format", "csv", "csv or jsonl")
	fs.DurationVar(&wait, "wait", crm.DefaultWait, "how long to wait for writes in flight to end, so they are in this export (else the next)")
	outputFlag(fs, &output, "table", "json")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 0 || out == "" {
		fmt.Fprintln(os.Stderr, crmUsage)
		return errUsage
	}
	if err := checkOutput("crm export", output, "table", "json"); err != nil {
		return err
	}
	f, err := batch.ParseFormat(format)
	if err != nil {
		return fmt.Errorf("--format: %w", err)
	}
	db, _, err := setup(ctx, &c)
	if err != nil {
		return err
	}
	defer db.Close()
	m, err := crm.NewExporter(db, nil).Export(ctx, out, since, f, wait)
	if err != nil {
		if problem.KindOf(err) == problem.Invalid {
			return fmt.Errorf("--since %q: %w", since, err)
		}
		return err
	}
	if output == "json" {
		return json.NewEncoder(os.Stdout).Encode(m)
	}
	tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FILE\tROWS\tSHA256")
	for _, f := range m.Files {
		fmt.Fprintf(tw, "%s\t%d\t%s\n", f.Name, f.Rows, f.SHA256)
	}
	tw.Flush()
	fmt.Printf("cursor %s (pass as --since to the next export)\n", m.Cursor)
	return nil
}
