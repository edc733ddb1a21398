package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/journey"
	"github.com/perk-platform/perk/internal/links"
	"github.com/perk-platform/perk/internal/store"
)

const journeysUsage = `usage: perk journeys apply -f FILE [--launch]   define or update journeys from YAML or JSON (FILE - is stdin)
       perk journeys get [NAME] [-o table|json|yaml]   list the journeys (yaml prints a file apply reads back)
       perk journeys launch NAME | stop NAME | delete NAME
       perk journeys counts NAME [-o json]    members at and past each step; the goal against the holdout
       perk journeys move NAME --from V:STEP --to [V:]STEP   move the members at a step of version V to a step of
                                           another version (the current one if no V:)
       perk journeys dry-run NAME --member KEY [--version N] [--since T] [--until T] [-o json]
                                           what the journey would have done with the member's recorded events
                                           (times RFC 3339); writes nothing`

// journeys is the journey service of perk serve and the CLI: offers through
// the campaign service, webhook steps into the webhook outbox, card links
// and {{link}} as the server writes them.
func (c *Config) journeys(db *store.DB, log *slog.Logger, campaigns *campaign.Service, sl *links.Service) (*journey.Service, error) {
	zone, err := time.LoadLocation(c.DefaultZone)
	if err != nil {
		return nil, fmt.Errorf("--default-zone: %w", err)
	}
	opt := journey.Options{Log: log, Zone: zone, Webhooks: c.webhooks(db, log), Links: sl, PublicURL: c.PublicURL,
		Programme: c.Programme, AbandonAfter: c.AbandonAfter, Lease: c.JourneyLease, Now: c.now()}
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
	case "apply", "get", "launch", "stop", "delete", "counts", "move", "dry-run":
	default:
		fmt.Fprintln(os.Stderr, journeysUsage)
		return errUsage
	}
	var c Config
	var file, output string
	var launch bool
	var from, to, memberKey, since, until string
	var version int
	fs := flag.NewFlagSet("perk journeys "+sub, flag.ContinueOnError)
	commonFlags(fs, &c)
	publicURLFlags(fs, &c)
	programmeFlag(fs, &c)
	strFlag(fs, &c.DefaultZone, "default-zone", "PERK_DEFAULT_ZONE", "Europe/London", "time zone for members whose number gives none")
	fs.StringVar(&file, "f", "", "YAML or JSON file of journeys, documents separated by ---; - reads stdin")
	fs.StringVar(&output, "o", "table", "output: table, json or yaml (get)")
	fs.BoolVar(&launch, "launch", false, "launch the applied journeys that are not live")
	fs.StringVar(&from, "from", "", "move: VERSION:STEP the members are at")
	fs.StringVar(&to, "to", "", "move: [VERSION:]STEP to move them to (the current version if no VERSION:)")
	fs.StringVar(&memberKey, "member", "", "dry-run: the member (id, code, phone or ext:CRM id)")
	fs.IntVar(&version, "version", 0, "dry-run: the version to try (the current one if 0)")
	fs.StringVar(&since, "since", "", "dry-run: the first of the member's events to read (RFC 3339)")
	fs.StringVar(&until, "until", "", "dry-run: the simulated end (RFC 3339; now if empty)")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	needName := sub == "launch" || sub == "stop" || sub == "delete" || sub == "counts" || sub == "move" || sub == "dry-run"
	if (sub == "move") != (from != "" && to != "") || (sub == "dry-run") != (memberKey != "") {
		fmt.Fprintln(os.Stderr, journeysUsage)
		return errUsage
	}
	var move journey.Move
	if sub == "move" {
		if move, err = parseMove(from, to); err != nil {
			return err
		}
	}
	var dryOpt journey.DryRunOptions
	if sub == "dry-run" {
		dryOpt.Version = version
		for _, t := range []struct {
			flag, v string
			to      *time.Time
		}{{"since", since, &dryOpt.Since}, {"until", until, &dryOpt.Until}} {
			if t.v == "" {
				continue
			}
			if *t.to, err = time.Parse(time.RFC3339, t.v); err != nil {
				return fmt.Errorf("--%s: %w", t.flag, err)
			}
		}
	}
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
			fmt.Printf("%-32s v%-3d %-8s %d steps, trigger %s\n", j.Name, j.Version, j.Status, len(j.Definition.Steps), triggerText(j.Definition.Trigger))
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
	case "move":
		m, err := s.Move(ctx, pos[0], move)
		if err != nil || output == "json" {
			return orJSON(err, m)
		}
		fmt.Printf("%s: %d moved from version %d step %s to version %d step %s\n", m.Journey, m.Moved, m.FromVersion, m.FromStep,
			m.ToVersion, m.ToStep)
		return nil
	case "dry-run":
		m, err := c.memberService(db, log).Lookup(ctx, memberKey)
		if err != nil {
			return err
		}
		d, err := s.DryRun(ctx, pos[0], m.ID, dryOpt)
		if err != nil || output == "json" {
			return orJSON(err, d)
		}
		printDryRun(d)
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
	fmt.Printf("%s: %d entered, %d inside (version %d %s)\n", r.Journey, r.Entered, r.Active, r.Version, r.Status)
	reasons := make([]string, 0, len(r.Ended))
	for k := range r.Ended {
		reasons = append(reasons, k)
	}
	sort.Strings(reasons)
	for _, k := range reasons {
		fmt.Printf("  ended %-10s %d\n", k, r.Ended[k])
	}
	for _, st := range r.Steps {
		fmt.Printf("  v%d %-24s %-10s at %-6d passed %-6d %v  %s", st.Version, st.Step, st.Kind, st.At, st.Passed, st.Outcomes, st.Summary)
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

// parseMove reads --from VERSION:STEP and --to [VERSION:]STEP.
func parseMove(from, to string) (journey.Move, error) {
	var m journey.Move
	v, step, ok := strings.Cut(from, ":")
	n, err := strconv.Atoi(v)
	if !ok || err != nil || step == "" {
		return m, fmt.Errorf("--from %q: want VERSION:STEP, e.g. 1:pause", from)
	}
	m.FromVersion, m.FromStep = n, step
	if v, step, ok := strings.Cut(to, ":"); ok {
		if m.ToVersion, err = strconv.Atoi(v); err != nil || step == "" {
			return m, fmt.Errorf("--to %q: want [VERSION:]STEP, e.g. 2:pause", to)
		}
		m.ToStep = step
	} else {
		m.ToStep = to
	}
	return m, nil
}

func printDryRun(d *journey.DryRun) {
	fmt.Printf("%s v%d for %s: %d events read up to %s, %d entries\n", d.Journey, d.Version, d.MemberID, d.Events,
		d.Until.Format(time.RFC3339), len(d.Entries))
	for _, e := range d.Entries {
		hold := ""
		if e.Holdout {
			hold = " (holdout: runs no step)"
		}
		fmt.Printf("%s  entered (event %d)%s\n", e.EnteredAt.Format(time.RFC3339), e.Trigger, hold)
		for _, st := range e.Steps {
			fmt.Printf("%s  %-24s %-10s %s", st.At.Format(time.RFC3339), st.Step, st.Kind, st.Outcome)
			if st.Text != "" {
				fmt.Printf("  %q", st.Text)
			}
			fmt.Println()
		}
		switch {
		case e.EndedAt != nil:
			fmt.Printf("%s  ended: %s\n", e.EndedAt.Format(time.RFC3339), e.ExitReason)
		default:
			fmt.Println("                      still inside")
		}
		if e.ConvertedAt != nil {
			fmt.Printf("%s  goal reached\n", e.ConvertedAt.Format(time.RFC3339))
		}
	}
}

// triggerText is how the journeys list names a trigger.
func triggerText(f journey.Filter) string {
	switch {
	case f.CampaignLaunch != "":
		return "campaign launch " + f.CampaignLaunch
	case f.Segment != nil:
		return "segment"
	}
	return f.Event
}
