package checkout_test

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

var defaultPolicy = ledger.Policy{PendingFor: 0, RedeemPoints: 1, RedeemValue: 1, Clawback: ledger.ClawbackWithinBalance}

func TestEvaluateChangesNothing_CommitAppliesTheSame(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, defaultPolicy)
		ctx := context.Background()
		m := w.enrol(t, phoneN(1))
		c := w.launch(t, campaign.Spec{Name: "Coffee 20", Benefits: []engine.Benefit{percent(20, "COF")}})
		req := basket(string(m.Code), "", item(1, "COF", 2, 250), item(2, "MILK", 1, 99))

		ev, err := w.checkout.Evaluate(ctx, req, false)
		if err != nil {
			t.Fatal(err)
		}
		if ev.TotalDiscount != 100 || ev.Total != 499 || ev.Lines[0].Discount != 100 || ev.Lines[1].Discount != 0 {
			t.Fatalf("evaluate = %+v", ev)
		}
		if ev.PointsEarned != 4 { // 1 point per whole pound of 4.99 paid
			t.Errorf("points earned = %d, want 4", ev.PointsEarned)
		}
		var baskets int
		db.R.QueryRow(`SELECT COUNT(*) FROM baskets`).Scan(&baskets)
		if baskets != 0 {
			t.Fatalf("evaluate stored %d baskets", baskets)
		}

		req.TransactionID = "T-1"
		cm, err := w.checkout.Commit(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if cm.TotalDiscount != ev.TotalDiscount || cm.PointsEarned != ev.PointsEarned || !reflect.DeepEqual(cm.Lines, ev.Lines) {
			t.Fatalf("commit %+v differs from evaluate %+v", cm, ev)
		}
		if cm.Member.PointsBalance != 4 {
			t.Errorf("balance after commit = %d, want 4", cm.Member.PointsBalance)
		}
		if got := balance(t, w, m.ID); got.Available != 4 {
			t.Errorf("ledger balance = %+v", got)
		}
		got, err := w.campaigns.Get(ctx, c.ID)
		if err != nil || got.Redemptions != 1 || got.DiscountGiven != 100 {
			t.Errorf("campaign counts %d redemptions, %d given (%v); want 1 and 100", got.Redemptions, got.DiscountGiven, err)
		}
	})
}

func TestCommitIsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, defaultPolicy)
		ctx := context.Background()
		m := w.enrol(t, phoneN(1))
		w.launch(t, campaign.Spec{Name: "Once", Benefits: []engine.Benefit{{Kind: engine.AmountOff, Amount: 300}}, Limits: campaign.Limits{PerMember: 1}})
		req := basket(string(m.Code), "T-1", item(1, "A", 1, 1000))
		first, err := w.checkout.Commit(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(time.Minute)
		again, err := w.checkout.Commit(ctx, basket(string(m.Code), "T-1", item(1, "A", 1, 1000)))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(first, again) {
			t.Fatalf("repeat commit answered\n%+v\nwant\n%+v", again, first)
		}
		if first.TotalDiscount != 300 {
			t.Fatalf("discount = %d, want 300 (the single use was taken once)", first.TotalDiscount)
		}
		_, err = w.checkout.Commit(ctx, basket(string(m.Code), "T-1", item(1, "A", 2, 1000)))
		wantProblem(t, err, "transaction_conflict")
		// Another store may use the same transaction id.
		other := basket(string(m.Code), "T-1", item(1, "A", 1, 1000))
		other.Store = "S2"
		o, err := w.checkout.Commit(ctx, other)
		if err != nil {
			t.Fatal(err)
		}
		if o.TotalDiscount != 0 {
			t.Errorf("single-use offer applied twice: %d", o.TotalDiscount)
		}
		if got := balance(t, w, m.ID); got.Available != 7+10 {
			t.Errorf("balance = %d, want 17 (points written once per commit)", got.Available)
		}
	})
}

