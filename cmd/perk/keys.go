package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/catalogue"
)

func cmdKeys(ctx context.Context, args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "usage: perk keys create --role ROLE [--store S] [--name N] | perk keys list | perk keys revoke ID")
		return errUsage
	}
	var c Config
	var role, storeID, name, output string
	fs := flag.NewFlagSet("perk keys "+args[0], flag.ContinueOnError)
	commonFlags(fs, &c)
	if args[0] == "list" {
		outputFlag(fs, &output, "table", "json")
	}
	if args[0] == "create" {
		fs.StringVar(&role, "role", "", "admin, manager, pos or reporting")
		fs.StringVar(&storeID, "store", "", "store a pos key is bound to")
		fs.StringVar(&name, "name", "", "a note on what the key is for")
	}
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if args[0] == "list" {
		if err := checkOutput("keys list", output, "table", "json"); err != nil {
			return err
		}
	}
	db, _, err := setup(ctx, &c)
	if err != nil {
		return err
	}
	defer db.Close()
	keys := auth.NewService(db, nil)
	switch args[0] {
	case "create":
		r, err := auth.ParseRole(role)
		if err != nil {
			return err
		}
		if storeID != "" {
			// A till's key names a store the tills may trade at.
			snap, err := catalogue.New(db, catalogue.Options{}).Snapshot(ctx)
			if err != nil {
				return err
			}
			if _, ok := snap.TradingStore(storeID); !ok {
				return fmt.Errorf("--store %s: no such store in the catalogue; add it first (perk catalogue import stores.csv, or PUT /v1/stores)", storeID)
			}
		}
		secret, k, err := keys.Create(ctx, r, storeID, name)
		if err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "created %s key %s; this is the only time it is shown:\n", k.Role, k.ID)
		fmt.Println(secret)
		return nil
	case "list":
		list, err := keys.List(ctx)
		if err != nil {
			return err
		}
		if output == "json" {
			return writeJSON(os.Stdout, nonNil(list))
		}
		tw := tabwriter.NewWriter(os.Stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tROLE\tSTORE\tNAME\tCREATED\tREVOKED")
		for _, k := range list {
			revoked := ""
			if k.RevokedAt != nil {
				revoked = k.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Role, k.Store, k.Name, k.CreatedAt.UTC().Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	case "revoke":
		if fs.NArg() != 1 {
			return fmt.Errorf("usage: perk keys revoke ID")
		}
		return keys.Revoke(ctx, fs.Arg(0))
	}
	return fmt.Errorf("unknown keys command %q", args[0])
}
