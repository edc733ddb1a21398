package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/perk-platform/perk/internal/referral"
)

const referralsUsage = `usage: perk referrals apply -f FILE        set the referral programme from YAML or JSON (FILE - is stdin)
       perk referrals get [-o yaml|json]    print the settings in force (what apply reads)
       perk referrals report [--from DATE] [--to DATE] [-o json]   sent, opened, joined, rewarded, cost, revenue`

func cmdReferrals(ctx context.Context, args []string) error {
	sub := ""
	if len(args) > 0 {
		sub = args[0]
	}
	switch sub {
	case "apply", "get", "report":
	default:
		fmt.Fprintln(os.Stderr, referralsUsage)
		return errUsage
	}
	var c Config
	var file, output, from, to string
	fs := flag.NewFlagSet("perk referrals "+sub, flag.ContinueOnError)
	commonFlags(fs, &c)
	publicURLFlags(fs, &c) // referral links
	loyaltyFlags(fs, &c)   // what points cost
	fs.StringVar(&file, "f", "", "YAML or JSON file of the referral settings; - reads stdin")
	fs.StringVar(&output, "o", map[bool]string{true: "yaml", false: "table"}[sub == "get"], "output: table, yaml or json")
	fs.StringVar(&from, "from", "", "report referrals from this day or time (default 30 days ago)")
	fs.StringVar(&to, "to", "", "report referrals before this day or time (default now)")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if (sub == "apply") != (file != "") || len(pos) > 0 || (output != "table" && output != "json" && output != "yaml") {
		fmt.Fprintln(os.Stderr, referralsUsage)
		return errUsage
	}
	var st referral.Settings
	if sub == "apply" {
		src, err := readInput(file)
		if err != nil {
			return err
		}
		if st, err = referral.ParseSettings(src); err != nil {
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
	refs := loy.referrals
	switch sub {
	case "apply":
		saved, err := refs.Save(ctx, st)
		if err != nil {
			return fmt.Errorf("%s: nothing applied: %w", inputName(file), err)
		}
		fmt.Printf("referrals %s\n", map[bool]string{true: "on", false: "off"}[saved.Enabled])
		return nil
	case "get":
		cur, err := refs.Settings(ctx)
		if err != nil || output == "json" {
			return orJSON(err, cur)
		}
		b, _ := yaml.Marshal(cur) // plain data
		_, err = os.Stdout.Write(b)
		return err
	}
	f, t, err := reportRange(from, to)
	if err != nil {
		return err
	}
	rep, err := refs.Report(ctx, f, t)
	if err != nil || output != "table" {
		return orJSON(err, rep)
	}
	fmt.Printf("sent %d, opened %d, joined %d (refused %d), pending %d, qualified %d, rewarded %d, not rewarded %d, clawed back %d\n",
		rep.Sent, rep.Opened, rep.Joined, rep.Refused, rep.Pending, rep.Qualified, rep.Rewarded, rep.NotRewarded, rep.ClawedBack)
	fmt.Printf("cost %s\n", loy.currency.Format(rep.Cost))
	fmt.Printf("new members referred: %d, revenue %s (%s each); other new members: %d, revenue %s (%s each)\n",
		rep.Referred.Members, loy.currency.Format(rep.Referred.Revenue), loy.currency.Format(rep.Referred.PerMember),
		rep.Other.Members, loy.currency.Format(rep.Other.Revenue), loy.currency.Format(rep.Other.PerMember))
	return nil
}