func TestReturnRefundsStoredSharesAndRestoresSingleUseOffer(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, defaultPolicy)
		ctx := context.Background()
		m := w.enrol(t, phoneN(1))
		// £10 off a basket of three lines, once per member.
		c := w.launch(t, campaign.Spec{Name: "Tenner", Benefits: []engine.Benefit{{Kind: engine.AmountOff, Amount: 1000}}, Limits: campaign.Limits{PerMember: 1}})
		req := basket(string(m.Code), "T-1", item(1, "A", 3, 1000), item(2, "B", 1, 1500), item(3, "C", 1, 500))
		cm, err := w.checkout.Commit(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		// 1000 spread over 3000/1500/500 = 600/300/100.
		want := []int64{600, 300, 100}
		for i, l := range cm.Lines {
			if l.Discount != want[i] {
				t.Fatalf("line %d discount %d, want %d", l.Line, l.Discount, want[i])
			}
		}
		if cm.PointsEarned != 40 {
			t.Fatalf("points = %d, want 40", cm.PointsEarned)
		}
		// Return one of the three A's: a third of its 600 discount stays with
		// the shop, and the rest of the basket keeps its shares.
		r, err := w.checkout.Return(ctx, &checkout.ReturnRequest{Store: "S1", TransactionID: "T-1", ReturnID: "R1", Items: []checkout.ReturnItem{{Line: 1, Quantity: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		if r.Refund != 1000-200 || r.Lines[0].Discount != 200 {
			t.Fatalf("return = %+v, want refund 800", r)
		}
		if len(r.OffersRestored) != 0 {
			t.Fatalf("offer restored after a partial return: %v", r.OffersRestored)
		}
		// Same return id again: same answer, nothing more taken back.
		r2, err := w.checkout.Return(ctx, &checkout.ReturnRequest{Store: "S1", TransactionID: "T-1", ReturnID: "R1", Items: []checkout.ReturnItem{{Line: 1, Quantity: 1}}})
		if err != nil || !reflect.DeepEqual(r, r2) {
			t.Fatalf("repeated return = %+v, %v", r2, err)
		}
		_, err = w.checkout.Return(ctx, &checkout.ReturnRequest{Store: "S1", TransactionID: "T-1", ReturnID: "R1", Items: []checkout.ReturnItem{{Line: 2, Quantity: 1}}})
		wantProblem(t, err, "return_conflict")
		_, err = w.checkout.Return(ctx, &checkout.ReturnRequest{Store: "S1", TransactionID: "T-1", ReturnID: "R2", Items: []checkout.ReturnItem{{Line: 1, Quantity: 3}}})
		wantProblem(t, err, "return_exceeds_purchase")

		// The rest comes back: the offer may be used again.
		r3, err := w.checkout.Return(ctx, &checkout.ReturnRequest{Store: "S1", TransactionID: "T-1", ReturnID: "R3",
			Items: []checkout.ReturnItem{{Line: 1, Quantity: 2}, {Line: 2, Quantity: 1}, {Line: 3, Quantity: 1}}})
		if err != nil {
			t.Fatal(err)
		}
		if r.Refund+r3.Refund != cm.Total {
			t.Fatalf("refunds %d + %d != paid %d", r.Refund, r3.Refund, cm.Total)
		}
		if r.PointsReversed+r3.PointsReversed != 40 {
			t.Fatalf("points reversed %d + %d, want 40", r.PointsReversed, r3.PointsReversed)
		}
		if !reflect.DeepEqual(r3.OffersRestored, []string{c.ID + ".1"}) {
			t.Fatalf("offers restored = %v", r3.OffersRestored)
		}
		if got := balance(t, w, m.ID); got.Available != 0 || got.Pending != 0 {
			t.Fatalf("balance after full return = %+v", got)
		}
		again, err := w.checkout.Commit(ctx, basket(string(m.Code), "T-2", item(1, "A", 1, 2000)))
		if err != nil || again.TotalDiscount != 1000 {
			t.Fatalf("offer not usable again after return: %+v %v", again, err)
		}
	})
}

func TestVoidUndoesEverything(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, defaultPolicy)
		ctx := context.Background()
		m := w.enrol(t, phoneN(1))
		w.launch(t, campaign.Spec{Name: "Once", Benefits: []engine.Benefit{{Kind: engine.AmountOff, Amount: 100}}, Limits: campaign.Limits{PerMember: 1, Budget: 1000}})
		if _, err := w.ledger.Adjust(ctx, m.ID, 500, "welcome gift", "ops@test"); err != nil {
			t.Fatal(err)
		}
		req := basket(string(m.Code), "T-1", item(1, "A", 1, 1000))
		req.RedeemPoints = 300
		cm, err := w.checkout.Commit(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if cm.AmountDue != 1000-100-300 || cm.PointsValue != 300 {
			t.Fatalf("commit = %+v", cm)
		}
		if got := balance(t, w, m.ID); got.Available != 500-300+9 {
			t.Fatalf("balance = %+v, want 209", got)
		}
		v, err := w.checkout.Void(ctx, &checkout.VoidRequest{Store: "S1", TransactionID: "T-1"})
		if err != nil {
			t.Fatal(err)
		}
		if v.Status != "voided" || v.PointsRefunded != 300 || v.PointsReversed != 9 || len(v.OffersRestored) != 1 {
			t.Fatalf("void = %+v", v)
		}
		if got := balance(t, w, m.ID); got.Available != 500 {
			t.Fatalf("balance after void = %+v, want 500", got)
		}
		if _, err := w.checkout.Void(ctx, &checkout.VoidRequest{Store: "S1", TransactionID: "T-1"}); err != nil {
			t.Fatalf("second void: %v", err)
		}
		if got := balance(t, w, m.ID); got.Available != 500 {
			t.Fatalf("second void changed the balance: %+v", got)
		}
		var given int64
		db.R.QueryRow(`SELECT `+campaign.CountersSQL+` FROM campaigns`).Scan(new(int64), &given, new(int64))
		if given != 0 {
			t.Fatalf("budget still charged %d after void", given)
		}
		_, err = w.checkout.Return(ctx, &checkout.ReturnRequest{Store: "S1", TransactionID: "T-1", ReturnID: "R", Items: []checkout.ReturnItem{{Line: 1, Quantity: 1}}})
		wantProblem(t, err, "transaction_voided")
	})
}

