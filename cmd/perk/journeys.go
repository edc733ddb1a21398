package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/journey"
	"github.com/perk-platform/perk/internal/links"
	"github.com/perk-platform/perk/internal/store"
)

const journeysUsage = `usage: perk journeys apply -f FILE [--launch]   define or update journeys from YAML or JSON (FILE - is stdin)
       perk journeys get [NAME] [-o table|json|yaml]   list the journeys (yaml prints a file apply reads back)
       perk journeys launch NAME | stop NAME | delete NAME
       perk journeys counts NAME [-o json]    members at and past each step; the goal against the holdout`

// journeys is the journey service of perk serve and the CLI: offers through
// the campaign service, webhook steps into the webhook outbox, card links
// and {{link}} as the server writes them.
func (c *Config) journeys(db *store.DB, log *slog.Logger, campaigns *campaign.Service, sl *links.Service) (*journey.Service, error) {
	zone, err := time.LoadLocation(c.DefaultZone)
	if err != nil {
		return nil, fmt.Errorf("--default-zone: %w", err)
	}
	opt := journey.Options{Log: log, Zone: zone, Webhooks: c.webhooks(db, log), Links: sl, PublicURL: c.PublicURL,
		Programme: c.Programme, AbandonAfter: c.AbandonAfter}
	if campaigns != nil {
		opt.Offers = campaigns
	}
	return journey.NewService(db, opt), nil
}

func cmdJourneys(ctx context.Context, args []string) error {
	sub := ""
	if len(args) > 0 {
		sub = args[0]
	}
	switch sub {
	case "apply", "get", "launch", "stop", "delete", "counts":
	default:
		fmt.Fprintln(os.Stderr, journeysUsage)
		return errUsage
	}
	var c Config
	var file, output string
	var launch bool
	fs := flag.NewFlagSet("perk journeys "+sub, flag.ContinueOnError)
	commonFlags(fs, &c)
	publicURLFlags(fs, &c)
	programmeFlag(fs, &c)
	strFlag(fs, &c.DefaultZone, "default-zone", "PERK_DEFAULT_ZONE", "Europe/London", "time zone for members whose number gives none")
	fs.StringVar(&file, "f", "", "YAML or JSON file of journeys, documents separated by ---; - reads stdin")
	fs.StringVar(&output, "o", "table", "output: table, json or yaml (get)")
	fs.BoolVar(&launch, "launch", false, "launch the applied journeys that are not live")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	needName := sub == "launch" || sub == "stop" || sub == "delete" || sub == "counts"
	if (sub == "apply") != (file != "") || (needName && len(pos) != 1) || (sub == "get" && len(pos) > 1) ||
		(sub == "apply" || needName) && len(pos) > 1 || (sub == "apply" && len(pos) != 0) ||
		(output != "table" && output != "json" && output != "yaml") || (output == "yaml" && sub != "get") {
		fmt.Fprintln(os.Stderr, journeysUsage)
		return errUsage
	}
	var defs []journey.Definition
	if sub == "apply" {
		src, err := readInput(file)
		if err != nil {
			return err
		}
		if defs, err = journey.DecodeFile(src); err != nil {
			return fmt.Errorf("%s: nothing applied: %w", inputName(file), err)
		}
	}
	db, log, err := setup(ctx, &c)
	if err != nil {
		return err
	}
	defer db.Close()
	s, err := c.journeys(db, log, nil, nil)
	if err != nil {
		return err
	}
	switch sub {
	case "apply":
		for _, d := range defs {
			a, err := s.Apply(ctx, d)
			if err != nil {
				return err
			}
			line := fmt.Sprintf("%s %s (version %d, %s)", d.Name, a.Outcome, a.Journey.Version, a.Journey.Status)
			if launch && a.Journey.Status != journey.Live {
				if _, err := s.Launch(ctx, d.Name); err != nil {
					return err
				}
				line += ", launched"
			}
			fmt.Println(line)
		}
		return nil
	case "get":
		var list []journey.Journey
		if len(pos) == 1 {
			j, err := s.Get(ctx, pos[0])
			if err != nil {
				return err
			}
			list = []journey.Journey{*j}
		} else if list, err = s.List(ctx); err != nil {
			return err
		}
		switch output {
		case "json":
			return writeJSON(os.Stdout, list)
		case "yaml":
			defs := make([]journey.Definition, len(list))
			for i, j := range list {
				defs[i] = j.Definition
			}
			return journey.EncodeYAML(os.Stdout, defs...)
		}
		for _, j := range list {
			fmt.Printf("%-32s v%-3d %-8s %d steps, trigger %s\n", j.Name, j.Version, j.Status, len(j.Definition.Steps), j.Definition.Trigger.Event)
		}
		return nil
	case "launch", "stop":
		op := s.Launch
		if sub == "stop" {
			op = s.Stop
		}
		j, err := op(ctx, pos[0])
		if err != nil {
			return err
		}
		fmt.Printf("%s %s (version %d)\n", j.Name, j.Status, j.Version)
		return nil
	case "delete":
		if err := s.Delete(ctx, pos[0]); err != nil {
			return err
		}
		fmt.Printf("%s deleted\n", pos[0])
		return nil
	}
	r, err := s.Counts(ctx, pos[0])
	if err != nil || output == "json" {
		return orJSON(err, r)
	}
	printJourneyCounts(r)
	return nil
}

func printJourneyCounts(r *journey.Report) {
	fmt.Printf("%s: %d entered, %d inside\n", r.Journey, r.Entered, r.Active)
	reasons := make([]string, 0, len(r.Ended))
	for k := range r.Ended {
		reasons = append(reasons, k)
	}
	sort.Strings(reasons)
	for _, k := range reasons {
		fmt.Printf("  ended %-10s %d\n", k, r.Ended[k])
	}
	for _, st := range r.Steps {
		fmt.Printf("  v%d %-24s %-10s at %-6d passed %-6d %v", st.Version, st.Step, st.Kind, st.At, st.Passed, st.Outcomes)
		if len(st.Messages) > 0 {
			fmt.Printf(" messages %v", st.Messages)
		}
		fmt.Println()
	}
	if r.Uplift != nil {
		fmt.Printf("  goal: treated %d/%d (%.1f%%), holdout %d/%d (%.1f%%), difference %+.1f points",
			r.Treated.Converted, r.Treated.Entered, 100*r.Treated.Rate, r.Holdout.Converted, r.Holdout.Entered, 100*r.Holdout.Rate,
			100*r.Uplift.Difference)
		if r.Uplift.CI != nil {
			fmt.Printf(" (95%% CI %+.1f to %+.1f)", 100*r.Uplift.CI.Low, 100*r.Uplift.CI.High)
		}
		fmt.Println()
	}
}
