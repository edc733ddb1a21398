package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/perk-platform/perk/internal/funnel"
)

const funnelsUsage = `usage: perk funnels apply -f FILE        define or update funnels from YAML or JSON (FILE - is stdin)
       perk funnels get [-o json]           list the funnels
       perk funnels report NAME [--from DATE] [--to DATE] [-o json]
       perk funnels campaign ID [--window 7d] [-o json]   a campaign's buy pipeline, treated and control`

func cmdFunnels(ctx context.Context, args []string) error {
	sub := ""
	if len(args) > 0 {
		sub = args[0]
	}
	switch sub {
	case "apply", "get", "report", "campaign":
	default:
		fmt.Fprintln(os.Stderr, funnelsUsage)
		return errUsage
	}
	var c Config
	var file, output, from, to, window string
	fs := flag.NewFlagSet("perk funnels "+sub, flag.ContinueOnError)
	commonFlags(fs, &c)
	fs.StringVar(&file, "f", "", "YAML or JSON file of funnels, documents separated by ---; - reads stdin")
	fs.StringVar(&output, "o", "table", "output: table or json")
	fs.StringVar(&from, "from", "", "report entries from this day or time (default 30 days ago)")
	fs.StringVar(&to, "to", "", "report entries before this day or time (default now)")
	fs.StringVar(&window, "window", "7d", "the buy pipeline's conversion window")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if (sub == "apply") != (file != "") || (sub == "report" || sub == "campaign") != (len(pos) == 1) || (output != "table" && output != "json") {
		fmt.Fprintln(os.Stderr, funnelsUsage)
		return errUsage
	}
	var defs []funnel.Definition
	if sub == "apply" {
		src, err := readInput(file)
		if err != nil {
			return err
		}
		if defs, err = funnel.DecodeFile(src); err != nil {
			return fmt.Errorf("%s: nothing applied: %w", inputName(file), err)
		}
	}
	db, _, err := setup(ctx, &c)
	if err != nil {
		return err
	}
	defer db.Close()
	s := funnel.NewService(db, nil)
	switch sub {
	case "apply":
		for _, d := range defs {
			changed, err := s.Save(ctx, d)
			if err != nil {
				return err
			}
			fmt.Printf("%s %s\n", d.Name, map[bool]string{true: "applied", false: "unchanged"}[changed])
		}
		return nil
	case "get":
		list, err := s.List(ctx)
		if err != nil || output == "json" {
			return orJSON(err, list)
		}
		for _, d := range list {
			fmt.Println(d.Describe())
		}
		return nil
	}
	var rep funnel.Report
	if sub == "campaign" {
		var w funnel.Duration
		if err := w.UnmarshalText([]byte(window)); err != nil {
			return err
		}
		rep, err = s.Campaign(ctx, pos[0], time.Duration(w))
	} else {
		var def funnel.Definition
		if def, err = s.Get(ctx, pos[0]); err != nil {
			return err
		}
		f, t, perr := reportRange(from, to)
		if perr != nil {
			return perr
		}
		rep, err = s.Run(ctx, def, f, t)
	}
	if err != nil || output == "json" {
		return orJSON(err, rep)
	}
	printReport(rep)
	return nil
}

func orJSON(err error, v any) error {
	if err != nil {
		return err
	}
	return writeJSON(os.Stdout, v)
}

// reportRange parses --from and --to (YYYY-MM-DD or RFC 3339).
func reportRange(from, to string) (time.Time, time.Time, error) {
	t := time.Now().UTC()
	f := t.Add(-30 * 24 * time.Hour)
	for _, p := range []struct {
		v   string
		dst *time.Time
	}{{from, &f}, {to, &t}} {
		if p.v == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339, p.v)
		if err != nil {
			if v, err = time.Parse(time.DateOnly, p.v); err != nil {
				return f, t, fmt.Errorf("%q: want YYYY-MM-DD or RFC 3339", p.v)
			}
		}
		*p.dst = v
	}
	return f, t, nil
}

func printReport(r funnel.Report) {
	fmt.Printf("%s: entries %s to %s, window %s\n", r.Funnel, r.From.Format(time.DateTime), r.To.Format(time.DateTime), time.Duration(r.Window))
	for _, g := range r.Groups {
		if g.Key != "" {
			fmt.Printf("\n[%s]\n", g.Key)
		}
		for _, s := range g.Steps {
			fmt.Printf("  %-32s %8d  %6.1f%%  dropped %d\n", s.Name, s.Count, 100*s.Conversion, s.DropOff)
		}
		fmt.Printf("  overall %.1f%%", 100*g.Overall)
		if g.MedianSeconds != nil {
			fmt.Printf(", median time to convert %s", time.Duration(*g.MedianSeconds)*time.Second)
		}
		fmt.Println()
	}
}