func TestAnonymousBasketGetsOpenOffersOnly(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, defaultPolicy)
		ctx := context.Background()
		w.launch(t, campaign.Spec{Name: "Everyone", Audience: campaign.Audience{Kind: campaign.AudienceOpen}, Benefits: []engine.Benefit{percent(10)}})
		w.launch(t, campaign.Spec{Name: "Members", Benefits: []engine.Benefit{percent(50)}})
		cm, err := w.checkout.Commit(ctx, basket("", "T-1", item(1, "A", 1, 1000)))
		if err != nil {
			t.Fatal(err)
		}
		if cm.TotalDiscount != 100 || cm.Member != nil || cm.PointsEarned != 0 {
			t.Fatalf("anonymous commit = %+v", cm)
		}
		var n int
		db.R.QueryRow(`SELECT COUNT(*) FROM baskets WHERE member_id IS NULL`).Scan(&n)
		if n != 1 {
			t.Fatalf("anonymous basket not stored")
		}
	})
}

func TestExplainListsWhyOffersDidNotApply(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, defaultPolicy)
		ctx := context.Background()
		m := w.enrol(t, phoneN(1), "vip")
		w.enrol(t, phoneN(2))
		vip := w.launch(t, campaign.Spec{Name: "Not for you", Audience: campaign.Audience{Kind: campaign.AudienceFilter, Filter: &campaign.Filter{Tags: []string{"gold"}}},
			Benefits: []engine.Benefit{percent(10)}})
		min := w.launch(t, campaign.Spec{Name: "Spend 50", Benefits: []engine.Benefit{percent(10)}, Conditions: engine.Conditions{MinBasket: 5000}})
		paused := w.launch(t, campaign.Spec{Name: "Paused", Benefits: []engine.Benefit{percent(10)}})
		if _, err := w.campaigns.Pause(ctx, paused.ID); err != nil {
			t.Fatal(err)
		}
		res, err := w.checkout.Evaluate(ctx, basket(string(m.Code), "", item(1, "A", 1, 1000)), true)
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]engine.Reason{}
		for _, r := range res.Explain {
			got[r.CampaignID] = r.Reason
		}
		want := map[string]engine.Reason{vip.ID: engine.NotInAudience, min.ID: engine.MinimumNotMet, paused.ID: engine.Paused}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("explain = %v, want %v", got, want)
		}
	})
}

