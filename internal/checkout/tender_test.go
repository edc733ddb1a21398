package checkout_test

import (
	"context"
	"testing"

	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// A basket of 1000 + 900 paid with 300 points (1 point = 1p) and 1600 in
// money. A return or void gives back what the units cost (value) as money
// and points in the proportion they were paid in, and everything back adds
// up to exactly the money and the points paid: never money for points.
func TestReturnsAndVoidsGiveBackMoneyAsMoneyAndPointsAsPoints(t *testing.T) {
	type step struct {
		line                          int // 0: void
		value, refund, pointsRefunded int64
	}
	for _, tc := range []struct {
		name   string
		redeem int64
		steps  []step
	}{
		{"a void gives back the money paid and the points paid", 300, []step{{0, 1900, 1600, 300}}},
		{"a return gives back its share of each, the void the rest", 300, []step{
			{1, 1000, 1600 * 1000 / 1900, 300 * 1000 / 1900}, {0, 900, 1600 - 1600*1000/1900, 300 - 300*1000/1900}}},
		{"two returns add up to the money and the points paid", 300, []step{
			{2, 900, 1600 * 900 / 1900, 300 * 900 / 1900}, {1, 1000, 1600 - 1600*900/1900, 300 - 300*900/1900}}},
		{"a basket paid all in money gives back money", 0, []step{{1, 1000, 1000, 0}, {0, 900, 900, 0}}},
		{"a basket paid all in points gives back points", 1900, []step{{2, 900, 0, 900}, {0, 1000, 0, 1000}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				w := newWorld(t, db, defaultPolicy)
				ctx := context.Background()
				m := w.enrol(t, phoneN(1))
				if _, err := w.ledger.Adjust(ctx, m.ID, 2000, "welcome gift", "ops@test"); err != nil {
					t.Fatal(err)
				}
				req := basket(string(m.Code), "T-1", item(1, "A", 1, 1000), item(2, "B", 1, 900))
				req.RedeemPoints = tc.redeem
				cm, err := w.checkout.Commit(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				if cm.AmountDue != 1900-tc.redeem {
					t.Fatalf("amount due %d", cm.AmountDue)
				}
				var money, points int64
				for i, s := range tc.steps {
					var r *checkout.ReturnResponse
					if s.line == 0 {
						r, err = w.checkout.Void(ctx, &checkout.VoidRequest{Store: "S1", TransactionID: "T-1"})
					} else {
						r, err = w.checkout.Return(ctx, &checkout.ReturnRequest{Store: "S1", TransactionID: "T-1", ReturnID: string(rune('a' + i)),
							Items: []checkout.ReturnItem{{Line: s.line, Quantity: 1}}})
					}
					if err != nil {
						t.Fatalf("step %d: %v", i, err)
					}
					if r.Value != s.value || r.Refund != s.refund || r.PointsRefunded != s.pointsRefunded {
						t.Errorf("step %d: value %d, refund %d, points refunded %d; want %d, %d, %d", i, r.Value, r.Refund, r.PointsRefunded,
							s.value, s.refund, s.pointsRefunded)
					}
					money, points = money+r.Refund, points+r.PointsRefunded
				}
				if money != cm.AmountDue || points != tc.redeem {
					t.Errorf("given back %d in money and %d points; paid %d and %d", money, points, cm.AmountDue, tc.redeem)
				}
				// Everything back: the points paid are held again, the points earned are gone.
				if got := balance(t, w, m.ID); got.Available+got.Pending != 2000 {
					t.Errorf("balance after everything came back = %+v, want 2000", got)
				}
			})
		})
	}
}
