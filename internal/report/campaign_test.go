package report_test

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/report"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// campaignWorld is a small programme with an "all" campaign (control group
// 50%, an announcement with a tracked link) and a "filter" campaign (VIPs,
// control group 50%), members who joined after launch, baskets in two
// stores, a void, a return, an erasure, message outcomes and clicks.
type campaignWorld struct {
	*world
	all, vip *campaign.Campaign
	members  []*member.Member
	// outcome of each announcement of the "all" campaign, as set
	messages map[string]int64
}

func buildCampaignWorld(t *testing.T, db *store.DB) *campaignWorld {
	t.Helper()
	ctx := context.Background()
	w := &campaignWorld{world: newWorld(t, db, ledger.Policy{RedeemPoints: 1, RedeemValue: 1}), messages: map[string]int64{}}
	for i := 1; i <= 30; i++ {
		var tags []string
		if i <= 16 {
			tags = []string{"vip"}
		}
		w.members = append(w.members, w.enrol(t, phoneN(i), i != 30, tags...)) // 30 never consented: not announced to
	}
	w.clock.Advance(time.Minute)
	w.all = w.launch(t, campaign.Spec{Name: "All", Audience: campaign.Audience{Kind: campaign.AudienceAll}, ControlGroup: 50,
		Benefits: []engine.Benefit{percent(10, "A")},
		Message:  `Hi {{.FirstName}}, 10% off A: {{link "https://shop.example/a"}}`})
	w.vip = w.launch(t, campaign.Spec{Name: "VIP", Audience: campaign.Audience{Kind: campaign.AudienceFilter,
		Filter: &campaign.Filter{Tags: []string{"vip"}}}, ControlGroup: 50, Benefits: []engine.Benefit{percent(20, "B")}})

	// Four members join after launch; the hash decides their group.
	w.clock.Advance(time.Hour)
	for i := 31; i <= 34; i++ {
		w.members = append(w.members, w.enrol(t, phoneN(i), true))
	}

	// Baskets an hour later: most members buy A and B, odd ones at S1,
	// even ones at S2; member 2 twice; one anonymous basket.
	w.clock.Advance(time.Hour)
	for i, m := range w.members {
		n := i + 1
		if n%5 == 0 { // 5, 10, ... buy nothing
			continue
		}
		st := "S2"
		if n%2 == 1 {
			st = "S1"
		}
		w.commit(t, st, string(m.Code), "T-"+m.ID, item(1, "A", 1, 1000+int64(n)), item(2, "B", 2, 500))
		if n == 2 {
			w.clock.Advance(time.Minute)
			w.commit(t, st, string(m.Code), "T2-"+m.ID, item(1, "A", 3, 700))
		}
	}
	w.commit(t, "S1", "", "T-anon", item(1, "A", 1, 999))
	w.clock.Advance(time.Minute)
	if _, err := w.checkout.Void(ctx, &checkout.VoidRequest{Store: "S1", TransactionID: "T-" + w.members[2].ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.checkout.Return(ctx, &checkout.ReturnRequest{Store: "S2", TransactionID: "T-" + w.members[3].ID, ReturnID: "R1",
		Items: []checkout.ReturnItem{{Line: 2, Quantity: 1}}}); err != nil {
		t.Fatal(err)
	}
	// Member 29 is erased: it leaves the dynamic audience, not the fixed one.
	if err := w.world.members.Erase(ctx, w.members[28].ID); err != nil {
		t.Fatal(err)
	}

	// The announcements' outcomes, in id order: delivered ×3, undelivered,
	// sent without receipt, failed, held; the rest stay queued.
	rows, err := db.R.Query(`SELECT id FROM sms_outbox WHERE campaign_id = $1 AND status = 'queued' ORDER BY id`, w.all.ID)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for rows.Next() {
		var id string
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	if len(ids) < 7 {
		t.Fatalf("only %d announcements queued", len(ids))
	}
	sent, delivered := w.clock.Now().Add(-30*time.Minute), w.clock.Now().Add(-20*time.Minute)
	for i, id := range ids[:7] {
		switch {
		case i < 3:
			w.exec(t, `UPDATE sms_outbox SET status = 'sent', sent_at = $2, delivery_state = 'delivered', delivered_at = $3 WHERE id = $1`, id, sent, delivered)
		case i == 3:
			w.exec(t, `UPDATE sms_outbox SET status = 'sent', sent_at = $2, delivery_state = 'failed', delivered_at = $3 WHERE id = $1`, id, sent, delivered)
		case i == 4:
			w.exec(t, `UPDATE sms_outbox SET status = 'sent', sent_at = $2 WHERE id = $1`, id, sent)
		case i == 5:
			w.exec(t, `UPDATE sms_outbox SET status = 'failed', last_error = 'rejected' WHERE id = $1`, id)
		default:
			w.exec(t, `UPDATE sms_outbox SET status = 'held', held_reason = 'frequency_cap' WHERE id = $1`, id)
		}
	}
	// The messages were settled by SQL, not by the sender's recorder,
	// which keeps sms_tally: recompute it as the recorder would have kept it.
	if err := sms.RebuildTally(context.Background(), w.db.W, w.db.Dialect); err != nil {
		t.Fatal(err)
	}
	w.messages = map[string]int64{"total": int64(len(ids)), "queued": int64(len(ids) - 7), "sent": 5, "delivered": 3,
		"undelivered": 1, "failed": 1, "held": 1}

	// Clicks: the first announcement's link twice, the second's once.
	w.clock.Advance(time.Hour)
	codes := w.strings(t, `SELECT code FROM short_links WHERE campaign = $1 ORDER BY code`, w.all.ID)
	for _, code := range []string{codes[0], codes[0], codes[1]} {
		if _, err := w.links.Click(ctx, code); err != nil {
			t.Fatal(err)
		}
	}
	w.clock.Advance(30 * time.Minute)
	return w
}

func (w *world) strings(t *testing.T, q string, args ...any) []string {
	t.Helper()
	rows, err := w.db.R.Query(q, args...)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// spendRow is a basket as the independent computation reads it.
type spendRow struct {
	member string
	net    int64
}

// groupsByHand computes the uplift groups from raw rows in Go: each member
// of the population with its group, and its committed baskets in the window.
func groupsByHand(t *testing.T, w *world, population map[string]bool, from, to time.Time) (treated, control report.GroupFigures, tSq, cSq float64) {
	t.Helper()
	rows, err := w.db.R.Query(`SELECT member_id, gross - discount, status, created_at FROM baskets WHERE member_id IS NOT NULL`)
	if err != nil {
		t.Fatal(err)
	}
	spend := map[string]int64{}
	bought := map[string]bool{}
	for rows.Next() {
		var m, status string
		var net int64
		var at time.Time
		if err := rows.Scan(&m, &net, &status, &at); err != nil {
			t.Fatal(err)
		}
		if status == "committed" && !at.Before(from) && at.Before(to) {
			spend[m] += net
			bought[m] = true
		}
	}
	rows.Close()
	for id, inControl := range population {
		g, sq := &treated, &tSq
		if inControl {
			g, sq = &control, &cSq
		}
		g.Members++
		if bought[id] {
			g.Buyers++
		}
		g.Spend += spend[id]
		*sq += float64(spend[id]) * float64(spend[id])
	}
	for _, g := range []*report.GroupFigures{&treated, &control} {
		if g.Members > 0 {
			g.Conversion = float64(g.Buyers) / float64(g.Members)
			g.SpendPerMember = float64(g.Spend) / float64(g.Members)
		}
	}
	return treated, control, tSq, cSq
}

func TestCampaignReport_EqualsTheRows(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := buildCampaignWorld(t, db)
		ctx := context.Background()
		now := w.clock.Now()

		// Who is in which group, by hand.
		allPop := map[string]bool{} // every member not erased, held back by the hash
		vipPop := map[string]bool{} // the VIPs fixed at launch (erased ones stay)
		for i, m := range w.members {
			if i != 28 {
				allPop[m.ID] = campaign.InControl(w.all.ID, m.ID, 50)
			}
			if i < 16 {
				vipPop[m.ID] = campaign.InControl(w.vip.ID, m.ID, 50)
			}
		}

		for _, tc := range []struct {
			name       string
			c          *campaign.Campaign
			population map[string]bool
			audience   int64
		}{
			{"all, control group 50", w.all, allPop, 33},
			{"filter, control group 50", w.vip, vipPop, 16},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r, err := w.reports.Campaign(ctx, tc.c.ID, report.Options{})
				if err != nil {
					t.Fatal(err)
				}
				cid := tc.c.ID
				var wantControl int64
				for _, c := range tc.population {
					if c {
						wantControl++
					}
				}
				if r.Audience != tc.audience || r.ControlSize != wantControl || r.TreatedSize != tc.audience-wantControl {
					t.Errorf("audience %d, control %d, treated %d; want %d, %d, %d", r.Audience, r.ControlSize, r.TreatedSize,
						tc.audience, wantControl, tc.audience-wantControl)
				}
				if wantControl == 0 || wantControl == tc.audience {
					t.Fatalf("degenerate split: %d of %d in control", wantControl, tc.audience)
				}

				// Messages, against COUNTs of the outbox.
				msg := func(cond string) int64 {
					return w.count(t, `SELECT COUNT(*) FROM sms_outbox WHERE campaign_id = $1 AND `+cond, cid)
				}
				got := r.Messages
				wantMsgs := report.Messages{Total: msg("1 = 1"), Queued: msg("status IN ('queued', 'sending')"), Sent: msg("status = 'sent'"),
					Delivered: msg("status = 'sent' AND delivery_state = 'delivered'"), Undelivered: msg("status = 'sent' AND delivery_state IN ('failed', 'expired')"),
					Failed: msg("status = 'failed'"), Held: msg("status = 'held'"), Cancelled: msg("status = 'cancelled'")}
				if got != wantMsgs {
					t.Errorf("messages %+v, rows say %+v", got, wantMsgs)
				}
				if tc.c == w.all {
					hand := report.Messages{Total: w.messages["total"], Queued: w.messages["queued"], Sent: 5, Delivered: 3, Undelivered: 1, Failed: 1, Held: 1}
					// The announcements went to treated members who had consented at launch (not member 30).
					var announced int64
					for i, m := range w.members[:30] {
						if i != 29 && !campaign.InControl(cid, m.ID, 50) {
							announced++
						}
					}
					hand.Total = announced
					hand.Queued = announced - 7
					// Erasing member 29 cancelled its message if it was still queued.
					hand.Cancelled = msg("status = 'cancelled'")
					hand.Queued -= hand.Cancelled
					if got != hand {
						t.Errorf("messages %+v, by hand %+v", got, hand)
					}
				} else if got != (report.Messages{}) {
					t.Errorf("a campaign without a message has messages %+v", got)
				}

				// Clicks.
				wantClicks := w.count(t, `SELECT COUNT(*) FROM link_clicks k JOIN short_links l ON l.code = k.code WHERE l.campaign = $1`, cid)
				wantClickers := w.count(t, `SELECT COUNT(DISTINCT k.member_id) FROM link_clicks k JOIN short_links l ON l.code = k.code WHERE l.campaign = $1`, cid)
				if r.Clicks != wantClicks || r.UniqueClickers != wantClickers {
					t.Errorf("clicks %d by %d, rows say %d by %d", r.Clicks, r.UniqueClickers, wantClicks, wantClickers)
				}
				if tc.c == w.all && (r.Clicks != 3 || r.UniqueClickers != 2) {
					t.Errorf("clicks %d by %d, want 3 by 2", r.Clicks, r.UniqueClickers)
				}

				// Redemptions: by hand, every committed basket of a treated
				// member buying the campaign's SKU (member 3's was voided).
				var wantRed, wantMembers int64
				for i, m := range w.members {
					n := i + 1
					inControl, in := tc.population[m.ID]
					if i == 28 && tc.c == w.all {
						in, inControl = true, campaign.InControl(cid, m.ID, 50) // erased after buying
					}
					if !in || inControl || n%5 == 0 || n == 3 {
						continue
					}
					wantMembers++
					wantRed++
					if n == 2 && tc.c == w.all {
						wantRed++
					}
				}
				red := func(q string) int64 { return w.count(t, q, cid) }
				if r.Redemptions != wantRed || r.Redemptions != red(`SELECT COUNT(DISTINCT basket_id) FROM redemptions WHERE campaign_id = $1 AND restored_at IS NULL`) {
					t.Errorf("redemptions %d, want %d", r.Redemptions, wantRed)
				}
				if r.RedeemingMembers != wantMembers {
					t.Errorf("redeeming members %d, want %d", r.RedeemingMembers, wantMembers)
				}
				// Discount and revenue are net of returns (member 4 returned one B).
				if d := red(`SELECT COALESCE(SUM(discount - discount_returned), 0) FROM redemptions WHERE campaign_id = $1 AND restored_at IS NULL`); r.DiscountGiven != d || d == 0 {
					t.Errorf("discount %d, rows say %d", r.DiscountGiven, d)
				}
				if p := red(`SELECT COALESCE(SUM(points), 0) FROM redemptions WHERE campaign_id = $1 AND restored_at IS NULL`); r.PointsGiven != p {
					t.Errorf("points %d, rows say %d", r.PointsGiven, p)
				}
				// Nothing was paid with points, so a return's refund is all it gave back.
				wantRevenue := red(`SELECT COALESCE(SUM(gross - discount - (SELECT COALESCE(SUM(x.refund), 0) FROM basket_returns x
					WHERE x.basket_id = baskets.id)), 0) FROM baskets WHERE status = 'committed'
					AND id IN (SELECT basket_id FROM redemptions WHERE campaign_id = $1 AND restored_at IS NULL)`)
				if r.Revenue != wantRevenue || wantRevenue == 0 {
					t.Errorf("revenue %d, rows say %d", r.Revenue, wantRevenue)
				}
				if r.RedemptionRate == nil || math.Abs(*r.RedemptionRate-float64(wantMembers)/float64(r.TreatedSize)) > 1e-12 {
					t.Errorf("redemption rate %v, want %d/%d", r.RedemptionRate, wantMembers, r.TreatedSize)
				}

				// Per store adds up, and matches a GROUP BY.
				var sumRed, sumDisc, sumRev int64
				for _, s := range r.PerStore {
					sumRed, sumDisc, sumRev = sumRed+s.Redemptions, sumDisc+s.Discount, sumRev+s.Revenue
					q := `SELECT COUNT(DISTINCT basket_id) FROM redemptions WHERE campaign_id = $1 AND restored_at IS NULL AND store_id = $2`
					if n := w.count(t, q, cid, s.StoreID); n != s.Redemptions {
						t.Errorf("store %s: %d redemptions, rows say %d", s.StoreID, s.Redemptions, n)
					}
				}
				stores := w.count(t, `SELECT COUNT(DISTINCT store_id) FROM redemptions WHERE campaign_id = $1 AND restored_at IS NULL`, cid)
				if int64(len(r.PerStore)) != stores || sumRed != r.Redemptions || sumDisc != r.DiscountGiven || sumRev != r.Revenue {
					t.Errorf("per store %+v does not add up to %d/%d/%d", r.PerStore, r.Redemptions, r.DiscountGiven, r.Revenue)
				}

				// Uplift against a computation in Go over the raw rows.
				from, to := tc.c.Start, now
				if r.Uplift.From != from || r.Uplift.To != to {
					t.Errorf("window %v..%v, want %v..%v", r.Uplift.From, r.Uplift.To, from, to)
				}
				tr, co, tSq, cSq := groupsByHand(t, w.world, tc.population, from, to)
				if !closeGroup(r.Uplift.Treated, tr) || !closeGroup(r.Uplift.Control, co) {
					t.Errorf("groups\n treated %+v\n control %+v\nby hand\n treated %+v\n control %+v", r.Uplift.Treated, r.Uplift.Control, tr, co)
				}
				// The interval, from the same sums by the textbook formulas.
				pt, pc := tr.Conversion, co.Conversion
				se := math.Sqrt(pt*(1-pt)/float64(tr.Members) + pc*(1-pc)/float64(co.Members))
				ci := r.Uplift.Conversion.CI
				if ci == nil || math.Abs(ci.High-(pt-pc)-1.959963984540054*se) > 1e-9 || math.Abs(r.Uplift.Conversion.Difference-(pt-pc)) > 1e-12 {
					t.Errorf("conversion %+v, want %v ± %v", r.Uplift.Conversion, pt-pc, 1.96*se)
				}
				vt := (tSq - float64(tr.Spend)*float64(tr.Spend)/float64(tr.Members)) / float64(tr.Members-1)
				vc := (cSq - float64(co.Spend)*float64(co.Spend)/float64(co.Members)) / float64(co.Members-1)
				seMean := math.Sqrt(vt/float64(tr.Members) + vc/float64(co.Members))
				sp := r.Uplift.SpendPerMember
				if co.Members < 2 || tr.Members < 2 {
					if sp.CI != nil || sp.Note != "not enough data" {
						t.Errorf("spend per member with %d and %d members: %+v", tr.Members, co.Members, sp)
					}
				} else if sp.CI == nil || math.Abs(sp.Difference-(tr.SpendPerMember-co.SpendPerMember)) > 1e-9 ||
					(sp.CI.High-sp.Difference)/seMean < 1.96 || (sp.CI.High-sp.Difference)/seMean > 13 {
					t.Errorf("spend per member %+v (se %v)", sp, seMean)
				}

				// The series adds up to the totals (everything happened in the window).
				if r.Series.Bucket != "hour" || len(r.Series.Buckets) != 5 {
					t.Fatalf("series %s with %d buckets", r.Series.Bucket, len(r.Series.Buckets))
				}
				var s report.Bucket
				for i, b := range r.Series.Buckets {
					if want := tc.c.Start.Truncate(time.Hour).Add(time.Duration(i) * time.Hour); !b.Start.Equal(want) {
						t.Errorf("bucket %d starts %v, want %v", i, b.Start, want)
					}
					s.Sent, s.Delivered, s.Clicks = s.Sent+b.Sent, s.Delivered+b.Delivered, s.Clicks+b.Clicks
					s.Redemptions, s.Discount = s.Redemptions+b.Redemptions, s.Discount+b.Discount
				}
				if s.Sent != r.Messages.Sent || s.Delivered != r.Messages.Delivered || s.Clicks != r.Clicks ||
					s.Redemptions != r.Redemptions || s.Discount != r.DiscountGiven {
					t.Errorf("series sums %+v, totals sent %d delivered %d clicks %d redemptions %d discount %d", s,
						r.Messages.Sent, r.Messages.Delivered, r.Clicks, r.Redemptions, r.DiscountGiven)
				}
				day, err := w.reports.Campaign(ctx, cid, report.Options{Bucket: 24 * time.Hour})
				if err != nil || day.Series.Bucket != "day" || len(day.Series.Buckets) != 1 || day.Series.Buckets[0].Redemptions != r.Redemptions {
					t.Errorf("daily series %+v, %v", day.Series, err)
				}
			})
		}
	})
}