func TestBadRequestsAreRefusedWithTheField(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, defaultPolicy)
		ctx := context.Background()
		m := w.enrol(t, phoneN(1))
		for _, c := range []struct {
			name string
			req  *checkout.Request
			code string
		}{
			{"no items", basket(string(m.Code), "T"), "required"},
			{"zero quantity", basket(string(m.Code), "T", item(1, "A", 0, 100)), "quantity_invalid"},
			{"negative price", basket(string(m.Code), "T", item(1, "A", 1, -1)), "price_invalid"},
			{"duplicate line", basket(string(m.Code), "T", item(1, "A", 1, 1), item(1, "B", 1, 1)), "line_duplicate"},
			{"wrong currency", &checkout.Request{Store: "S1", Currency: "EUR", TransactionID: "T", Items: []checkout.Item{item(1, "A", 1, 1)}}, "currency_unsupported"},
			{"no transaction id", basket(string(m.Code), "", item(1, "A", 1, 1)), "required"},
			{"mistyped code", basket("12345678", "T", item(1, "A", 1, 1)), "code_invalid"},
			{"unknown member", basket("+447700900999", "T", item(1, "A", 1, 1)), "member_not_found"},
			{"empty member key", &checkout.Request{Store: "S1", Member: new(string), Currency: "GBP", TransactionID: "T", Items: []checkout.Item{item(1, "A", 1, 1)}}, "member_empty"},
		} {
			t.Run(c.name, func(t *testing.T) {
				_, err := w.checkout.Commit(ctx, c.req)
				wantProblem(t, err, c.code)
			})
		}
	})
}

func TestFreeContentIsIssuedOncePerRedemption(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, defaultPolicy)
		ctx := context.Background()
		a, b, c := w.enrol(t, phoneN(1)), w.enrol(t, phoneN(2)), w.enrol(t, phoneN(3))
		if n, err := w.campaigns.AddContent(ctx, "songs", []string{"SONG-1", "SONG-2", "SONG-1"}); err != nil || n != 2 {
			t.Fatalf("added %d codes (%v), want 2", n, err)
		}
		w.launch(t, campaign.Spec{Name: "Free song", Benefits: []engine.Benefit{{Kind: engine.FreeContent, Pool: "songs", Description: "Free song"}}})
		got := map[string]bool{}
		for i, m := range []string{string(a.Code), string(b.Code)} {
			r, err := w.checkout.Commit(ctx, basket(m, fmt.Sprint("T-", i), item(1, "A", 1, 100)))
			if err != nil {
				t.Fatal(err)
			}
			if len(r.Benefits) != 1 || r.Benefits[0].Content == "" || got[r.Benefits[0].Content] {
				t.Fatalf("benefits = %+v (issued so far %v)", r.Benefits, got)
			}
			got[r.Benefits[0].Content] = true
		}
		// The pool is dry: the sale goes through and the receipt says so.
		r, err := w.checkout.Commit(ctx, basket(string(c.Code), "T-3", item(1, "A", 1, 100)))
		if err != nil {
			t.Fatal(err)
		}
		if r.Benefits[0].Content != "" || !strings.Contains(r.Benefits[0].Description, "none left") {
			t.Fatalf("dry pool: %+v", r.Benefits[0])
		}
		if left, _ := w.campaigns.ContentLeft(ctx, "songs"); left != 0 {
			t.Fatalf("%d codes left", left)
		}
	})
}

