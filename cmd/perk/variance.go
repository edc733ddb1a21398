package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"github.com/perk-platform/perk/internal/variance"
)

const varianceUsage = `usage: perk variance rebuild [-o json]   recount the live campaigns' and their comparables' buckets and learn their norms again now`

// cmdVariance runs on demand what perk serve runs nightly: the rebuild of
// the variance norms (docs/variance.md).
func cmdVariance(ctx context.Context, args []string) error {
	if len(args) == 0 || args[0] != "rebuild" {
		fmt.Fprintln(os.Stderr, varianceUsage)
		return errUsage
	}
	var c Config
	var output string
	fs := flag.NewFlagSet("perk variance rebuild", flag.ContinueOnError)
	commonFlags(fs, &c)
	loyaltyFlags(fs, &c)
	fs.StringVar(&output, "o", "table", "output: table or json")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if len(pos) != 0 || (output != "table" && output != "json") {
		fmt.Fprintln(os.Stderr, varianceUsage)
		return errUsage
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
	res, err := variance.NewService(db, loy.campaigns, variance.Options{Log: log, Changes: c.changes(db, log)}).RebuildNorms(ctx)
	if err != nil || output == "json" {
		return orJSON(err, res)
	}
	fmt.Printf("%d campaigns' norms rebuilt from %d comparable campaigns\n", res.Campaigns, res.Comparables)
	return nil
}
