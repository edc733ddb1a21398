package batch_test

import (
	"bytes"
	"cmp"
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/batch"
	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

var updateGolden = flag.Bool("update-golden", false, "rewrite testdata/export-golden from this code's output")

// TestExport_SameBytesAsGolden: the offer files and manifests of full and
// delta exports, CSV and JSON Lines, per store and for all stores, are byte
// for byte those in testdata/export-golden, which the export wrote before it
// was rewritten for speed (row-at-a-time Offer values through encoding/csv
// and encoding/json). The programme has fixed ids and codes and exercises
// every column: fixed and dynamic audiences with control groups, per-member
// and per-period limits partly used, points balances, store-only campaigns,
// a member left with no offers (a removal in the delta), pending and erased
// members, and texts a CSV writer must quote or defuse.
func TestExport_SameBytesAsGolden(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		goldenMembers(t, w, 120)
		for i, spec := range goldenCampaigns() {
			goldenLaunch(t, w, fmt.Sprintf("cmp_golden%02d", i), spec)
			w.clock.Advance(time.Second)
		}
		w.clock.Advance(time.Hour)
		var file strings.Builder
		sales := func(prefix string, members []int) {
			file.Reset()
			file.WriteString("transaction_id,store,time,member,sku,quantity,unit_price\n")
			at := w.clock.Now().Format(time.RFC3339)
			for n, i := range members {
				store, sku := "S1", []string{"COF", "WINE", "BREAD"}[n%3]
				if n%4 == 3 {
					store, sku = "S2", "COF"
				}
				fmt.Fprintf(&file, "%s%d,%s,%s,+4477%08d,%s,2,%d\n", prefix, n, store, at, i, sku, 1000+n)
			}
			sum, err := w.batch.Process(ctx, strings.NewReader(file.String()), batch.Run{Format: batch.CSV})
			if err != nil || sum.Committed != len(members) {
				t.Fatalf("sales %s: %+v %v", prefix, sum, err)
			}
		}
		sales("A", []int{0, 1, 2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53})
		sales("B", []int{0, 3, 7, 11, 19, 31, 43, 59, 61, 67})
		w.clock.Advance(2 * time.Minute)

		got := map[string][]byte{}
		export := func(name string, opt batch.ExportOptions) *batch.Manifest {
			opt.Dir = t.TempDir()
			m, err := w.exporter.Export(ctx, opt)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			entries, err := os.ReadDir(opt.Dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range entries {
				b, err := os.ReadFile(filepath.Join(opt.Dir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				got[name+"/"+e.Name()] = b
			}
			return m
		}
		full := map[string]*batch.Manifest{}
		for _, f := range []batch.Format{batch.CSV, batch.JSONL} {
			for _, s := range []string{"", "S1", "S2"} {
				full[string(f)+s] = export(fmt.Sprintf("full-%s-%s", f, cmp.Or(s, "all")), batch.ExportOptions{Store: s, Format: f})
			}
		}
		w.clock.Advance(2 * time.Hour)
		sales("C", []int{1, 3, 8, 64, 65, 66, 99})
		if _, err := db.W.ExecContext(ctx, `UPDATE members SET status = 'erased', updated_at = $1 WHERE id = $2`,
			w.clock.Now(), goldenMemberID(100)); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(2 * time.Minute)
		for _, f := range []batch.Format{batch.CSV, batch.JSONL} {
			for _, s := range []string{"", "S1", "S2"} {
				m := export(fmt.Sprintf("delta-%s-%s", f, cmp.Or(s, "all")), batch.ExportOptions{Store: s, Format: f, Since: full[string(f)+s].Cursor})
				if m.Full {
					t.Errorf("delta %s %s is a whole file", f, s)
				}
			}
		}

		dir := filepath.Join("testdata", "export-golden")
		if *updateGolden {
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			for name, b := range got {
				if err := os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		var want int
		if err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			want++
			name, _ := filepath.Rel(dir, path)
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			if g, ok := got[name]; !ok {
				t.Errorf("%s: not written", name)
			} else if !bytes.Equal(g, b) {
				t.Errorf("%s differs from the golden file:\n%s", name, firstDiff(g, b))
			}
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if want != len(got) {
			t.Errorf("the exports wrote %d files, the golden folder holds %d", len(got), want)
		}
		if offers := got["full-csv-all/offers-all.csv"]; bytes.Count(offers, []byte("\n")) < 500 {
			t.Errorf("the full export has only %d lines: the golden data set does not exercise the export", bytes.Count(offers, []byte("\n")))
		}
	})
}

// firstDiff shows the first line where got and want differ.
func firstDiff(got, want []byte) string {
	g, w := bytes.Split(got, []byte("\n")), bytes.Split(want, []byte("\n"))
	for i := range min(len(g), len(w)) {
		if !bytes.Equal(g[i], w[i]) {
			return fmt.Sprintf("line %d:\n got  %q\n want %q", i+1, g[i], w[i])
		}
	}
	return fmt.Sprintf("%d lines, want %d", len(g), len(w))
}

func goldenMemberID(i int) string { return fmt.Sprintf("mem_golden%022d", i) }

// goldenMembers inserts n members with fixed ids, codes and phones; some
// codes need quoting or defusing in CSV, some members are pending, one is
// erased.
func goldenMembers(t *testing.T, w *world, n int) {
	t.Helper()
	now := w.clock.Now()
	for i := range n {
		code := fmt.Sprintf("9%07d", i)
		switch i % 17 {
		case 5:
			code = "-" + code + "x"
		case 9:
			code = code + ",\"q\""
		case 13:
			code = "é" + code
		}
		status := "active"
		switch {
		case i%7 == 4:
			status = "pending"
		case i == 90:
			status = "erased"
		}
		if _, err := w.db.W.Exec(`INSERT INTO members (id, code, phone, enrolled_at, updated_at, channel, status)
			VALUES ($1, $2, $3, $4, $4, 'api', $5)`, goldenMemberID(i), code, fmt.Sprintf("+4477%08d", i), now, status); err != nil {
			t.Fatal(err)
		}
	}
}

// goldenLaunch creates the campaign under a fixed id (so control groups,
// which hash the campaign's id, hold the same members in every run) and
// launches it.
func goldenLaunch(t *testing.T, w *world, id string, spec campaign.Spec) {
	t.Helper()
	ctx := context.Background()
	now := w.clock.Now()
	spec.Start = now.Add(-time.Hour).Format(time.RFC3339)
	spec.End = now.Add(30 * 24 * time.Hour).Format(time.RFC3339)
	if spec.Audience.Kind == "" {
		spec.Audience.Kind = campaign.AudienceAll
	}
	c, err := w.campaigns.Create(ctx, spec)
	if err != nil {
		t.Fatalf("create %s: %v", spec.Name, err)
	}
	if _, err := w.db.W.ExecContext(ctx, `UPDATE campaigns SET id = $1 WHERE id = $2`, id, c.ID); err != nil {
		t.Fatal(err)
	}
	w.campaigns.Invalidate()
	if _, err := w.campaigns.Launch(ctx, id); err != nil {
		t.Fatalf("launch %s: %v", spec.Name, err)
	}
}

func goldenCampaigns() []campaign.Spec {
	return []campaign.Spec{
		{Name: "Coffee 20, hot & fresh", Stores: []string{"S1"}, Limits: campaign.Limits{PerMember: 3},
			Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 20, Description: "=1+1 coffee", Scope: engine.Scope{SKUs: []string{"COF", "COF2"}}}}},
		{Name: "Daily wine", Stores: []string{"S1"}, Limits: campaign.Limits{PerPeriod: 1, Period: "day", PerMember: 5},
			Benefits: []engine.Benefit{{Kind: engine.AmountOff, Amount: 150, Scope: engine.Scope{SKUs: []string{"WINE"}}}}},
		{Name: "Active members", Stores: []string{"S1"}, ControlGroup: 30,
			Audience: campaign.Audience{Kind: campaign.AudienceFilter, Filter: &campaign.Filter{Statuses: []string{"active"}}},
			Benefits: []engine.Benefit{{Kind: engine.PointsMultiplier, Multiplier: 2}}},
		{Name: "Everyone, mostly", ControlGroup: 20, Exclusive: true,
			Conditions: engine.Conditions{Days: []time.Weekday{time.Monday, time.Saturday}, From: "09:00", To: "17:30", RequireSKUs: []string{"BREAD"}},
			Benefits: []engine.Benefit{{Kind: engine.BuyXGetY, Buy: 2, Get: 1, Description: "Café\nlatte, two for one", Scope: engine.Scope{Categories: []string{"bakery", "drinks/coffee"}}},
				{Kind: engine.PointsBonus, Points: 50, Description: "+50 points"}}},
		{Name: "Open tenner", Audience: campaign.Audience{Kind: campaign.AudienceOpen}, Stores: []string{"S1"},
			Conditions: engine.Conditions{MinBasket: 1000, RequireCategories: []string{"bakery"}},
			Benefits:   []engine.Benefit{{Kind: engine.AmountOff, Amount: 100}}},
		{Name: "Station coffee (£0.99)", Stores: []string{"S2"}, Limits: campaign.Limits{PerMember: 1},
			Benefits: []engine.Benefit{{Kind: engine.FixedPrice, Price: 99, Scope: engine.Scope{SKUs: []string{"COF"}}}}},
	}
}