func TestPerPeriodLimitOpensAgainNextWeek(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, defaultPolicy)
		ctx := context.Background()
		m := w.enrol(t, phoneN(1))
		w.launch(t, campaign.Spec{Name: "Weekly", TimeZone: "Europe/London", Benefits: []engine.Benefit{{Kind: engine.AmountOff, Amount: 100}},
			Limits: campaign.Limits{PerPeriod: 1, Period: "week"}})
		discounts := []int64{}
		for i, step := range []time.Duration{0, time.Hour, 7 * 24 * time.Hour} { // Mon 23 Nov, same day, Mon 30 Nov
			w.clock.Advance(step)
			r, err := w.checkout.Commit(ctx, basket(string(m.Code), fmt.Sprint("T-", i), item(1, "A", 1, 500)))
			if err != nil {
				t.Fatal(err)
			}
			discounts = append(discounts, r.TotalDiscount)
		}
		if !reflect.DeepEqual(discounts, []int64{100, 0, 100}) {
			t.Fatalf("discounts = %v, want once a week", discounts)
		}
	})
}

func TestOnChangeNamesTheCampaignsATillMoved(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, defaultPolicy)
		ctx := context.Background()
		var got [][]string
		co := checkout.NewService(db, w.members, w.campaigns, w.ledger, checkout.Options{Currency: "GBP", Now: w.clock.Now,
			OnChange: func(ids ...string) { got = append(got, ids) }})
		m := w.enrol(t, phoneN(1))
		c := w.launch(t, campaign.Spec{Name: "Ten", Benefits: []engine.Benefit{percent(10)}})
		req := basket(string(m.Code), "T-1", item(1, "A", 1, 1000), item(2, "B", 1, 1000))
		ret := &checkout.ReturnRequest{Store: "S1", TransactionID: "T-1", ReturnID: "R1", Items: []checkout.ReturnItem{{Line: 1, Quantity: 1}}}
		for range 2 { // a replay moves nothing, of a commit, a return or a void
			if _, err := co.Commit(ctx, req); err != nil {
				t.Fatal(err)
			}
			if _, err := co.Return(ctx, ret); err != nil {
				t.Fatal(err)
			}
		}
		for range 2 {
			if _, err := co.Void(ctx, voidReq("T-1")); err != nil {
				t.Fatal(err)
			}
		}
		if want := [][]string{{c.ID}, {c.ID}, {c.ID}}; !reflect.DeepEqual(got, want) {
			t.Fatalf("OnChange calls %v, want %v", got, want)
		}
	})
}

