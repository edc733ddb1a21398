package report_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/report"
	"github.com/perk-platform/perk/internal/rollup"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestUplift_RollupEqualsTheBaskets: through commits, voids, returns, an
// erasure, campaigns whose window began before they were created or moved
// while a draft, and a clock set back behind stored baskets, the roll-ups
// kept at the till (campaign_spend, basket_tally) equal their recomputation
// from the baskets and migration 0056's backfill, and every campaign's
// report shows the uplift computed from the window's baskets.
func TestUplift_RollupEqualsTheBaskets(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := buildCampaignWorld(t, db)
		campaigns := []*campaign.Campaign{w.all, w.vip}
		steps := []struct {
			name string
			do   func(t *testing.T)
		}{
			{"the world: commits, a void, a partial return, an erasure", func(t *testing.T) {}},
			{"a campaign created with a window that began three hours ago, moved while a draft", func(t *testing.T) {
				now := w.clock.Now()
				spec := campaign.Spec{Name: "Late", Audience: campaign.Audience{Kind: campaign.AudienceFilter,
					Filter: &campaign.Filter{Tags: []string{"vip"}}}, ControlGroup: 30, Benefits: w.vip.Spec.Benefits,
					Start: now.Add(-5 * time.Hour).Format(time.RFC3339), End: now.Add(24 * time.Hour).Format(time.RFC3339)}
				c, err := w.campaigns.Create(ctx, spec)
				if err != nil {
					t.Fatal(err)
				}
				// The baskets were stamped about three hours ago, some a
				// minute later than the others: the new start cuts between.
				spec.Start = w.firstBasket(t).Add(30 * time.Second).Format(time.RFC3339)
				if _, err := w.campaigns.Update(ctx, c.ID, spec, 0); err != nil {
					t.Fatal(err)
				}
				if _, err := w.campaigns.Launch(ctx, c.ID); err != nil {
					t.Fatal(err)
				}
				if c, err = w.campaigns.Get(ctx, c.ID); err != nil {
					t.Fatal(err)
				}
				campaigns = append(campaigns, c)
			}},
			{"more baskets, one voided and one returned in full", func(t *testing.T) {
				w.clock.Advance(time.Hour)
				for i, m := range w.members[:8] {
					w.commit(t, "S1", string(m.Code), fmt.Sprintf("U-%d", i), item(1, "A", 2, 800+int64(i)), item(2, "B", 1, 450))
				}
				w.clock.Advance(time.Minute)
				if _, err := w.checkout.Void(ctx, &checkout.VoidRequest{Store: "S1", TransactionID: "U-1"}); err != nil {
					t.Fatal(err)
				}
				if _, err := w.checkout.Return(ctx, &checkout.ReturnRequest{Store: "S1", TransactionID: "U-2", ReturnID: "R",
					Items: []checkout.ReturnItem{{Line: 1, Quantity: 2}, {Line: 2, Quantity: 1}}}); err != nil {
					t.Fatal(err)
				}
			}},
			{"the clock set back behind the last baskets", func(t *testing.T) {
				w.clock.Set(w.clock.Now().Add(-45 * time.Minute))
			}},
		}
		for _, step := range steps {
			step.do(t)
			kept, keptTally := spendRows(t, db), tallyRows(t, db)
			if err := rollup.Rebuild(ctx, db.W, db.Dialect); err != nil {
				t.Fatal(err)
			}
			if rebuilt := spendRows(t, db); !slices.Equal(kept, rebuilt) {
				t.Errorf("%s: roll-up kept at the till\n %v\nrecomputed from the baskets\n %v", step.name, kept, rebuilt)
			}
			if rebuilt := tallyRows(t, db); !slices.Equal(keptTally, rebuilt) {
				t.Errorf("%s: basket_tally kept at the till\n %v\nrecomputed from the baskets\n %v", step.name, keptTally, rebuilt)
			}
			if backfilled := migrationTally(t, db); !slices.Equal(keptTally, backfilled) {
				t.Errorf("%s: basket_tally kept at the till\n %v\nfilled by migration 0056\n %v", step.name, keptTally, backfilled)
			}
			if campaignRows := slices.IndexFunc(keptTally, func(r string) bool { return !strings.HasPrefix(r, "/") }); campaignRows < 0 {
				t.Fatalf("%s: basket_tally holds no campaign's row: the test checks nothing: %v", step.name, keptTally)
			}
			if len(kept) == 0 {
				t.Fatalf("%s: the roll-up is empty: the test checks nothing", step.name)
			}
			for _, c := range campaigns {
				r, err := w.reports.Campaign(ctx, c.ID, report.Options{})
				if err != nil {
					t.Fatal(err)
				}
				want, err := w.reports.UpliftFromBaskets(ctx, c)
				if err != nil {
					t.Fatal(err)
				}
				if r.Uplift.Treated != want.Treated || r.Uplift.Control != want.Control || !closeEstimate(r.Uplift.SpendPerMember, want.SpendPerMember) ||
					!closeEstimate(r.Uplift.Conversion, want.Conversion) {
					t.Errorf("%s: %s: uplift\n %+v\nfrom the baskets\n %+v", step.name, c.Spec.Name, r.Uplift, want)
				}
				if want.Treated.Buyers+want.Control.Buyers == 0 {
					t.Errorf("%s: %s: nobody bought: the comparison checks nothing", step.name, c.Spec.Name)
				}
			}
		}
	})
}

