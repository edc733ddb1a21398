package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/perk-platform/perk/internal/nbo"
)

const nboUsage = `usage: perk nbo pool apply -f FILE [--replace]   write the offer pool from YAML or JSON (FILE - is stdin); by name, idempotent
       perk nbo pool get [-o json]                 print the pool
       perk nbo rules refresh                      mine the basket association rules again`

func cmdNBO(ctx context.Context, args []string) error {
	if len(args) < 2 {
		fmt.Fprintln(os.Stderr, nboUsage)
		return errUsage
	}
	sub := args[0] + " " + args[1]
	switch sub {
	case "pool apply", "pool get", "rules refresh":
	default:
		fmt.Fprintln(os.Stderr, nboUsage)
		return errUsage
	}
	var c Config
	var file, output string
	var replace bool
	fs := flag.NewFlagSet("perk nbo "+sub, flag.ContinueOnError)
	commonFlags(fs, &c)
	loyaltyFlags(fs, &c)
	fs.StringVar(&file, "f", "", "YAML or JSON file of the pool's offers; - reads stdin")
	fs.BoolVar(&replace, "replace", false, "delete the pool's offers the file does not name")
	fs.StringVar(&output, "o", "table", "output: table or json")
	pos, err := parseInterspersed(fs, args[2:])
	if err != nil {
		return err
	}
	if (sub == "pool apply") != (file != "") || len(pos) > 0 || (output != "table" && output != "json") {
		fmt.Fprintln(os.Stderr, nboUsage)
		return errUsage
	}
	var offers []nbo.Offer
	if sub == "pool apply" {
		src, err := readInput(file)
		if err != nil {
			return err
		}
		if offers, err = nbo.ParseFile(bytes.NewReader(src)); err != nil {
			return fmt.Errorf("%s: nothing applied: %w", inputName(file), err)
		}
	}
	db, log, err := setup(ctx, &c)
	if err != nil {
		return err
	}
	defer db.Close()
	loy, err := c.loyalty(db, c.memberService(db, log), nil, log)
	if err != nil {
		return err
	}
	svc := nbo.NewService(db, loy.campaigns, nbo.Options{Log: log})
	switch sub {
	case "pool apply":
		a, err := svc.PutPool(ctx, offers, replace)
		if err != nil {
			return fmt.Errorf("%s: nothing applied: %w", inputName(file), err)
		}
		fmt.Printf("pool: %d created, %d updated, %d unchanged, %d deleted\n", a.Created, a.Updated, a.Unchanged, a.Deleted)
		return nil
	case "pool get":
		pool, err := svc.Pool(ctx)
		if err != nil || output == "json" {
			return orJSON(err, pool)
		}
		for _, o := range pool {
			fmt.Printf("%s\t%s\t%s\tcost %d\n", o.Name, o.Benefit.Kind, o.Description, o.Cost)
		}
		return nil
	}
	m, err := svc.MineRules(ctx, nbo.DefaultThresholds)
	if err != nil {
		return err
	}
	fmt.Printf("%d baskets, %d rules\n", m.Baskets, len(m.Rules))
	return nil
}