// A campaign that gave nothing (its only benefit a free gift from a dry
// pool) is no redemption: it takes no use from the member, counts nothing
// against its limit and writes no redemption, so the member gets the gift
// once the pool is filled again (docs/figures.md).
func TestAFreeGiftFromADryPoolIsNoRedemption(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, defaultPolicy)
		ctx := context.Background()
		a, b := w.enrol(t, phoneN(1)), w.enrol(t, phoneN(2))
		if _, err := w.campaigns.AddContent(ctx, "songs", []string{"SONG-1"}); err != nil {
			t.Fatal(err)
		}
		c := w.launch(t, campaign.Spec{Name: "Free song", Benefits: []engine.Benefit{{Kind: engine.FreeContent, Pool: "songs", Description: "Free song"}},
			Limits: campaign.Limits{PerMember: 1, MaxRedemptions: 2}})
		steps := []struct {
			name, member, txn string
			refill            bool
			wantContent       string
			wantRedemptions   int64 // rows and counter after the step
		}{
			{"the first member gets the one song", string(a.Code), "T-1", false, "SONG-1", 1},
			{"the pool is dry: nothing given, nothing counted", string(b.Code), "T-2", false, "", 1},
			{"refilled, the second member still has their use", string(b.Code), "T-3", true, "SONG-2", 2},
		}
		for _, st := range steps {
			if st.refill {
				if _, err := w.campaigns.AddContent(ctx, "songs", []string{"SONG-2"}); err != nil {
					t.Fatal(err)
				}
			}
			r, err := w.checkout.Commit(ctx, basket(st.member, st.txn, item(1, "A", 1, 100)))
			if err != nil {
				t.Fatalf("%s: %v", st.name, err)
			}
			if len(r.Benefits) != 1 || r.Benefits[0].Content != st.wantContent {
				t.Errorf("%s: benefits %+v, want content %q", st.name, r.Benefits, st.wantContent)
			}
			var rows int64
			db.R.QueryRow(`SELECT COUNT(*) FROM redemptions WHERE campaign_id = $1`, c.ID).Scan(&rows)
			counter := counted(t, db, c.ID).Redemptions
			if rows != st.wantRedemptions || counter != st.wantRedemptions {
				t.Errorf("%s: %d redemption rows, counter %d; want %d", st.name, rows, counter, st.wantRedemptions)
			}
		}
		// A void of the dry basket has nothing to give back.
		v, err := w.checkout.Void(ctx, &checkout.VoidRequest{Store: "S1", TransactionID: "T-2"})
		if err != nil || len(v.OffersRestored) != 0 {
			t.Fatalf("void of the dry basket: %+v, %v", v, err)
		}
		var uses int64
		db.R.QueryRow(`SELECT COALESCE(SUM(uses), 0) FROM offer_uses WHERE campaign_id = $1 AND member_id = $2`, c.ID, b.ID).Scan(&uses)
		if uses != 1 {
			t.Errorf("member b has %d uses, want 1", uses)
		}
	})
}

// TestEvaluate_PointsAreTheLedgersBalance: the points an evaluate shows,
// read with the member's campaign state in one statement, are the ledger's
// Balance (one definition, ledger.SpendableColumns) as points earned on a
// pending period become available and then expire, with and without live
// campaigns that need the member's audiences and uses.
func TestEvaluate_PointsAreTheLedgersBalance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		pol := defaultPolicy
		pol.PendingFor, pol.ExpireAfter = 24*time.Hour, 72*time.Hour
		w := newWorld(t, db, pol)
		ctx := context.Background()
		m := w.enrol(t, phoneN(1))
		check := func(when string) {
			t.Helper()
			ev, err := w.checkout.Evaluate(ctx, basket(string(m.Code), "", item(1, "TEA", 1, 300)), false)
			if err != nil {
				t.Fatal(err)
			}
			want := balance(t, w, m.ID)
			if ev.Member.PointsBalance != want.Available || ev.Member.PointsPending != want.Pending {
				t.Errorf("%s: evaluate shows %d available, %d pending; the ledger %d and %d",
					when, ev.Member.PointsBalance, ev.Member.PointsPending, want.Available, want.Pending)
			}
		}
		check("no points, no campaigns")
		for i, price := range []int64{1250, 4399} {
			if _, err := w.checkout.Commit(ctx, basket(string(m.Code), fmt.Sprint("T-", i), item(1, "TEA", 1, price))); err != nil {
				t.Fatal(err)
			}
			w.clock.Advance(12 * time.Hour)
		}
		check("one lot available, one pending")
		w.launch(t, campaign.Spec{Name: "Tea once", Benefits: []engine.Benefit{percent(10, "TEA")},
			Limits: campaign.Limits{PerMember: 1}})
		check("with a per-member limit live")
		w.clock.Advance(13 * time.Hour)
		check("both available")
		w.clock.Advance(60 * time.Hour)
		check("the first expired")
		if b := balance(t, w, m.ID); b.Available == 0 || b.Pending != 0 {
			t.Fatalf("the walk through time did not reach the states it means to: %+v", b)
		}
	})
}
