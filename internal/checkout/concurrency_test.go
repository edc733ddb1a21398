package checkout_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// atOnce runs call(0) .. call(n-1) released together and returns their
// answers and errors by index.
func atOnce[T any](n int, call func(i int) (T, error)) ([]T, []error) {
	resps, errs := make([]T, n), make([]error, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			resps[i], errs[i] = call(i)
		}()
	}
	close(start)
	wg.Wait()
	return resps, errs
}

// commitAll runs n commits at once and returns their answers (nil where one
// failed) and errors.
func commitAll(w *world, n int, req func(i int) *checkout.Request) ([]*checkout.Response, []error) {
	return atOnce(n, func(i int) (*checkout.Response, error) { return w.checkout.Commit(context.Background(), req(i)) })
}

func TestConcurrentTillsSpendASingleUseOfferOnce(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, defaultPolicy)
		m := w.enrol(t, phoneN(1))
		c := w.launch(t, campaign.Spec{Name: "Fiver", Benefits: []engine.Benefit{{Kind: engine.AmountOff, Amount: 500}}, Limits: campaign.Limits{PerMember: 1}})
		resps, errs := commitAll(w, 100, func(i int) *checkout.Request {
			r := basket(string(m.Code), fmt.Sprintf("T-%d", i), item(1, "A", 1, 2000))
			r.Terminal = fmt.Sprintf("T%d", i)
			return r
		})
		got := 0
		for i, r := range resps {
			if errs[i] != nil {
				t.Fatalf("commit %d: %v", i, errs[i])
			}
			if r.TotalDiscount == 500 {
				got++
			} else if r.TotalDiscount != 0 {
				t.Fatalf("commit %d got a discount of %d", i, r.TotalDiscount)
			}
		}
		if got != 1 {
			t.Fatalf("%d tills got the single-use offer, want exactly 1", got)
		}
		var uses, reds int
		db.R.QueryRow(`SELECT uses FROM offer_uses WHERE campaign_id = $1`, c.ID).Scan(&uses)
		db.R.QueryRow(`SELECT COUNT(*) FROM redemptions WHERE campaign_id = $1`, c.ID).Scan(&reds)
		if uses != 1 || reds != 1 {
			t.Fatalf("uses = %d, redemptions = %d, want 1 and 1", uses, reds)
		}
	})
}

func TestConcurrentCommitsNeverOverspendABudget(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, defaultPolicy)
		var codes []string
		for i := range 20 {
			codes = append(codes, string(w.enrol(t, phoneN(i)).Code))
		}
		// £3 off, £20 budget: six redemptions fit, the seventh would overspend.
		c := w.launch(t, campaign.Spec{Name: "Budgeted", Benefits: []engine.Benefit{{Kind: engine.AmountOff, Amount: 300}}, Limits: campaign.Limits{Budget: 2000}})
		resps, errs := commitAll(w, 60, func(i int) *checkout.Request {
			return basket(codes[i%len(codes)], fmt.Sprintf("T-%d", i), item(1, "A", 1, 1000))
		})
		var total int64
		for i, r := range resps {
			if errs[i] != nil {
				t.Fatalf("commit %d: %v", i, errs[i])
			}
			total += r.TotalDiscount
		}
		if total != 1800 {
			t.Fatalf("discount given = %d, want 1800 (six uses of 300 within 2000)", total)
		}
		given := counted(t, db, c.ID).Discount
		if given != total {
			t.Fatalf("campaign counts %d given, baskets %d", given, total)
		}
	})
}

