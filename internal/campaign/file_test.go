package campaign_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// TestDecodeFile_WeekdaysListsAndMistakes: a file holds campaigns as YAML
// documents or lists, days by name or number, and every mistake is reported
// with its document (and item), line and field.
func TestDecodeFile_WeekdaysListsAndMistakes(t *testing.T) {
	const rest = "start: 2040-01-01\nend: 2040-02-01\naudience: {kind: all}\nbenefits: [{kind: points_bonus, points: 10}]\n"
	tests := []struct {
		name string
		src  string
		want []string // each campaign: label and days
		err  []string // each problem, in order
	}{
		{name: "weekdays by name in any case and quoting, or by number",
			src:  "name: A\n" + rest + "conditions:\n  days:\n    - Monday\n    - \"fri\"\n    - 'SAT'\n    - 0\n    - \"3\"\n",
			want: []string{`document 1 ("A") [1 5 6 0 3]`}},
		{name: "json on one line, wide characters before the days",
			src:  `{"description": "☕ for all", "name": "Café £5", "start": "2040-01-01", "end": "2040-02-01", "audience": {"kind": "all"}, "benefits": [{"kind": "points_bonus", "points": 1}], "conditions": {"days": ["sat", "Sunday", 1]}}`,
			want: []string{`document 1 ("Café £5") [6 0 1]`}},
		{name: "a list is one campaign per item",
			src: "- name: A\n  start: 2040-01-01\n  end: 2040-02-01\n  audience: {kind: all}\n  benefits: [{kind: points_bonus, points: 1}]\n  conditions: {days: [tue]}\n" +
				"- {name: B, start: 2040-01-01, end: 2040-02-01, audience: {kind: all}, benefits: [{kind: points_bonus, points: 1}]}\n",
			want: []string{`document 1 item 1 ("A") [2]`, `document 1 item 2 ("B") []`}},
		{name: "days through an alias",
			src:  "name: A\n" + rest + "description: &weekend sat\nconditions: {days: [*weekend, sun]}\n",
			want: []string{`document 1 ("A") [6 0]`}},
		{name: "empty documents keep their numbers",
			src:  "---\n# nothing yet\n---\nname: A\n" + rest + "---\n",
			want: []string{`document 2 ("A") []`}},
		{name: "an empty file has no campaigns", src: "", want: nil},

		{name: "unknown weekday", src: "name: A\n" + rest + "conditions: {days: [sat, Caturday]}\n",
			err: []string{`document 1: line 6: conditions.days: "Caturday" is not a day of the week (sun to sat, sunday to saturday, or 0 = Sunday to 6 = Saturday)`}},
		{name: "a weekday that is not a name or a whole number", src: "name: A\n" + rest + "conditions:\n  days:\n    - true\n    - 1.5\n    - \"7\"\n    - {day: 1}\n",
			err: []string{`document 1: line 8: conditions.days: "true" is not a day of the week`, `document 1: line 9: conditions.days: "1.5" is not a day of the week`,
				`document 1: line 10: conditions.days: "7" is not a day of the week`, `document 1: line 11: conditions.days: "" is not a day of the week`}},
		{name: "one day, not a list", src: "name: A\n" + rest + "conditions: {days: sat}\n",
			err: []string{`document 1: line 6: conditions.days: want a list of days of the week`}},
		{name: "a list item names its item", src: "- name: A\n  " + strings.ReplaceAll(rest, "\n", "\n  ") + "conditions: {days: [fri]}\n- name: B\n  " + strings.ReplaceAll(rest, "\n", "\n  ") + "conditions: {days: [fry]}\n",
			err: []string{`document 1 item 2: line 12: conditions.days: "fry" is not a day of the week`}},
		{name: "weekday out of range", src: "name: A\n" + rest + "conditions:\n  days: [7]\n",
			err: []string{`document 1 ("A"): line 7: conditions.days[0]: conditions: day 1 must be 0 (Sunday) .. 6 (Saturday)`}},
		{name: "same name twice", src: "name: A\n" + rest + "---\nname: A\n" + rest,
			err: []string{`document 2 ("A"): line 7: name: document 1 ("A") already has this name`}},
		{name: "not a campaign", src: "name: A\n" + rest + "---\nhello\n",
			err: []string{`document 2: line 7: want a campaign (name, start, end, audience, benefits ...) or a list of them`}},
		{name: "syntax error", src: "name: A\n" + rest + "---\nname: B\n  start: [\n",
			err: []string{"document 2: yaml: line 8: "}},
		{name: "wrong type", src: "name: A\n" + rest + "priority: high\n",
			err: []string{"document 1 (\"A\"): line 6: cannot unmarshal !!str `high` into int"}},
		{name: "a rule the campaign breaks names its field's line", src: "name: A\n" + rest + "limits:\n  period: fortnight\n  per_period: 1\n",
			err: []string{`document 1 ("A"): line 7: limits.period: must be day, week or month with per_period`}},
		{name: "a field the file leaves out is placed at its nearest part", src: "name: A\n" + rest + "limits:\n  per_period: 1\n",
			err: []string{`document 1 ("A"): line 6: limits.period: must be day, week or month with per_period`}},
		{name: "every problem is listed", src: "name: A\n" + rest + "colour: red\n---\nname: B\n" + rest + "limits: {per_weekk: 1}\n",
			err: []string{`document 1 ("A"): line 6: field colour not found in type campaign.Spec`,
				`document 2 ("B"): line 13: field per_weekk not found in type campaign.Limits`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			specs, err := campaign.DecodeFile([]byte(tt.src), time.UTC)
			if len(tt.err) > 0 {
				var fe *campaign.FileError
				if !errors.As(err, &fe) {
					t.Fatalf("error %v, want a *campaign.FileError", err)
				}
				if len(fe.Problems) != len(tt.err) {
					t.Fatalf("%d problems, want %d:\n%s", len(fe.Problems), len(tt.err), err)
				}
				for i, w := range tt.err {
					if !strings.HasPrefix(fe.Problems[i], w) {
						t.Errorf("problem %d\n%s\nwant it to start with\n%s", i+1, fe.Problems[i], w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, f := range specs {
				got = append(got, fmt.Sprintf("%s %d", f.Label(), f.Spec.Conditions.Days))
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestFileError_ListsEveryProblem(t *testing.T) {
	one := &campaign.FileError{Problems: []string{"document 1: line 2: x"}}
	two := &campaign.FileError{Problems: []string{"document 1: line 2: x", "document 2: line 9: y"}}
	if one.Error() != "document 1: line 2: x" {
		t.Errorf("one problem: %q", one)
	}
	if two.Error() != "2 problems:\n  document 1: line 2: x\n  document 2: line 9: y" {
		t.Errorf("two problems: %q", two)
	}
}

// TestDecodeFile_Golden reads each file of testdata/file and writes what it
// decodes to, as EncodeYAML writes it, or the problems it has: the file
// format by example. go test -run DecodeFile_Golden -update rewrites the
// .golden files.
func TestDecodeFile_Golden(t *testing.T) {
	inputs, err := filepath.Glob(filepath.Join("testdata", "file", "*.*"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, in := range inputs {
		if filepath.Ext(in) == ".golden" {
			continue
		}
		n++
		t.Run(filepath.Base(in), func(t *testing.T) {
			src, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			specs, err := campaign.DecodeFile(src, time.UTC)
			if err != nil {
				fmt.Fprintf(&out, "error: %v\n", err)
			}
			for _, f := range specs {
				fmt.Fprintf(&out, "# %s\n", f.Label())
				if err := campaign.EncodeYAML(&out, f.Spec); err != nil {
					t.Fatal(err)
				}
			}
			golden := strings.TrimSuffix(in, filepath.Ext(in)) + ".golden"
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if out.String() != string(want) {
				t.Errorf("%s decodes to\n%s\nwant (%s)\n%s", in, out.String(), golden, want)
			}
		})
	}
	if n == 0 {
		t.Fatal("no files in testdata/file")
	}
}

// TestEncodeYAML_RoundTrip writes specs with awkward values and reads them
// back: what `perk campaigns get -o yaml` writes, apply must find unchanged.
func TestEncodeYAML_RoundTrip(t *testing.T) {
	pts := int64(0)
	specs := []campaign.Spec{
		{Name: "Yes: no & on", Description: "line one\nline two: \"quoted\"\n", TimeZone: "Europe/Paris", Start: "2040-01-01T09:00:00+01:00", End: "2040-02-01 18:30",
			Stores: []string{"0123", "true", "null"}, Audience: campaign.Audience{Kind: campaign.AudienceFilter, Filter: &campaign.Filter{
				Attributes: map[string]string{"tier": "1", "yes": "no"}, PointsAtLeast: &pts, Statuses: []string{"active"}}},
			Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 10, Description: "#1 deal", Scope: engine.Scope{SKUs: []string{"- dash", "1e3"}}},
				{Kind: engine.FreeContent, Pool: "gifts"}},
			Conditions:   engine.Conditions{Days: []time.Weekday{0, 1, 2, 3, 4, 5, 6}, From: "23:00", To: "01:00"},
			ControlGroup: 50, Message: "Hi {{.FirstName}}\n{{link \"https://example.com/x?a=1&b=2\"}}"},
		{Name: "Plain", Start: "2040-01-01", End: "2040-01-02", Audience: campaign.Audience{Kind: campaign.AudienceOpen},
			Benefits: []engine.Benefit{{Kind: engine.AmountOff, Amount: 150}}, Limits: campaign.Limits{Budget: 1}},
		{Name: "Picks", Start: "2040-01-01", End: "2040-02-01", Audience: campaign.Audience{Kind: campaign.AudienceAll},
			Kind: campaign.KindNextBestOffer, NextBestOffer: &campaign.NextBestOffer{K: 3, Holdout: 20, Announce: true}},
	}
	var buf bytes.Buffer
	if err := campaign.EncodeYAML(&buf, specs...); err != nil {
		t.Fatal(err)
	}
	got, err := campaign.DecodeFile(buf.Bytes(), time.UTC)
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if len(got) != len(specs) {
		t.Fatalf("%d documents read back", len(got))
	}
	for i, f := range got {
		if !campaign.SameSpec(f.Spec, specs[i]) {
			a, _ := json.Marshal(specs[i])
			b, _ := json.Marshal(f.Spec)
			t.Errorf("spec %d changed:\n%s\n%s\nyaml:\n%s", i, a, b, buf.String())
		}
	}
	if !strings.Contains(buf.String(), "days: [sun, mon, tue, wed, thu, fri, sat]") {
		t.Errorf("weekdays not written by name:\n%s", buf.String())
	}
}

// TestApply_CreatesUpdatesOrLeavesAlone: applying a spec again changes
// nothing, an edit updates the campaign of that name, and a change a
// launched campaign cannot take is refused with its field.
func TestApply_CreatesUpdatesOrLeavesAlone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		s := spec("Weekend")
		s.Conditions.Days = engine.Weekdays{time.Saturday, time.Sunday}
		edited := s
		edited.Benefits = []engine.Benefit{{Kind: engine.PercentOff, Percent: 20}}
		others := edited
		others.Audience = campaign.Audience{Kind: campaign.AudienceOpen}
		steps := []struct {
			name   string
			spec   campaign.Spec
			launch bool
			want   campaign.Applied
			field  string // of the error; "" = none
		}{
			{name: "a new name is created", spec: s, want: campaign.Created},
			{name: "the same spec again is unchanged", spec: s, want: campaign.Unchanged},
			{name: "an edit configures", spec: edited, want: campaign.Configured, launch: true},
			{name: "the edit again is unchanged, launched or not", spec: edited, want: campaign.Unchanged},
			{name: "a launched campaign keeps its audience", spec: others, field: "audience"},
		}
		var id string
		for _, st := range steps {
			c, did, err := f.campaigns.Apply(ctx, st.spec)
			if st.field != "" {
				var pe *problem.Error
				if !errors.As(err, &pe) || pe.Field != st.field {
					t.Fatalf("%s: error %v, want one on %s", st.name, err, st.field)
				}
				continue
			}
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if did != st.want || (id != "" && c.ID != id) {
				t.Fatalf("%s: %s %s, want %s %s", st.name, did, c.ID, st.want, id)
			}
			id = c.ID
			if st.launch {
				if _, err := f.campaigns.Launch(ctx, c.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}
