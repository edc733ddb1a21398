package report_test

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/mart"
	"github.com/perk-platform/perk/internal/report"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// shown is one campaign's figures as one place shows them.
type shown struct{ redemptions, discount, points, revenue int64 }

// TestFigures_EveryPlaceAgreesAfterReturnsAndVoids is docs/figures.md as a
// test: on one day's baskets, with a partial return, a void of a sale
// partly paid with points and a free gift from an empty pool, the overview,
// the campaign reports, the campaign list (GET /v1/campaigns), the data
// mart's dim_campaign and its facts all show the same figures, and those
// are the figures worked out by hand.
func TestFigures_EveryPlaceAgreesAfterReturnsAndVoids(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, ledger.Policy{RedeemPoints: 1, RedeemValue: 1})
		var ms []string
		for i := 1; i <= 4; i++ {
			ms = append(ms, string(w.enrol(t, phoneN(i), true).Code))
		}
		// Bread: 20% off A and 50 bonus points, with a budget, so its
		// counters are kept beside the rows. Gift: a free code with G, from
		// a pool of one.
		bread := w.launch(t, campaign.Spec{Name: "Bread", Audience: campaign.Audience{Kind: campaign.AudienceAll},
			Benefits: []engine.Benefit{percent(20, "A"), {Kind: engine.PointsBonus, Points: 50, Scope: engine.Scope{SKUs: []string{"A"}}}},
			Limits:   campaign.Limits{Budget: 100000}})
		if _, err := w.campaigns.AddContent(ctx, "gifts", []string{"SONG-1"}); err != nil {
			t.Fatal(err)
		}
		gift := w.launch(t, campaign.Spec{Name: "Gift", Audience: campaign.Audience{Kind: campaign.AudienceAll},
			Conditions: engine.Conditions{RequireSKUs: []string{"G"}},
			Benefits:   []engine.Benefit{{Kind: engine.FreeContent, Pool: "gifts", Description: "A free song"}}})
		m4, err := w.members.Lookup(ctx, ms[3])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.ledger.Adjust(ctx, m4.ID, 500, "welcome", "ops@test"); err != nil {
			t.Fatal(err)
		}

		w.clock.Advance(time.Minute)
		// 1: 2 A at 500 (200 off, 50 points) and a G with the one song.
		w.commit(t, "S1", ms[0], "T1", item(1, "A", 2, 500), item(2, "G", 1, 100))
		// 2: 1 A at 1000 (200 off, 50 points) and a G: the pool is dry, no gift.
		w.commit(t, "S2", ms[1], "T2", item(1, "A", 1, 1000), item(2, "G", 1, 100))
		// 3: 3 A at 500 (300 off, 50 points); one A comes back: 100 of the
		// discount and 400 of the sale with it; the redemption stands.
		w.commit(t, "S1", ms[2], "T3", item(1, "A", 3, 500))
		// 4: 1 A at 500 (100 off), 100 of the 400 due paid with points; voided.
		r4, err := w.checkout.Commit(ctx, &checkout.Request{Store: "S1", Terminal: "T1", Member: checkout.Key(ms[3]), Currency: "GBP",
			Items: []checkout.Item{item(1, "A", 1, 500)}, TransactionID: "T4", RedeemPoints: 100})
		if err != nil || r4.AmountDue != 300 {
			t.Fatalf("commit T4: %+v, %v", r4, err)
		}
		// 5: no campaign.
		w.commit(t, "S2", ms[0], "T5", item(1, "B", 1, 250))
		w.clock.Advance(time.Minute)
		if _, err := w.checkout.Return(ctx, &checkout.ReturnRequest{Store: "S1", TransactionID: "T3", ReturnID: "R1",
			Items: []checkout.ReturnItem{{Line: 1, Quantity: 1}}}); err != nil {
			t.Fatal(err)
		}
		v, err := w.checkout.Void(ctx, &checkout.VoidRequest{Store: "S1", TransactionID: "T4"})
		if err != nil {
			t.Fatal(err)
		}
		if v.Refund != 300 || v.PointsRefunded != 100 {
			t.Errorf("void of T4 gave back %d in money and %d points; 300 and 100 were paid", v.Refund, v.PointsRefunded)
		}

		// By hand (docs/figures.md).
		want := map[string]shown{
			bread.ID: {redemptions: 3, discount: 200 + 200 + 300 - 100, points: 150, revenue: 900 + 900 + 1200 - 400},
			gift.ID:  {redemptions: 1, discount: 0, points: 0, revenue: 900},
		}
		const wantTransactions, wantSales = 4, 900 + 900 + 800 + 250

		check := func(where string, got map[string]shown, withRevenue bool) {
			t.Helper()
			for id, wf := range want {
				g := got[id]
				if !withRevenue {
					g.revenue = wf.revenue
				}
				if g != wf {
					t.Errorf("%s: campaign %s shows %+v, want %+v", where, id, g, wf)
				}
			}
		}

		// The campaign reports.
		reports := map[string]shown{}
		var sumRed, sumDisc int64
		for id := range want {
			r, err := w.reports.Campaign(ctx, id, report.Options{})
			if err != nil {
				t.Fatal(err)
			}
			reports[id] = shown{r.Redemptions, r.DiscountGiven, r.PointsGiven, r.Revenue}
			sumRed, sumDisc = sumRed+r.Redemptions, sumDisc+r.DiscountGiven
		}
		check("campaign report", reports, true)

		// The campaign list, as GET /v1/campaigns and perk campaigns get show it.
		cs, err := w.campaigns.List(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		list := map[string]shown{}
		for _, c := range cs {
			list[c.ID] = shown{redemptions: c.Redemptions, discount: c.DiscountGiven, points: c.PointsGiven}
		}
		check("campaign list", list, false)

		// The overview: today's redemptions are the sum of the reports'.
		o, err := report.ProgrammeOverview(ctx, db, w.clock.Now(), time.UTC, 1)
		if err != nil {
			t.Fatal(err)
		}
		if o.Redemptions != sumRed || o.Discount != sumDisc || o.Redemptions != 4 || o.Transactions != wantTransactions || o.Sales != wantSales {
			t.Errorf("overview: %d redemptions, %d discount, %d transactions, %d sales; want %d, %d, %d, %d", o.Redemptions, o.Discount,
				o.Transactions, o.Sales, sumRed, sumDisc, wantTransactions, wantSales)
		}

		// The counters the tills take the budget from agree too.
		var counter shown
		if err := db.R.QueryRow(`SELECT `+campaign.CountersSQL+` FROM campaigns WHERE id = $1`, bread.ID).
			Scan(&counter.redemptions, &counter.discount, &counter.points); err != nil {
			t.Fatal(err)
		}
		check("Bread's counters", map[string]shown{bread.ID: counter, gift.ID: want[gift.ID]}, false)

		// The data mart: dim_campaign, and the same figures summed from its facts.
		dir := t.TempDir()
		if _, err := mart.Export(ctx, db, mart.Options{Dir: dir, Key: []byte("0123456789abcdef0123456789abcdef"), Now: w.clock.Now}); err != nil {
			t.Fatal(err)
		}
		dim := map[string]shown{}
		for _, row := range readMart(t, dir, "dim_campaign") {
			dim[row["campaign_id"]] = shown{redemptions: atoi(row["redemptions"]), discount: atoi(row["discount_given"]), points: atoi(row["points_given"])}
		}
		check("dim_campaign", dim, false)

		// From the facts: standing redemptions (not restored), each basket
		// once per campaign; revenue from the lines, net of returned units.
		lineNet := map[string]int64{}
		for _, l := range readMart(t, dir, "fact_transaction_line") {
			q, ret, disc := atoi(l["quantity"]), atoi(l["returned_qty"]), atoi(l["discount"])
			lineNet[l["transaction_key"]] += atoi(l["unit_price"])*(q-ret) - (disc - disc*ret/q)
		}
		committed := map[string]bool{}
		var sales int64
		for _, tx := range readMart(t, dir, "fact_transaction") {
			if tx["status"] == "committed" {
				committed[tx["transaction_key"]] = true
				sales += lineNet[tx["transaction_key"]]
			}
		}
		if sales != o.Sales {
			t.Errorf("mart facts: sales %d, overview %d", sales, o.Sales)
		}
		facts := map[string]shown{}
		baskets := map[[2]string]bool{}
		for _, r := range readMart(t, dir, "fact_response") {
			if r["response_type"] != "redemption" || r["restored_at"] != "" {
				continue
			}
			f := facts[r["campaign_id"]]
			f.discount += atoi(r["value"])
			f.points += atoi(r["points"])
			if k := [2]string{r["campaign_id"], r["transaction_key"]}; !baskets[k] {
				baskets[k] = true
				f.redemptions++
				if committed[r["transaction_key"]] {
					f.revenue += lineNet[r["transaction_key"]]
				}
			}
			facts[r["campaign_id"]] = f
		}
		check("mart facts", facts, true)
	})
}

// readMart reads an exported CSV table as rows keyed by column.
func readMart(t *testing.T, dir, table string) []map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, table+".csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var out []map[string]string
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, h := range recs[0] {
			row[h] = rec[i]
		}
		out = append(out, row)
	}
	return out
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
