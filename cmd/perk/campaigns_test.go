package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/catalogue"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// campaignStep is one perk campaigns command and what it must do.
type campaignStep struct {
	name     string
	args     []string
	stdin    string // what the command reads on stdin ("-f -")
	pipe     bool   // stdin is the previous step's stdout
	want     string // exact stdout, campaign ids written cmp_*
	golden   string // or: stdout is this file in testdata/campaigns
	contains []string
	stderr   []string // in stderr
	code     int      // exit code
	check    func(t *testing.T, stdout string)
}

// TestCLI_Campaigns drives "perk campaigns" as an operator keeping
// campaigns in files would: apply is idempotent, "get -o yaml" reads back
// what apply takes without a change, mistakes name the document, line and
// field and apply nothing, and the life-cycle commands and the simulation
// work on the database directly.
// nboCampaignYAML is a campaign of kind next_best_offer as `get -o yaml`
// writes it.
const nboCampaignYAML = `name: Picks
start: "2040-05-01"
end: "2040-06-01"
audience:
  kind: all
kind: next_best_offer
next_best_offer:
  k: 2
  holdout: 20
`

func TestCLI_Campaigns(t *testing.T) {
	file := readTestdata(t, "campaigns.yaml")
	spring, coffee, ok := strings.Cut(file, "\n---\n")
	if !ok {
		t.Fatal("campaigns.yaml should hold two documents")
	}
	// Spring sale for everyone: an audience a launched campaign cannot take.
	springForAll := regexp.MustCompile(`(?s)audience:\n  kind: filter\n.*?spend_at_least: 2000\n`).ReplaceAllString(spring, "audience:\n  kind: all\n")
	steps := []campaignStep{
		{name: "apply creates", args: []string{"apply", "-f", "testdata/campaigns/campaigns.yaml"},
			want: "campaign \"Spring sale\" created (cmp_*)\ncampaign \"Coffee club\" created (cmp_*)\n"},
		{name: "apply again changes nothing", args: []string{"apply", "-f", "testdata/campaigns/campaigns.yaml"},
			want: "campaign \"Spring sale\" unchanged (cmp_*)\ncampaign \"Coffee club\" unchanged (cmp_*)\n"},
		{name: "get -o yaml writes the spec", args: []string{"get", "Spring sale", "-o", "yaml"}, golden: "spring-sale.golden.yaml"},
		{name: "the spec read back is unchanged", args: []string{"apply", "-f", "-"}, pipe: true,
			want: "campaign \"Spring sale\" unchanged (cmp_*)\n"},
		{name: "every spec as json", args: []string{"get", "-o", "json"}},
		{name: "json list applies unchanged", args: []string{"apply", "-f", "-"}, pipe: true,
			contains: []string{`campaign "Spring sale" unchanged (cmp_*)`, `campaign "Coffee club" unchanged (cmp_*)`}},
		{name: "every spec as yaml", args: []string{"get", "-o", "yaml"}},
		{name: "yaml documents apply unchanged", args: []string{"apply", "-f", "-"}, pipe: true,
			contains: []string{`campaign "Spring sale" unchanged (cmp_*)`, `campaign "Coffee club" unchanged (cmp_*)`}},
		{name: "an edited field configures", args: []string{"apply", "-f", "-"}, stdin: strings.Replace(file, "percent: 20", "percent: 25", 1),
			want: "campaign \"Spring sale\" configured (cmp_*)\ncampaign \"Coffee club\" unchanged (cmp_*)\n"},
		{name: "list", args: []string{"get"}, contains: []string{
			"ID NAME STATUS START END REDEMPTIONS",
			"cmp_* Spring sale draft 2040-03-01 09:00 GMT 2040-04-01 00:00 BST 0",
			"cmp_* Coffee club draft 2040-01-01 00:00 GMT 2040-02-01 00:00 GMT 0"}},
		{name: "show one", args: []string{"get", "Spring sale"}, contains: []string{
			"Status: draft", "Audience: filter, 10% held back as a control group",
			"Benefits: 25% off; Buy 2 get 1 free; 2x points; £5 off when you spend £30", "Version: 2"}},

		{name: "unknown field", args: []string{"apply", "-f", "testdata/campaigns/unknown-field.yaml"}, code: 1,
			stderr: []string{`unknown-field.yaml: document 2 ("Autumn sale"): line 15: field discount_percent not found in type engine.Benefit; nothing was applied`}},
		{name: "nothing of that file was applied", args: []string{"get", "Would be fine"}, code: 1,
			stderr: []string{`no campaign has the id or name "Would be fine"`}},
		{name: "invalid percent", args: []string{"apply", "-f", "testdata/campaigns/bad-percent.yaml"}, code: 1,
			stderr: []string{`bad-percent.yaml: document 1 ("Too generous"): line 9: benefits[1].percent: `, "nothing was applied"}},
		{name: "unknown weekday", args: []string{"apply", "-f", "testdata/campaigns/bad-day.yaml"}, code: 1,
			stderr: []string{`bad-day.yaml: document 1: line 9: conditions.days: "funday" is not a day of the week`}},
		{name: "unknown campaign", args: []string{"preview", "Nope"}, code: 1, stderr: []string{`no campaign has the id or name "Nope"`}},

		{name: "json file with weekdays by name and number", args: []string{"apply", "-f", "testdata/campaigns/open-day.json"},
			want: "campaign \"Open day\" created (cmp_*)\n"},
		{name: "weekdays are written as names", args: []string{"get", "Open day", "-o", "yaml"}, want: `name: Open day
start: "2040-05-01"
end: "2040-05-02"
audience:
  kind: open
benefits:
  - kind: fixed_price
    scope:
      skus: [TEA]
    price: 99
conditions:
  days: [tue, wed]
exclusive: true
`},
		{name: "a next_best_offer campaign", args: []string{"apply", "-f", "-"}, stdin: nboCampaignYAML,
			want: "campaign \"Picks\" created (cmp_*)\n"},
		{name: "its yaml is the file", args: []string{"get", "Picks", "-o", "yaml"}, want: nboCampaignYAML},
		{name: "applied again unchanged", args: []string{"apply", "-f", "-"}, stdin: nboCampaignYAML,
			want: "campaign \"Picks\" unchanged (cmp_*)\n"},
		{name: "a bad k names its field", args: []string{"apply", "-f", "-"}, stdin: strings.Replace(nboCampaignYAML, "k: 2", "k: 20", 1), code: 1,
			stderr: []string{"next_best_offer.k: must be 1 to 10"}},
		{name: "launched through the kind's launcher: the pool is empty", args: []string{"launch", "Picks"}, code: 1,
			stderr: []string{"the pool has 0 offers, fewer than k = 2"}},
		{name: "delete a draft", args: []string{"delete", "Open day"}, want: "campaign \"Open day\" deleted (cmp_*)\n"},
		{name: "deleted", args: []string{"get", "Open day"}, code: 1},

		{name: "preview", args: []string{"preview", "Coffee club"},
			contains: []string{`campaign "Coffee club" (cmp_*): audience 3, control group 0 (expected), reachable by SMS now 3`, "MEMBER CODE NAME PHONE"}},
		{name: "simulate", args: []string{"simulate", "Coffee club", "--days", "7"}, contains: []string{
			`campaign "Coffee club" (cmp_*) over the baskets of the last 7 days`,
			"baskets replayed 5", "eligible 4 ", "redemptions 3", "members redeeming 3", "discount cost 6.00 GBP",
			"points given 75 (worth 0.75 GBP)", "sales of redeeming baskets 18.00 GBP",
			"cmp_*.1 50% off 2 6.00 GBP 0", "cmp_*.2 25 bonus points 3 0.00 GBP 75", "limit_reached 1"}},
		{name: "simulate -o json", args: []string{"simulate", "Coffee club", "-o", "json"}, check: func(t *testing.T, out string) {
			var sim checkout.Simulation
			if err := json.Unmarshal([]byte(out), &sim); err != nil {
				t.Fatal(err)
			}
			if sim.Days != 28 || sim.Baskets != 5 || sim.Redemptions != 3 || sim.DiscountCost != 600 || sim.PointsLiability != 75 {
				t.Errorf("simulation %+v", sim)
			}
		}},

		{name: "launch", args: []string{"launch", "Coffee club"},
			want: "campaign \"Coffee club\" launched (cmp_*): scheduled, audience 3, control group 0, announcements queued 0\n"},
		{name: "apply --launch launches drafts only", args: []string{"apply", "--launch", "-f", "testdata/campaigns/campaigns.yaml"}, want: `campaign "Spring sale" configured (cmp_*)
campaign "Spring sale" launched (cmp_*): scheduled, audience 0, control group 0, announcements queued 0
campaign "Coffee club" unchanged (cmp_*)
`},
		{name: "launch twice", args: []string{"launch", "Coffee club"}, code: 1, stderr: []string{"only a draft can be launched"}},
		{name: "pause", args: []string{"pause", "Coffee club"}, want: "campaign \"Coffee club\" paused (cmp_*)\n"},
		{name: "resume", args: []string{"resume", "Coffee club"}, want: "campaign \"Coffee club\" resumed (cmp_*): scheduled\n"},
		{name: "a change a launched campaign cannot take stops there", args: []string{"apply", "-f", "-"},
			stdin: coffee + "---\n" + springForAll, code: 1,
			want: "campaign \"Coffee club\" unchanged (cmp_*)\n",
			stderr: []string{`stdin: document 2 ("Spring sale"): line 22: audience: cannot change once the campaign is launched; ` +
				`it was not applied; applied: document 1 ("Coffee club")`}},
		{name: "a launch that fails after the apply says so", args: []string{"apply", "--launch", "-f", "-"},
			stdin: "name: Last year\nstart: 2020-01-01\nend: 2020-02-01\naudience: {kind: all}\nbenefits: [{kind: points_bonus, points: 1}]\n",
			code:  1, want: "campaign \"Last year\" created (cmp_*)\n",
			stderr: []string{`stdin: document 1 ("Last year"): applied but not launched: the campaign has ended; applied: document 1 ("Last year")`}},
		{name: "delete a launched campaign", args: []string{"delete", "Coffee club"}, code: 1, stderr: []string{"only a draft can be launched or deleted"}},

		{name: "usage: two campaigns", args: []string{"get", "a", "b"}, code: 2, stderr: []string{"usage: perk campaigns"}},
		{name: "usage: apply without a file", args: []string{"apply"}, code: 2, stderr: []string{"usage: perk campaigns"}},
		{name: "usage: unknown output", args: []string{"get", "-o", "xml"}, code: 2, stderr: []string{"-o xml: want table, yaml, json"}},
		{name: "usage: unknown subcommand", args: []string{"frobnicate"}, code: 2},
	}
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			db := dsn(t)
			env := []string{"PERK_DB=" + db, "PERK_DATA_DIR=" + t.TempDir(), "PERK_LOG_LEVEL=warn"}
			seedShoppers(t, db)
			prev := ""
			for _, s := range steps {
				stdin := s.stdin
				if s.pipe {
					stdin = prev
				}
				stdout, stderr, code := perkStdin(t, env, stdin, append([]string{"campaigns"}, s.args...)...)
				prev = stdout
				if code != s.code {
					t.Fatalf("%s: perk campaigns %q exited %d, want %d\nstdout:\n%s\nstderr:\n%s", s.name, s.args, code, s.code, stdout, stderr)
				}
				got := maskCampaignIDs(stdout)
				if s.want != "" && got != s.want {
					t.Errorf("%s: stdout\n%s\nwant\n%s", s.name, got, s.want)
				}
				if s.golden != "" {
					checkGolden(t, s.golden, got)
				}
				flat := strings.Join(strings.Fields(got), " ")
				for _, w := range s.contains {
					if !strings.Contains(flat, w) {
						t.Errorf("%s: stdout lacks %q:\n%s", s.name, w, got)
					}
				}
				for _, w := range s.stderr {
					if !strings.Contains(stderr, w) {
						t.Errorf("%s: stderr lacks %q:\n%s", s.name, w, stderr)
					}
				}
				if s.check != nil {
					s.check(t, stdout)
				}
			}
		})
	}
}

