package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/id"
	"github.com/perk-platform/perk/internal/links"
	"github.com/perk-platform/perk/internal/money"
	"github.com/perk-platform/perk/internal/problem"
)

const campaignsUsage = `usage: perk campaigns apply -f FILE [--launch]           create or update campaigns from YAML or JSON (FILE - is stdin)
       perk campaigns get [ID|NAME] [-o table|yaml|json]  list campaigns, or show one
       perk campaigns preview ID|NAME [-o table|json]      audience size and a sample of members
       perk campaigns simulate ID|NAME [--days 28] [-o table|json]
       perk campaigns launch|pause|resume ID|NAME
       perk campaigns delete ID|NAME                       (drafts only)`

// cmdCampaigns manages campaigns from the command line, working directly on
// the database like "perk members import". Campaigns are kept as files of
// campaign.Spec documents and applied idempotently, identified by name.
func cmdCampaigns(ctx context.Context, args []string) error {
	sub := ""
	if len(args) > 0 {
		sub = args[0]
	}
	switch sub {
	case "apply", "get", "preview", "simulate", "launch", "pause", "resume", "delete":
	default:
		fmt.Fprintln(os.Stderr, campaignsUsage)
		return errUsage
	}
	var c Config
	var file, output string
	var launch bool
	var days, sample int
	fs := flag.NewFlagSet("perk campaigns "+sub, flag.ContinueOnError)
	commonFlags(fs, &c)
	// The same settings as perk serve, so that a launch queues the
	// announcements the server would have queued.
	programmeFlag(fs, &c)
	publicURLFlags(fs, &c) // card links in announcements queued at launch
	loyaltyFlags(fs, &c)
	switch sub {
	case "apply":
		fs.StringVar(&file, "f", "", "YAML or JSON file of campaigns, documents separated by ---; - reads stdin")
		fs.StringVar(&file, "filename", "", "same as -f")
		fs.BoolVar(&launch, "launch", false, "launch the applied campaigns that are drafts")
	case "get":
		fs.StringVar(&output, "o", "table", "output: table, or the spec as yaml or json (what apply reads)")
	case "preview", "simulate":
		fs.StringVar(&output, "o", "table", "output: table or json")
	}
	if sub == "get" || sub == "preview" || sub == "simulate" {
		fs.StringVar(&output, "output", "table", "same as -o")
	}
	switch sub {
	case "simulate":
		fs.IntVar(&days, "days", 28, "replay the committed baskets of the last DAYS days (1 to 366)")
	case "preview":
		fs.IntVar(&sample, "sample", 10, "members to show (1 to 100)")
	}
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	formats := map[string][]string{"get": {"table", "yaml", "json"}, "preview": {"table", "json"}, "simulate": {"table", "json"}}
	if output != "" && !slices.Contains(formats[sub], output) {
		fmt.Fprintf(os.Stderr, "perk campaigns %s: -o %s: want %s\n", sub, output, strings.Join(formats[sub], ", "))
		return errUsage
	}
	switch {
	case sub == "apply" && (file == "" || len(pos) != 0),
		sub == "get" && len(pos) > 1,
		sub != "apply" && sub != "get" && len(pos) != 1:
		fmt.Fprintln(os.Stderr, campaignsUsage)
		return errUsage
	}
	zone, err := time.LoadLocation(c.Loyalty.Zone)
	if err != nil {
		return fmt.Errorf("--campaign-zone: %w", err)
	}
	// A file with a mistake is refused before the database is opened.
	var specs []*campaign.FileSpec
	if sub == "apply" {
		src, err := readInput(file)
		if err != nil {
			return err
		}
		if specs, err = campaign.DecodeFile(src, zone); err != nil {
			return nothingApplied(inputName(file), err)
		}
		if len(specs) == 0 {
			return fmt.Errorf("%s: no campaigns in the file", inputName(file))
		}
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
	cc := &campaignCmd{camps: loy.campaigns, checkout: loy.checkout, zone: zone, currency: loy.currency, out: os.Stdout}
	if sub == "apply" {
		return cc.apply(ctx, inputName(file), specs, launch)
	}
	if sub == "get" && len(pos) == 0 {
		return cc.list(ctx, output)
	}
	camp, err := cc.find(ctx, pos[0])
	if err != nil {
		return err
	}
	switch sub {
	case "get":
		return cc.show(camp, output)
	case "preview":
		return cc.preview(ctx, camp, sample, output)
	case "simulate":
		return cc.simulate(ctx, camp, days, output)
	case "launch":
		return cc.launch(ctx, camp)
	case "pause":
		next, err := cc.camps.Pause(ctx, camp.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(cc.out, "campaign %q paused (%s)\n", next.Spec.Name, next.ID)
		return nil
	case "resume":
		next, err := cc.camps.Resume(ctx, camp.ID)
		if err != nil {
			return err
		}
		fmt.Fprintf(cc.out, "campaign %q resumed (%s): %s\n", next.Spec.Name, next.ID, next.Status)
		return nil
	}
	if err := cc.camps.Delete(ctx, camp.ID); err != nil {
		return err
	}
	fmt.Fprintf(cc.out, "campaign %q deleted (%s)\n", camp.Spec.Name, camp.ID)
	return nil
}

// parseInterspersed parses flags that may come before or after the
// positional arguments ("get NAME -o yaml") and returns the positionals.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	if err := parse(fs, args); err != nil {
		return nil, err
	}
	return fs.Args(), nil
}