func closeGroup(a, b report.GroupFigures) bool {
	return a.Members == b.Members && a.Buyers == b.Buyers && a.Spend == b.Spend &&
		math.Abs(a.Conversion-b.Conversion) < 1e-12 && math.Abs(a.SpendPerMember-b.SpendPerMember) < 1e-9
}

func TestCampaignReport_RefusesAnOddBucketAndAnUnknownCampaign(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, ledger.Policy{})
		ctx := context.Background()
		if _, err := w.reports.Campaign(ctx, "cmp_nope", report.Options{}); !isProblem(err, "campaign_not_found") {
			t.Errorf("unknown campaign: %v", err)
		}
		c := w.launch(t, campaign.Spec{Name: "X", Audience: campaign.Audience{Kind: campaign.AudienceAll}, Benefits: []engine.Benefit{percent(10, "A")}})
		if _, err := w.reports.Campaign(ctx, c.ID, report.Options{Bucket: time.Minute}); !isProblem(err, "bucket_invalid") {
			t.Errorf("minute buckets: %v", err)
		}
		// No control group: the conversion interval says why it is missing.
		r, err := w.reports.Campaign(ctx, c.ID, report.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if r.Uplift.Conversion.CI != nil || r.Uplift.Conversion.Note != "not enough data" || r.ControlSize != 0 {
			t.Errorf("uplift without a control group: %+v", r.Uplift)
		}
	})
}

func isProblem(err error, code string) bool {
	var p *problem.Error
	return errors.As(err, &p) && p.Code == code
}
