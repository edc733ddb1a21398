package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"go.yaml.in/yaml/v3"

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
	strFlag(fs, &c.PublicURL, "public-url", "PERK_PUBLIC_URL", "http://127.0.0.1:8080", "base URL of card links in announcements queued at launch")
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
	var docs []*campaignDoc
	if sub == "apply" {
		src, err := readInput(file)
		if err != nil {
			return err
		}
		if docs, err = readCampaignDocs(src, zone); err != nil {
			return fmt.Errorf("%s: %w", inputName(file), err)
		}
		if len(docs) == 0 {
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
	cc := &campaignCmd{camps: loy.campaigns, checkout: loy.checkout, zone: zone, currency: strings.ToUpper(c.Loyalty.Currency), out: os.Stdout}
	if sub == "apply" {
		return cc.apply(ctx, inputName(file), docs, launch)
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
	var pos []string
	for {
		if err := parse(fs, args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
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
	currency string
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

// apply creates, updates or leaves alone each campaign of a file, in
// order. The documents were decoded and validated before (readCampaignDocs),
// so a file with a mistake anywhere applies nothing; a failure only the
// database can find (a change a launched campaign cannot take, a name taken
// meanwhile) stops at that document, and the error says which ones were
// applied before it.
func (cc *campaignCmd) apply(ctx context.Context, name string, docs []*campaignDoc, launch bool) error {
	for i, d := range docs {
		c, err := cc.applyOne(ctx, d)
		if err != nil {
			return applyStopped(name, docs, i, false, d.explain(err))
		}
		if launch && c.Status == campaign.Draft {
			if err := cc.launch(ctx, c); err != nil {
				return applyStopped(name, docs, i, true, "applied but not launched: "+d.explain(err))
			}
		}
	}
	return nil
}

// applyStopped is the error of an apply that stopped at docs[i]: why, and
// which documents were applied.
func applyStopped(name string, docs []*campaignDoc, i int, applied bool, why string) error {
	msg := fmt.Sprintf("%s: %s: %s", name, docs[i].label(), why)
	done := docs[:i]
	if applied {
		done = docs[:i+1]
	}
	if len(done) == 0 {
		return errors.New(msg + "; nothing was applied")
	}
	switch after := len(docs) - i - 1; {
	case !applied && after > 0:
		msg += fmt.Sprintf("; it and the %d after it were not applied", after)
	case !applied:
		msg += "; it was not applied"
	case after > 0:
		msg += fmt.Sprintf("; the %d after it were not applied", after)
	}
	labels := make([]string, len(done))
	for j, p := range done {
		labels[j] = p.label()
	}
	return fmt.Errorf("%s; applied: %s", msg, strings.Join(labels, ", "))
}

// applyOne creates the campaign, updates it or leaves it alone, and says
// which it did.
func (cc *campaignCmd) applyOne(ctx context.Context, d *campaignDoc) (*campaign.Campaign, error) {
	cur, err := cc.camps.ByName(ctx, d.spec.Name)
	var c *campaign.Campaign
	verb := "created"
	switch {
	case errors.Is(err, campaign.ErrNotFound):
		if c, err = cc.camps.Create(ctx, d.spec); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	case sameSpec(cur.Spec, d.spec):
		c, verb = cur, "unchanged"
	default:
		// The version read guards against a change made since.
		if c, err = cc.camps.Update(ctx, cur.ID, d.spec, cur.Version); err != nil {
			return nil, err
		}
		verb = "configured"
	}
	fmt.Fprintf(cc.out, "campaign %q %s (%s)\n", c.Spec.Name, verb, c.ID)
	return c, nil
}

// sameSpec compares specs as they are stored (JSON), so that an empty list
// in a file and a missing one in the database are the same.
func sameSpec(a, b campaign.Spec) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
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

// campaignDoc is one campaign of a file.
type campaignDoc struct {
	n, item int        // YAML document from 1; position in a list document from 1, else 0
	node    *yaml.Node // the campaign's mapping, for line numbers
	spec    campaign.Spec
}

func (d *campaignDoc) label() string {
	s := fmt.Sprintf("document %d", d.n)
	if d.item > 0 {
		s += fmt.Sprintf(" item %d", d.item)
	}
	if d.spec.Name != "" {
		s += fmt.Sprintf(" (%q)", d.spec.Name)
	}
	return s
}

// explain is err with the line of the field it names, if any.
func (d *campaignDoc) explain(err error) string {
	var pe *problem.Error
	if !errors.As(err, &pe) {
		return err.Error()
	}
	if pe.Field == "" {
		return pe.Error()
	}
	return fmt.Sprintf("line %d: %s", lineOf(d.node, pe.Field), pe.Error())
}

// readCampaignDocs decodes and validates every campaign in src: YAML
// documents separated by ---, each a campaign or a list of campaigns (JSON
// is YAML). Decoding is strict: an unknown field is an error with its line.
// Weekdays in conditions.days may be names (sat, saturday) or numbers
// (0 = Sunday). The error lists every problem found.
func readCampaignDocs(src []byte, zone *time.Location) ([]*campaignDoc, error) {
	// First pass: the documents as nodes, for line numbers and to turn
	// weekday names into numbers where they are written. Replacing them in
	// the text keeps every line where it was, so the strict decoder below
	// reports the lines of the file.
	dec := yaml.NewDecoder(bytes.NewReader(src))
	var roots []*yaml.Node
	var docs []*campaignDoc
	var problems []string
	var edits []dayEdit
	for n := 1; ; n++ {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			problems = append(problems, fmt.Sprintf("document %d: %v", n, err))
			return nil, joinProblems(problems) // the stream cannot be read past a syntax error
		}
		var root *yaml.Node
		if len(doc.Content) > 0 {
			root = doc.Content[0]
		}
		roots = append(roots, root)
		var items []*yaml.Node
		switch {
		case root == nil || root.Kind == yaml.ScalarNode && root.Tag == "!!null":
			continue // an empty document
		case root.Kind == yaml.MappingNode:
			docs = append(docs, &campaignDoc{n: n, node: root})
			items = append(items, root)
		case root.Kind == yaml.SequenceNode:
			for i, it := range root.Content {
				docs = append(docs, &campaignDoc{n: n, item: i + 1, node: it})
				items = append(items, it)
			}
		default:
			problems = append(problems, fmt.Sprintf("document %d: line %d: want a campaign (name, start, end, audience, benefits ...) or a list of them", n, root.Line))
			continue
		}
		for i, it := range items {
			label := fmt.Sprintf("document %d", n)
			if root.Kind == yaml.SequenceNode {
				label += fmt.Sprintf(" item %d", i+1)
			}
			e, bad := dayEdits(it)
			edits = append(edits, e...)
			for _, b := range bad {
				problems = append(problems, fmt.Sprintf("%s: line %d: conditions.days: %q is not a day of the week (sun to sat, sunday to saturday, or 0 = Sunday to 6 = Saturday)", label, b.Line, b.Value))
			}
		}
	}
	if len(problems) > 0 {
		return nil, joinProblems(problems)
	}
	text, err := applyDayEdits(src, edits)
	if err != nil {
		return nil, err
	}
	// Second pass: strict decoding of the same documents.
	dec = yaml.NewDecoder(bytes.NewReader(text))
	dec.KnownFields(true)
	next := 0
	for n, root := range roots {
		var err error
		label := fmt.Sprintf("document %d", n+1)
		switch {
		case root != nil && root.Kind == yaml.MappingNode:
			err = dec.Decode(&docs[next].spec)
			label = docs[next].label() // with the name, if it decoded
			next++
		case root != nil && root.Kind == yaml.SequenceNode:
			var specs []campaign.Spec
			err = dec.Decode(&specs)
			for i := range root.Content {
				if i < len(specs) {
					docs[next].spec = specs[i]
				}
				next++
			}
		default:
			var skip yaml.Node
			err = dec.Decode(&skip)
		}
		var te *yaml.TypeError
		switch {
		case errors.As(err, &te):
			for _, msg := range te.Errors {
				problems = append(problems, label+": "+msg)
			}
		case err != nil:
			return nil, fmt.Errorf("%s: %w", label, err)
		}
	}
	if len(problems) > 0 {
		return nil, joinProblems(problems)
	}
	// Then the rules a campaign must follow, checked as the service will.
	names := map[string]*campaignDoc{}
	for _, d := range docs {
		if _, _, err := d.spec.Validate(zone); err != nil {
			problems = append(problems, d.label()+": "+d.explain(err))
			continue
		}
		if prev := names[d.spec.Name]; prev != nil {
			problems = append(problems, fmt.Sprintf("%s: line %d: name: %s already has this name", d.label(), lineOf(d.node, "name"), prev.label()))
		}
		names[d.spec.Name] = d
	}
	if len(problems) > 0 {
		return nil, joinProblems(problems)
	}
	return docs, nil
}

func joinProblems(ps []string) error {
	if len(ps) == 1 {
		return errors.New(ps[0] + "; nothing was applied")
	}
	return fmt.Errorf("%d problems; nothing was applied:\n  %s", len(ps), strings.Join(ps, "\n  "))
}

// lineOf finds the line of a field named as the service names it
// ("benefits[0].percent") in a campaign's node: the deepest part found.
func lineOf(n *yaml.Node, field string) int {
	line := n.Line
	for _, part := range strings.FieldsFunc(field, func(r rune) bool { return r == '.' || r == '[' || r == ']' }) {
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		var next *yaml.Node
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == part {
					line, next = n.Content[i].Line, n.Content[i+1]
				}
			}
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(part); err == nil && i >= 0 && i < len(n.Content) {
				next = n.Content[i]
				line = next.Line
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return line
}

// Weekdays. engine.Conditions.Days is []time.Weekday, numbers in JSON and
// YAML; files may name the days instead, and "get -o yaml" writes names.

var weekdays = func() map[string]time.Weekday {
	m := map[string]time.Weekday{}
	for d := time.Sunday; d <= time.Saturday; d++ {
		name := strings.ToLower(d.String())
		m[name], m[name[:3]], m[strconv.Itoa(int(d))] = d, d, d
	}
	return m
}()

// dayEdit is a weekday written as a string, to be replaced by its number.
type dayEdit struct {
	node *yaml.Node
	day  time.Weekday
}

// dayEdits finds the days written as strings in a campaign's
// conditions.days, and those that name no day.
func dayEdits(camp *yaml.Node) (edits []dayEdit, bad []*yaml.Node) {
	days := mapValue(mapValue(camp, "conditions"), "days")
	if days == nil || days.Kind != yaml.SequenceNode {
		return nil, nil
	}
	for _, d := range days.Content {
		if d.Kind != yaml.ScalarNode || d.Tag != "!!str" {
			continue // numbers decode as they are; anything else fails decoding with its line
		}
		wd, ok := weekdays[strings.ToLower(strings.TrimSpace(d.Value))]
		if !ok {
			bad = append(bad, d)
			continue
		}
		edits = append(edits, dayEdit{node: d, day: wd})
	}
	return edits, bad
}

func mapValue(n *yaml.Node, key string) *yaml.Node {
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == key {
			return n.Content[i+1]
		}
	}
	return nil
}

// applyDayEdits replaces each weekday string in src by its number, in
// place, so that no line moves.
func applyDayEdits(src []byte, edits []dayEdit) ([]byte, error) {
	if len(edits) == 0 {
		return src, nil
	}
	lines := strings.Split(string(src), "\n")
	// Right to left, so earlier columns stay valid.
	slices.SortFunc(edits, func(a, b dayEdit) int {
		if a.node.Line != b.node.Line {
			return a.node.Line - b.node.Line
		}
		return b.node.Column - a.node.Column
	})
	for _, e := range edits {
		n := e.node
		token := n.Value
		switch n.Style {
		case yaml.DoubleQuotedStyle:
			token = `"` + token + `"`
		case yaml.SingleQuotedStyle:
			token = `'` + token + `'`
		}
		if n.Line < 1 || n.Line > len(lines) {
			return nil, fmt.Errorf("line %d: conditions.days: write days as names (sat) or numbers (6)", n.Line)
		}
		line := []rune(lines[n.Line-1])
		at := n.Column - 1
		if at < 0 || at+len([]rune(token)) > len(line) || string(line[at:at+len([]rune(token))]) != token {
			return nil, fmt.Errorf("line %d: conditions.days: write days as names (sat) or numbers (6)", n.Line)
		}
		lines[n.Line-1] = string(line[:at]) + strconv.Itoa(int(e.day)) + string(line[at+len([]rune(token)):])
	}
	return []byte(strings.Join(lines, "\n")), nil
}

// writeSpecsYAML writes specs as YAML documents that apply reads back
// unchanged: weekdays by name, no empty benefit ids.
func writeSpecsYAML(w io.Writer, specs []campaign.Spec) error {
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	for _, s := range specs {
		var n yaml.Node
		if err := n.Encode(s); err != nil {
			return err
		}
		flowShortLists(&n)
		if days := mapValue(mapValue(&n, "conditions"), "days"); days != nil && days.Kind == yaml.SequenceNode {
			for _, d := range days.Content {
				if v, err := strconv.Atoi(d.Value); err == nil && v >= 0 && v <= 6 {
					d.Tag, d.Value = "!!str", strings.ToLower(time.Weekday(v).String()[:3])
				}
			}
		}
		// Benefit ids are set by the campaign compiler, so files leave
		// them out; the spec stores them empty.
		if bs := mapValue(&n, "benefits"); bs != nil {
			for _, b := range bs.Content {
				for i := 0; b.Kind == yaml.MappingNode && i+1 < len(b.Content); i += 2 {
					if b.Content[i].Value == "id" && b.Content[i+1].Value == "" {
						b.Content = slices.Delete(b.Content, i, i+2)
						break
					}
				}
			}
		}
		if err := enc.Encode(&n); err != nil {
			return err
		}
	}
	return enc.Close()
}

// flowShortLists writes short lists of plain values on one line
// ("stores: [S001, S002]") and long ones one value a line.
func flowShortLists(n *yaml.Node) {
	if n.Kind == yaml.SequenceNode {
		width := 0
		for _, c := range n.Content {
			if c.Kind != yaml.ScalarNode {
				width = math.MaxInt
				break
			}
			width += len(c.Value) + 2
		}
		if width <= 60 {
			n.Style = yaml.FlowStyle
		}
	}
	for _, c := range n.Content {
		flowShortLists(c)
	}
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
		return writeSpecsYAML(cc.out, specs)
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

func (cc *campaignCmd) money(v int64) string { return money.Format(v) + " " + cc.currency }

// show prints one campaign: its spec for yaml and json, a summary otherwise.
func (cc *campaignCmd) show(c *campaign.Campaign, output string) error {
	switch output {
	case "yaml":
		return writeSpecsYAML(cc.out, []campaign.Spec{c.Spec})
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