func readInput(file string) ([]byte, error) {
	if file == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(file)
}

func inputName(file string) string {
	if file == "-" {
		return "stdin"
	}
	return file
}

type campaignCmd struct {
	camps    *campaign.Service
	checkout *checkout.Service
	zone     *time.Location // for specs that name none
	currency money.Currency
	out      io.Writer
}

// find returns a campaign by id or, failing that, by name.
func (cc *campaignCmd) find(ctx context.Context, key string) (*campaign.Campaign, error) {
	if id.HasPrefix(key, "cmp") {
		c, err := cc.camps.Get(ctx, key)
		if !errors.Is(err, campaign.ErrNotFound) {
			return c, err
		}
	}
	c, err := cc.camps.ByName(ctx, key)
	if errors.Is(err, campaign.ErrNotFound) {
		return nil, &problem.Error{Kind: problem.NotFound, Code: campaign.ErrNotFound.Code, Message: fmt.Sprintf("no campaign has the id or name %q", key)}
	}
	return c, err
}

// nothingApplied is the error of a file that DecodeFile refused.
func nothingApplied(name string, err error) error {
	var fe *campaign.FileError
	switch {
	case !errors.As(err, &fe):
		return fmt.Errorf("%s: %w", name, err)
	case len(fe.Problems) == 1:
		return fmt.Errorf("%s: %s; nothing was applied", name, fe.Problems[0])
	}
	return fmt.Errorf("%s: %d problems; nothing was applied:\n  %s", name, len(fe.Problems), strings.Join(fe.Problems, "\n  "))
}

// apply creates, updates or leaves alone each campaign of a file, in
// order. The file was decoded and validated before (campaign.DecodeFile),
// so a file with a mistake anywhere applies nothing; a failure only the
// database can find (a change a launched campaign cannot take, a name taken
// meanwhile) stops at that campaign, and the error says which ones were
// applied before it.
func (cc *campaignCmd) apply(ctx context.Context, name string, specs []*campaign.FileSpec, launch bool) error {
	for i, f := range specs {
		c, did, err := cc.camps.Apply(ctx, f.Spec)
		if err != nil {
			return applyStopped(name, specs, i, false, f.Explain(err))
		}
		fmt.Fprintf(cc.out, "campaign %q %s (%s)\n", c.Spec.Name, did, c.ID)
		if launch && c.Status == campaign.Draft {
			if err := cc.launch(ctx, c); err != nil {
				return applyStopped(name, specs, i, true, "applied but not launched: "+f.Explain(err))
			}
		}
	}
	return nil
}

