package report_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/report"
	"github.com/perk-platform/perk/internal/report/figures"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestTally_PartialHoursComeFromTheRows: the series and the overview read
// whole hours from basket_tally and the partial hours at the ends of their
// range from the rows, so with a campaign starting at 10:20, a clock at
// 13:35 and "today" starting at 18:30 UTC (India, UTC+5:30), every bucket
// and today's figures equal the raw queries over exactly those ranges,
// through sales, a void and a partial return in those partial hours.
func TestTally_PartialHoursComeFromTheRows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, ledger.Policy{})
		w.clock.Set(time.Date(2026, 11, 22, 18, 10, 0, 0, time.UTC))
		var members []string
		for i := range 6 {
			members = append(members, string(w.enrol(t, fmt.Sprintf("+4477009000%02d", i), true).Code))
		}
		spec := campaign.Spec{Name: "Ten off", Audience: campaign.Audience{Kind: campaign.AudienceAll},
			Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 10}}}
		spec.Start, spec.End = "2026-11-22T18:20:00Z", "2026-12-20T00:00:00Z"
		c, err := w.campaigns.Create(ctx, spec)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.campaigns.Launch(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		// Sales from 18:25 to 20:40 UTC, every 15 minutes, in both stores:
		// in the partial hour before 19:00 ("today" in India starts at
		// 18:30), in whole hours, and in the partial hour the clock is in.
		n := 0
		for at := time.Date(2026, 11, 22, 18, 25, 0, 0, time.UTC); at.Before(time.Date(2026, 11, 22, 20, 45, 0, 0, time.UTC)); at = at.Add(15 * time.Minute) {
			w.clock.Set(at)
			st := []string{"S1", "S2"}[n%2]
			w.commit(t, st, members[n%len(members)], fmt.Sprintf("T%d", n), item(1, "A", 2, 1000+int64(n)), item(2, "B", 1, 450))
			n++
		}
		w.clock.Set(time.Date(2026, 11, 22, 20, 42, 0, 0, time.UTC))
		if _, err := w.checkout.Void(ctx, &checkout.VoidRequest{Store: "S1", TransactionID: "T0"}); err != nil { // 18:25
			t.Fatal(err)
		}
		if _, err := w.checkout.Return(ctx, &checkout.ReturnRequest{Store: "S2", TransactionID: "T1", ReturnID: "R1", // 18:40
			Items: []checkout.ReturnItem{{Line: 1, Quantity: 1}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := w.checkout.Return(ctx, &checkout.ReturnRequest{Store: "S2", TransactionID: "T9", ReturnID: "R1", // 20:40
			Items: []checkout.ReturnItem{{Line: 2, Quantity: 1}}}); err != nil {
			t.Fatal(err)
		}

		for _, bucket := range []time.Duration{time.Hour, 24 * time.Hour} {
			r, err := w.reports.Campaign(ctx, c.ID, report.Options{Bucket: bucket})
			if err != nil {
				t.Fatal(err)
			}
			secs := int64(bucket / time.Second)
			want := map[int64][2]int64{}
			rows, err := db.R.Query(`SELECT `+db.Dialect.EpochBucket("r.created_at", secs)+`, `+figures.Redemptions+`, `+figures.Discount+`
				FROM redemptions r WHERE r.campaign_id = $1 AND `+figures.Standing+` AND r.created_at >= $2 AND r.created_at < $3 GROUP BY 1`,
				c.ID, c.Start, w.clock.Now())
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var k, n, d int64
				if err := rows.Scan(&k, &n, &d); err != nil {
					t.Fatal(err)
				}
				want[k] = [2]int64{n, d}
			}
			rows.Close()
			var total int64
			for _, b := range r.Series.Buckets {
				got := [2]int64{b.Redemptions, b.Discount}
				if w := want[b.Start.Unix()/secs]; got != w {
					t.Errorf("%s bucket %s: redemptions, discount %v, the rows say %v", r.Series.Bucket, b.Start.Format(time.RFC3339), got, w)
				}
				total += b.Redemptions
			}
			if total != int64(n-1) {
				t.Errorf("%s series counts %d redemptions, want %d (one sale voided)", r.Series.Bucket, total, n-1)
			}
		}

		india, err := time.LoadLocation("Asia/Kolkata")
		if err != nil {
			t.Fatal(err)
		}
		o, err := report.ProgrammeOverview(ctx, db, w.clock.Now(), india, 3)
		if err != nil {
			t.Fatal(err)
		}
		if o.Since != time.Date(2026, 11, 22, 18, 30, 0, 0, time.UTC) {
			t.Fatalf("today starts at %s", o.Since)
		}
		var want [5]int64
		err = db.R.QueryRow(`SELECT COUNT(DISTINCT b.id), `+figures.Sales+`, COALESCE(SUM(`+figures.LinePoints+`), 0)
			FROM baskets b JOIN basket_lines l ON l.basket_id = b.id WHERE b.created_at >= $1 AND b.status = 'committed'`, o.Since).
			Scan(&want[0], &want[1], &want[2])
		if err != nil {
			t.Fatal(err)
		}
		err = db.R.QueryRow(`SELECT COUNT(*), COALESCE(SUM(d), 0) FROM (SELECT r.basket_id, r.campaign_id, `+figures.Discount+` AS d
			FROM redemptions r WHERE r.created_at >= $1 AND `+figures.Standing+` GROUP BY r.basket_id, r.campaign_id) x`, o.Since).
			Scan(&want[3], &want[4])
		if err != nil {
			t.Fatal(err)
		}
		got := [5]int64{o.Transactions, o.Sales, o.PointsEarned, o.Redemptions, o.Discount}
		if got != want {
			t.Errorf("overview today (baskets, sales, points, redemptions, discount) %v, the rows say %v", got, want)
		}
		if want[0] != int64(n-1) { // the 18:25 sale is before today (and voided)
			t.Errorf("today has %d baskets, want %d: the test's times are off", want[0], n-1)
		}
	})
}
