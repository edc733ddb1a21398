package nbo_test

import (
	"context"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/nbo"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestModel_PastItsTTLServesTheOldModelWhileTheNextIsRead: the
// programme-wide model (here the typical bakery spend per basket) is read
// once; baskets bought since do not change it until its TTL has passed;
// then the request that finds it old is answered from it at once, while the
// next one is read in the background, and a later request sees the new
// figures. No request waits for the scan of the window's lines.
func TestModel_PastItsTTLServesTheOldModelWhileTheNextIsRead(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db)
		ann, bob := w.enrol(t, 1), w.enrol(t, 2)
		w.buy(t, ann, "bakery")
		w.clk.Advance(time.Hour)
		if _, err := w.nbo.PutPool(ctx, []nbo.Offer{offer("Bakery", "bakery", engine.Benefit{Kind: engine.AmountOff, Amount: 50}, 50, w.clk.Now(), 30)}, true); err != nil {
			t.Fatal(err)
		}
		spend := func() int64 {
			t.Helper()
			r, err := w.nbo.Rank(ctx, ann, 1)
			if err != nil || len(r) != 1 {
				t.Fatalf("rank: %v %v", r, err)
			}
			return r[0].Reasons.TypicalSpend
		}
		if got := spend(); got != 400 {
			t.Fatalf("typical bakery spend %d, want 400 (one unit at 4.00)", got)
		}
		w.buy(t, bob, "bakery", "bakery") // 8.00 of bakery in one basket
		steps := []struct {
			name    string
			advance time.Duration
			want    int64
		}{
			{"within the TTL: the model read first", time.Minute, 400},
			{"past the TTL: still the old model, the next one being read", 10 * time.Minute, 400},
		}
		for _, st := range steps {
			w.clk.Advance(st.advance)
			if got := spend(); got != st.want {
				t.Errorf("%s: typical spend %d, want %d", st.name, got, st.want)
			}
		}
		deadline := time.Now().Add(20 * time.Second)
		for spend() != 600 { // (400 + 800) / 2 baskets
			if time.Now().After(deadline) {
				t.Fatalf("the model read in the background never served: typical spend %d, want 600", spend())
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}