func TestConcurrentMaxRedemptionsEndsTheCampaignForEveryone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, defaultPolicy)
		var codes []string
		for i := range 30 {
			codes = append(codes, string(w.enrol(t, phoneN(i)).Code))
		}
		c := w.launch(t, campaign.Spec{Name: "First ten", Benefits: []engine.Benefit{{Kind: engine.AmountOff, Amount: 100}}, Limits: campaign.Limits{MaxRedemptions: 10}})
		resps, errs := commitAll(w, 30, func(i int) *checkout.Request {
			return basket(codes[i], fmt.Sprintf("T-%d", i), item(1, "A", 1, 1000))
		})
		n := 0
		for i, r := range resps {
			if errs[i] != nil {
				t.Fatalf("commit %d: %v", i, errs[i])
			}
			if r.TotalDiscount > 0 {
				n++
			}
		}
		if n != 10 {
			t.Fatalf("%d redemptions, want 10", n)
		}
		got, err := w.campaigns.Get(context.Background(), c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != campaign.Ended || got.EndedReason != "redemption limit reached" {
			t.Fatalf("campaign %s (%s), want ended by its limit", got.Status, got.EndedReason)
		}
	})
}

func TestConcurrentPointsPaymentsNeverGoBelowZero(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, defaultPolicy)
		m := w.enrol(t, phoneN(1))
		if _, err := w.ledger.Adjust(context.Background(), m.ID, 1000, "goodwill", "ops@test"); err != nil {
			t.Fatal(err)
		}
		resps, errs := commitAll(w, 40, func(i int) *checkout.Request {
			r := basket(string(m.Code), fmt.Sprintf("T-%d", i), item(1, "A", 1, 99)) // earns nothing
			r.RedeemPoints = 70
			return r
		})
		paid := int64(0)
		for i, r := range resps {
			switch {
			case errs[i] == nil:
				paid += r.PointsRedeemed
			case problem.KindOf(errs[i]) == problem.Conflict || problem.KindOf(errs[i]) == problem.Invalid:
			default:
				t.Fatalf("commit %d: %v", i, errs[i])
			}
		}
		if paid != 14*70 {
			t.Fatalf("points paid = %d, want %d (14 payments of 70 out of 1000)", paid, 14*70)
		}
		if b := balance(t, w, m.ID); b.Available != 1000-paid {
			t.Fatalf("balance %d, want %d", b.Available, 1000-paid)
		}
	})
}

func TestConcurrentRetriesUndoOnceAndAllAnswerAlike(t *testing.T) {
	tests := []struct {
		name string
		call tillCall
		want figures // after every call has answered
	}{
		{
			// The 300 points paid with come back once (500 given, 300 paid,
			// 19 earned), the budget and the use are given back once.
			name: "20 identical voids",
			call: voidT1,
			want: figures{Available: 500, DiscountGiven: 0, Redemptions: 0, Uses: 0, Entries: 5, Returned: 3, Status: "voided"},
		},
		{
			// One A comes back once: 25 of the 100 off leaves the budget,
			// its 5 of the 19 points earned are taken back once, and its
			// share of the 300 points paid with (475 of 1900: 75) comes
			// back once.
			name: "20 identical returns",
			call: returnT1("R1", units(1, 1)),
			want: figures{Available: 500 - 300 + 19 - 5 + 75, DiscountGiven: 75, Redemptions: 1, Uses: 1, Entries: 5, Returned: 1, Status: "committed"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				s := newRetrySale(t, db, 300)
				const n = 20
				resps, errs := atOnce(n, func(int) (*checkout.ReturnResponse, error) { return tt.call(context.Background(), s) })
				for i := range n {
					if errs[i] != nil {
						t.Fatalf("call %d: %v", i, errs[i])
					}
					if got, want := jsonOf(t, resps[i]), jsonOf(t, resps[0]); got != want {
						t.Fatalf("call %d answered\n%s\ncall 0 answered\n%s", i, got, want)
					}
				}
				if resps[0].Refund == 0 {
					t.Fatalf("every call answered no refund: %+v", resps[0])
				}
				if got := s.figures(t); got != tt.want {
					t.Fatalf("figures %+v, want %+v", got, tt.want)
				}
			})
		})
	}
}