var campaignID = regexp.MustCompile(`cmp_[0-9a-z]{26}`)

func maskCampaignIDs(s string) string { return campaignID.ReplaceAllString(s, "cmp_*") }

// perkStdin runs the binary with stdin and returns stdout, stderr and the
// exit code.
func perkStdin(t *testing.T, env []string, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(perkBin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("perk %v: %v", args, err)
	}
	return stdout.String(), stderr.String(), cmd.ProcessState.ExitCode()
}

func readTestdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "campaigns", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", "campaigns", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want := readTestdata(t, name); got != want {
		t.Errorf("output differs from %s (go test -run Campaigns -update rewrites it):\n%s", path, got)
	}
}

// seedShoppers enrols three members and commits five baskets in the last
// hour: two of COF from the first member, one of COF from the second, one
// of TEA from the third and an anonymous one of COF, each two units at 3.00.
func seedShoppers(t *testing.T, dsn string) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var c Config
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	commonFlags(fs, &c)
	programmeFlag(fs, &c)
	loyaltyFlags(fs, &c)
	if err := fs.Parse(nil); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	members := c.memberService(db, log)
	loy, err := c.loyalty(db, members, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	if err := loy.catalogue.PutStore(ctx, catalogue.Store{ID: "S001", Name: "One", Timezone: "UTC"}); err != nil {
		t.Fatal(err)
	}
	var codes []string
	for i := range 3 {
		e, err := members.Enrol(ctx, member.EnrolRequest{Profile: member.Profile{Phone: fmt.Sprintf("+4477009%05d", i+1), FirstName: "Ann"},
			Channel: member.ChannelAPI, Consent: true})
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, string(e.Member.Code))
	}
	for i, b := range []struct{ member, sku string }{{codes[0], "COF"}, {codes[0], "COF"}, {codes[1], "COF"}, {codes[2], "TEA"}, {"", "COF"}} {
		_, err := loy.checkout.Commit(ctx, &checkout.Request{Store: "S001", Terminal: "T1", Member: checkout.Key(b.member), Currency: "GBP",
			Items: []checkout.Item{{Line: 1, SKU: b.sku, Quantity: 2, UnitPrice: 300}}, TransactionID: fmt.Sprintf("T-%d", i)})
		if err != nil {
			t.Fatal(err)
		}
	}
}