// applyStopped is the error of an apply that stopped at specs[i]: why, and
// which campaigns were applied.
func applyStopped(name string, specs []*campaign.FileSpec, i int, applied bool, why string) error {
	msg := fmt.Sprintf("%s: %s: %s", name, specs[i].Label(), why)
	done := specs[:i]
	if applied {
		done = specs[:i+1]
	}
	if len(done) == 0 {
		return errors.New(msg + "; nothing was applied")
	}
	switch after := len(specs) - i - 1; {
	case !applied && after > 0:
		msg += fmt.Sprintf("; it and the %d after it were not applied", after)
	case !applied:
		msg += "; it was not applied"
	case after > 0:
		msg += fmt.Sprintf("; the %d after it were not applied", after)
	}
	labels := make([]string, len(done))
	for j, p := range done {
		labels[j] = p.Label()
	}
	return fmt.Errorf("%s; applied: %s", msg, strings.Join(labels, ", "))
}

func (cc *campaignCmd) launch(ctx context.Context, c *campaign.Campaign) error {
	l, err := cc.camps.Launch(ctx, c.ID)
	if err != nil {
		return err
	}
	fmt.Fprintf(cc.out, "campaign %q launched (%s): %s, audience %d, control group %d, announcements queued %d\n",
		l.Campaign.Spec.Name, c.ID, l.Campaign.Status, l.Audience, l.Control, l.Announced)
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (cc *campaignCmd) list(ctx context.Context, output string) error {
	list, err := cc.camps.List(ctx, "")
	if err != nil {
		return err
	}
	specs := make([]campaign.Spec, len(list))
	for i, c := range list {
		specs[i] = c.Spec
	}
	switch output {
	case "yaml":
		return campaign.EncodeYAML(cc.out, specs...)
	case "json":
		return writeJSON(cc.out, specs)
	}
	tw := tabwriter.NewWriter(cc.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tSTATUS\tSTART\tEND\tREDEMPTIONS")
	for _, c := range list {
		loc := cc.location(c)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", c.ID, c.Spec.Name, c.Status, fmtTime(c.Start, loc), fmtTime(c.End, loc), c.Redemptions)
	}
	return tw.Flush()
}

func (cc *campaignCmd) location(c *campaign.Campaign) *time.Location {
	loc, err := c.Spec.Location(cc.zone)
	if err != nil {
		return cc.zone
	}
	return loc
}

func fmtTime(t time.Time, loc *time.Location) string { return t.In(loc).Format("2006-01-02 15:04 MST") }

// money writes an amount with its currency's decimals and code ("6.00 GBP", "1205 JPY").
func (cc *campaignCmd) money(v int64) string { return cc.currency.Number(v) + " " + cc.currency.Code }

// show prints one campaign: its spec for yaml and json, a summary otherwise.
// JSON is what the API answers (weekdays as numbers), so scripts can use
// either; YAML is the file format (weekdays by name).
func (cc *campaignCmd) show(c *campaign.Campaign, output string) error {
	switch output {
	case "yaml":
		return campaign.EncodeYAML(cc.out, c.Spec)
	case "json":
		return writeJSON(cc.out, c.Spec)
	}
	loc := cc.location(c)
	status := string(c.Status)
	if c.EndedReason != "" {
		status += " (" + c.EndedReason + ")"
	}
	audience := c.Spec.Audience.Kind
	if c.Launched() {
		audience += fmt.Sprintf(": %d members, %d in the control group", c.AudienceSize, c.ControlSize)
	} else if c.Spec.ControlGroup > 0 {
		audience += fmt.Sprintf(", %d%% held back as a control group", c.Spec.ControlGroup)
	}
	stores := "every store"
	if len(c.Spec.Stores) > 0 {
		stores = strings.Join(c.Spec.Stores, ", ")
	}
	launched := "-"
	if c.LaunchedAt != nil {
		launched = fmtTime(*c.LaunchedAt, loc)
	}
	tw := tabwriter.NewWriter(cc.out, 0, 4, 2, ' ', 0)
	for _, kv := range [][2]string{
		{"ID", c.ID}, {"Name", c.Spec.Name}, {"Status", status},
		{"Start", fmtTime(c.Start, loc)}, {"End", fmtTime(c.End, loc)},
		{"Stores", stores}, {"Audience", audience}, {"Benefits", strings.Join(cc.benefits(c), "; ")},
		{"Redemptions", strconv.FormatInt(c.Redemptions, 10)}, {"Discount given", cc.money(c.DiscountGiven)},
		{"Points given", strconv.FormatInt(c.PointsGiven, 10)}, {"Launched", launched}, {"Version", strconv.FormatInt(c.Version, 10)},
	} {
		fmt.Fprintf(tw, "%s:\t%s\n", kv[0], kv[1])
	}
	return tw.Flush()
}

// benefits are the campaign's benefits as a receipt words them.
func (cc *campaignCmd) benefits(c *campaign.Campaign) []string {
	var out []string
	if live, err := cc.camps.Compile(c); err == nil {
		for _, b := range live.Compiled.Benefits {
			out = append(out, b.Description)
		}
		return out
	}
	for _, b := range c.Spec.Benefits {
		out = append(out, string(b.Kind))
	}
	return out
}

func (cc *campaignCmd) preview(ctx context.Context, c *campaign.Campaign, sample int, output string) error {
	p, err := cc.camps.Preview(ctx, c.ID, sample)
	if err != nil {
		return err
	}
	if output == "json" {
		return writeJSON(cc.out, p)
	}
	control := "expected"
	if c.Launched() {
		control = "fixed at launch"
	}
	fmt.Fprintf(cc.out, "campaign %q (%s): audience %d, control group %d (%s), reachable by SMS now %d\n",
		c.Spec.Name, c.ID, p.Count, p.Control, control, p.Reach)
	if len(p.Sample) == 0 {
		return nil
	}
	tw := tabwriter.NewWriter(cc.out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MEMBER\tCODE\tNAME\tPHONE")
	for _, m := range p.Sample {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", m.ID, m.Code, m.Name, m.Phone)
	}
	return tw.Flush()
}

func (cc *campaignCmd) simulate(ctx context.Context, c *campaign.Campaign, days int, output string) error {
	sim, err := cc.checkout.Simulate(ctx, c.ID, days)
	if err != nil {
		return err
	}
	if output == "json" {
		return writeJSON(cc.out, sim)
	}
	w := cc.out
	fmt.Fprintf(w, "campaign %q (%s) over the baskets of the last %d days (%s to %s):\n",
		c.Spec.Name, c.ID, sim.Days, sim.From.In(cc.zone).Format("2006-01-02"), sim.To.In(cc.zone).Format("2006-01-02"))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, kv := range [][2]string{
		{"baskets replayed", strconv.FormatInt(sim.Baskets, 10)},
		{"eligible", fmt.Sprintf("%d (from shoppers it is for, control group left out)", sim.Eligible)},
		{"redemptions", strconv.FormatInt(sim.Redemptions, 10)},
		{"members redeeming", strconv.FormatInt(sim.Members, 10)},
		{"discount cost", cc.money(sim.DiscountCost)},
		{"points given", fmt.Sprintf("%d (worth %s)", sim.PointsLiability, cc.money(sim.PointsValue))},
		{"sales of redeeming baskets", cc.money(sim.RedeemingSales)},
	} {
		fmt.Fprintf(tw, "  %s\t%s\n", kv[0], kv[1])
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(sim.Benefits) > 0 {
		desc := map[string]string{}
		if live, err := cc.camps.Compile(c); err == nil {
			for _, b := range live.Compiled.Benefits {
				desc[b.ID] = b.Description
			}
		}
		fmt.Fprintln(w, "by benefit:")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "  OFFER\tBENEFIT\tREDEMPTIONS\tDISCOUNT\tPOINTS")
		for _, oid := range slices.Sorted(maps.Keys(sim.Benefits)) {
			st := sim.Benefits[oid]
			fmt.Fprintf(tw, "  %s\t%s\t%d\t%s\t%d\n", oid, desc[oid], st.Redemptions, cc.money(st.Discount), st.Points)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	if len(sim.NotApplied) > 0 {
		fmt.Fprintln(w, "eligible baskets it did not apply to:")
		tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		for _, r := range slices.Sorted(maps.Keys(sim.NotApplied)) {
			fmt.Fprintf(tw, "  %s\t%d\n", r, sim.NotApplied[r])
		}
		return tw.Flush()
	}
	return nil
}