// firstBasket is when the first member basket was stamped.
func (w *world) firstBasket(t *testing.T) time.Time {
	t.Helper()
	var at time.Time
	if err := w.db.R.QueryRow(`SELECT created_at FROM baskets WHERE member_id IS NOT NULL ORDER BY created_at LIMIT 1`).Scan(&at); err != nil {
		t.Fatal(err)
	}
	return at
}

// spendRows lists campaign_spend's rows that count, in key order.
func spendRows(t *testing.T, db *store.DB) []string {
	t.Helper()
	rows, err := db.R.Query(`SELECT campaign_id, member_id, baskets, spend FROM campaign_spend WHERE baskets <> 0 OR spend <> 0
		ORDER BY campaign_id, member_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c, m string
		var n, s int64
		if err := rows.Scan(&c, &m, &n, &s); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s/%s:%d,%d", c, m, n, s))
	}
	return out
}

// tallyRows lists basket_tally's rows that count, summed over shards, in
// key order.
func tallyRows(t *testing.T, db *store.DB) []string {
	t.Helper()
	rows, err := db.R.Query(`SELECT campaign_id, hour, store_id, SUM(baskets), SUM(redemptions), SUM(sales), SUM(discount), SUM(points)
		FROM basket_tally GROUP BY campaign_id, hour, store_id ORDER BY campaign_id, hour, store_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var c, s string
		var h, n, r, sales, d, p int64
		if err := rows.Scan(&c, &h, &s, &n, &r, &sales, &d, &p); err != nil {
			t.Fatal(err)
		}
		if n != 0 || r != 0 || sales != 0 || d != 0 || p != 0 {
			out = append(out, fmt.Sprintf("%s/%d/%s:%d,%d,%d,%d,%d", c, h, s, n, r, sales, d, p))
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// migrationTally empties basket_tally and runs migration 0056's backfill,
// which must fill it as the till keeps it.
func migrationTally(t *testing.T, db *store.DB) []string {
	t.Helper()
	ms, err := store.Migrations(db.Dialect)
	if err != nil {
		t.Fatal(err)
	}
	i := slices.IndexFunc(ms, func(m store.Migration) bool { return m.Version == 56 })
	if i < 0 {
		t.Fatal("no migration 0056")
	}
	fill := ms[i].SQL[strings.Index(ms[i].SQL, "INSERT INTO basket_tally"):]
	if _, err := db.W.Exec(`DELETE FROM basket_tally`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.W.Exec(fill); err != nil {
		t.Fatalf("migration 0056's backfill: %v", err)
	}
	return tallyRows(t, db)
}

// closeEstimate compares estimates whose sums of squares may be added in
// another order.
func closeEstimate(a, b report.Estimate) bool {
	near := func(x, y float64) bool { return math.Abs(x-y) <= 1e-9*math.Max(1, math.Abs(y)) }
	if !near(a.Difference, b.Difference) || a.Note != b.Note || (a.CI == nil) != (b.CI == nil) || (a.Relative == nil) != (b.Relative == nil) {
		return false
	}
	if a.CI != nil && (!near(a.CI.Low, b.CI.Low) || !near(a.CI.High, b.CI.High)) {
		return false
	}
	return a.Relative == nil || near(*a.Relative, *b.Relative)
}
