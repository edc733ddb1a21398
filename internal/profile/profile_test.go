package profile_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/profile"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

func TestGet_NoProfileIsTheZeroProfile(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		w := newWorld(t, db, profile.Options{})
		m := w.enrol(t, 1)
		p := w.get(t, m)
		if p.Segment != "" || len(p.Categories) != 0 || p.LastPurchase != nil || p.Frequency != 0 {
			t.Errorf("profile before any refresh = %+v, want the zero profile", p)
		}
	})
}

// TestProfile_ChangesAsTheMemberShops follows one member through a commit,
// a partial return and a void: after each the incremental pass (not a
// refresh) brings the profile up to date, and its spend and points agree
// with the figures and the ledger.
func TestProfile_ChangesAsTheMemberShops(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, profile.Options{})
		ann, bob := w.enrol(t, 1), w.enrol(t, 2)
		w.commit(t, "S1", bob, "B1", item(1, "SOAP", 1, 300))
		w.refresh(t)

		// 1. Ann buys bread and coffee: 3 × 200 bread + 1 × 400 coffee.
		w.clock.Advance(time.Hour)
		w.commit(t, "S1", ann, "A1", item(1, "BREAD", 3, 200), item(2, "COFFEE", 1, 400))
		if n := w.drain(t); n != 1 {
			t.Fatalf("drain recomputed %d members, want 1 (Ann)", n)
		}
		p := w.get(t, ann)
		if p.Frequency != 1 || p.Monetary != 1000 || p.AverageBasket != 1000 || p.PreferredStore != "S1" {
			t.Errorf("after the first basket: frequency %d monetary %d average %d store %q, want 1, 1000, 1000, S1",
				p.Frequency, p.Monetary, p.AverageBasket, p.PreferredStore)
		}
		if p.Segment == "" {
			t.Errorf("after the first basket Ann has no segment; the last refresh's quintiles score her")
		}
		wantShares(t, p.Categories, map[string]float64{"food": 0.6, "food/bakery": 0.6, "drinks": 0.4, "drinks/coffee": 0.4})
		wantShares(t, p.Brands, map[string]float64{"Hovis": 0.6, "Lavazza": 0.4})
		agree(t, ctx, w, ann.ID, p)

		// 2. Two breads come back: 400 less spent, affinities follow.
		w.clock.Advance(time.Hour)
		if _, err := w.checkout.Return(ctx, &checkout.ReturnRequest{Store: "S1", TransactionID: "A1", ReturnID: "R1",
			Items: []checkout.ReturnItem{{Line: 1, Quantity: 2}}}); err != nil {
			t.Fatal(err)
		}
		w.drain(t)
		p = w.get(t, ann)
		if p.Frequency != 1 || p.Monetary != 600 {
			t.Errorf("after the return: frequency %d monetary %d, want 1, 600", p.Frequency, p.Monetary)
		}
		wantShares(t, p.Categories, map[string]float64{"food": 200.0 / 600, "food/bakery": 200.0 / 600, "drinks": 400.0 / 600, "drinks/coffee": 400.0 / 600})
		agree(t, ctx, w, ann.ID, p)

		// 3. A second basket at S2, paid partly with points, then voided.
		if _, err := w.ledger.Adjust(ctx, ann.ID, 500, "welcome", "ops@test"); err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(24 * time.Hour)
		r, err := w.checkout.Commit(ctx, &checkout.Request{Store: "S2", Terminal: "T1", Member: checkout.Key(string(ann.Code)), Currency: "GBP",
			Items: []checkout.Item{item(1, "CROIS", 2, 150)}, TransactionID: "A2", RedeemPoints: 100})
		if err != nil || r.PointsRedeemed != 100 {
			t.Fatalf("commit A2: %+v, %v", r, err)
		}
		w.drain(t)
		p = w.get(t, ann)
		if p.Frequency != 2 || p.Monetary != 900 || p.VisitDays != 2 || p.UsualInterval != 1 || p.Points.Redeemed != 100 {
			t.Errorf("after the second basket: frequency %d monetary %d visit days %d interval %v redeemed %d, want 2, 900, 2, 1, 100",
				p.Frequency, p.Monetary, p.VisitDays, p.UsualInterval, p.Points.Redeemed)
		}
		agree(t, ctx, w, ann.ID, p)
		if _, err := w.checkout.Void(ctx, &checkout.VoidRequest{Store: "S1", TransactionID: "A2"}); err == nil {
			t.Fatal("void at the wrong store succeeded")
		}
		if _, err := w.checkout.Void(ctx, &checkout.VoidRequest{Store: "S2", TransactionID: "A2"}); err != nil {
			t.Fatal(err)
		}
		w.drain(t)
		p = w.get(t, ann)
		if p.Frequency != 1 || p.Monetary != 600 || p.Points.Redeemed != 0 {
			t.Errorf("after the void: frequency %d monetary %d redeemed %d, want 1, 600, 0", p.Frequency, p.Monetary, p.Points.Redeemed)
		}
		agree(t, ctx, w, ann.ID, p)

		// The full refresh computes the same figures as the incremental pass.
		w.refresh(t)
		q := w.get(t, ann)
		if q.Frequency != p.Frequency || q.Monetary != p.Monetary || q.Points != p.Points || len(q.Categories) != len(p.Categories) {
			t.Errorf("refresh gave %+v, the incremental pass %+v", q, p)
		}
	})
}

// agree checks the profile's figures against their one definition
// elsewhere: the member's sales (report/figures) and balance (ledger).
func agree(t *testing.T, ctx context.Context, w *world, memberID string, p profile.Profile) {
	t.Helper()
	b, err := w.ledger.Balance(ctx, memberID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Points.Balance != b.Available || p.Points.Earned != b.Lifetime {
		t.Errorf("profile points balance %d earned %d; the ledger says %d available, %d lifetime", p.Points.Balance, p.Points.Earned, b.Available, b.Lifetime)
	}
	var sales int64
	if err := w.db.R.QueryRowContext(ctx, `SELECT `+salesSQL+` FROM baskets b JOIN basket_lines l ON l.basket_id = b.id WHERE b.member_id = $1`,
		memberID).Scan(&sales); err != nil {
		t.Fatal(err)
	}
	if p.Monetary != sales {
		t.Errorf("profile monetary %d; figures.Sales of the member's baskets %d", p.Monetary, sales)
	}
}

func wantShares(t *testing.T, got []profile.Affinity, want map[string]float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("affinities %v, want %v", got, want)
		return
	}
	for _, a := range got {
		// Purchases an hour or a day apart decay almost alike: 1e-3.
		if w, ok := want[a.Key]; !ok || math.Abs(a.Share-w) > 1e-3 {
			t.Errorf("affinity %s = %.4f, want %.4f (all: %v)", a.Key, a.Share, w, got)
		}
	}
}
