// Command perk runs the Perk mobile customer engagement platform: the HTTP
// server and the operator commands around it.
//
//	perk serve [--demo]            run the server
//	perk migrate                   apply database migrations
//	perk config print              show the effective settings and their sources
//	perk backup --out FILE         copy the SQLite database while the server runs
//	perk members import FILE       import members from CSV/TSV
//	perk keys create --role ROLE   create an API key
//	perk catalogue import FILE     import products or stores from CSV/TSV
//	perk campaigns apply -f FILE   create or update campaigns from YAML/JSON
//	perk bench ...                 load generator and test data
//	perk version                   version and commit of the binary
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

const usage = `perk: mobile customer engagement for retailers

Usage:
  perk serve [flags]                         run the HTTP server (--demo seeds a demo retailer)
  perk migrate [flags]                       apply database migrations and exit
  perk config print [flags]                  the settings perk serve would use, with their sources
  perk backup --out FILE                     copy a SQLite database safely while perk serve runs
  perk members import [flags] FILE           import members from a CSV/TSV file
  perk keys create --role ROLE [--store S]   create an API key (printed once)
  perk catalogue import [--kind K] FILE      import products or stores (K) from a CSV/TSV file
  perk keys list [-o json] | perk keys revoke ID
  perk webhooks add|list|rotate|remove|deliveries|replay   signed webhook endpoints
  perk users create|list|disable|passwd      operator accounts for /manage ("perk users" for the flags)
  perk campaigns apply -f FILE [--launch]    create or update campaigns from YAML/JSON files
  perk campaigns get [ID|NAME] [-o yaml]     list campaigns, show one, or print its spec
  perk campaigns preview|simulate|launch|pause|resume|delete ID|NAME
  perk crm offers FILE                       give a CRM file's personal offers (one member and offer a row)
  perk crm export --out DIR [--since CURSOR] the CRM feed files keyed by CRM id, by cursor, with a manifest
  perk funnels apply -f FILE | get | report NAME | campaign ID   funnels over the event stream
  perk journeys apply -f FILE | get | launch | stop | counts | move | dry-run NAME   journeys: automation on the event stream
  perk referrals apply -f FILE | get | report   the referral programme: rewards, caps, budget; its report
  perk profiles refresh                      recompute members' profiles, RFM quintiles and segments now
  perk nbo pool apply -f FILE [--replace] | pool get | rules refresh   the next-best-offer pool and association rules
  perk variance rebuild                      recount live campaigns' buckets and learn their norms again (nightly in serve)
  perk sms inject --from NUMBER "TEXT"       handle an inbound SMS as if it came from NUMBER
  perk sms outbox [--to NUMBER] [-o json]    list queued and sent messages
  perk sms status [--campaign ID] [-o json]  count messages by status and delivery
  perk sms texts [--locale L] [--texts DIR]  print every shopper text with its SMS segments
  perk export mart --out DIR [--since DATE]  write the reporting data mart (CSV or parquet star schema)
  perk batch offers --out DIR [--store S]    offer files for tills working offline (--since CURSOR: a delta)
  perk batch transactions [--mode M] FILE    process a till transaction file (decide or applied)
  perk batch reconciliation [--since DATE]   offers tills gave offline against the rules, as CSV
  perk bench gen-members [flags]             write a members CSV for import benchmarks
  perk bench http [flags]                    load-test a running server
  perk bench checkout [flags]                load-test the till API (evaluate, commit, mixed)
  perk version                               print the version and commit of this binary

Every list command takes -o json (or --output json) for scripts.
Run "perk COMMAND -h" for the flags of a command. Every flag can also be set
through its PERK_* environment variable (e.g. --db / PERK_DB), or as
PERK_DB=... in a file named by --config or PERK_CONFIG; a flag wins over the
environment, which wins over the file.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:])
	stop()
	if err != nil {
		if !errors.Is(err, errUsage) {
			fmt.Fprintln(os.Stderr, "perk:", err)
		}
		os.Exit(exitCode(err))
	}
}

var errUsage = errors.New("usage")

func exitCode(err error) int {
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

func run(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(os.Stderr, usage)
		return errUsage
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return cmdServe(ctx, rest)
	case "migrate":
		return cmdMigrate(ctx, rest)
	case "config":
		return cmdConfig(ctx, rest)
	case "backup":
		return cmdBackup(ctx, rest)
	case "members":
		return cmdMembers(ctx, rest)
	case "webhooks":
		return cmdWebhooks(ctx, rest)
	case "keys":
		return cmdKeys(ctx, rest)
	case "catalogue":
		return cmdCatalogue(ctx, rest)
	case "users":
		return cmdUsers(ctx, rest)
	case "campaigns":
		return cmdCampaigns(ctx, rest)
	case "crm":
		return cmdCRM(ctx, rest)
	case "funnels":
		return cmdFunnels(ctx, rest)
	case "journeys":
		return cmdJourneys(ctx, rest)
	case "referrals":
		return cmdReferrals(ctx, rest)
	case "profiles":
		return cmdProfiles(ctx, rest)
	case "nbo":
		return cmdNBO(ctx, rest)
	case "variance":
		return cmdVariance(ctx, rest)
	case "bench":
		return cmdBench(ctx, rest)
	case "sms":
		return cmdSMS(ctx, rest)
	case "export":
		return cmdExport(ctx, rest)
	case "batch":
		return cmdBatch(ctx, rest)
	case "version", "--version":
		return cmdVersion(rest)
	case "help", "-h", "--help":
		fmt.Print(usage)
		return nil
	}
	fmt.Fprintf(os.Stderr, "perk: unknown command %q\n\n%s", cmd, usage)
	return errUsage
}
