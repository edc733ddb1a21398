package checkout_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
)

// TestTwoServersNeverOverspendOneCampaign: two servers (two *store.DB pools,
// each with its own services and cached live set, as two perk serve
// processes have) on one PostgreSQL database commit at once against a
// campaign capped both by redemptions and by budget. Together they give
// exactly what the cap allows, and the campaign's counters, its redemption
// rows and the tills' answers agree.
func TestTwoServersNeverOverspendOneCampaign(t *testing.T) {
	base := testenv.Env(t, storetest.PostgresEnv, "PostgreSQL")
	dsn := storetest.DSN(t, base)
	ctx := context.Background()
	open := func() *store.DB {
		db, err := store.Open(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}
	db1, db2 := open(), open()
	if _, err := db1.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	w := newWorld(t, db1, defaultPolicy)
	var codes []string
	for i := range 60 {
		codes = append(codes, string(w.enrol(t, phoneN(i)).Code))
	}
	tests := []struct {
		name   string
		limits campaign.Limits
		want   int64 // discount given in all
		shards int   // the second server's counter shards (0: the default)
	}{
		// £1 off, at most 17 redemptions.
		{"capped at 17 redemptions", campaign.Limits{MaxRedemptions: 17}, 1700, 0},
		// £1 off, £23 budget: 23 redemptions fit.
		{"a budget of 2300", campaign.Limits{Budget: 2300}, 2300, 0},
		// Both limits, and servers configured with different shard counts
		// (16 and 4) over the same counters.
		{"a budget of 2300 and a cap of 40, 16 and 4 shards", campaign.Limits{Budget: 2300, MaxRedemptions: 40}, 2300, 4},
	}
	for n, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := w.launch(t, campaign.Spec{Name: fmt.Sprint("Capped ", n), Benefits: []engine.Benefit{{Kind: engine.AmountOff, Amount: 100}},
				Limits: tt.limits})
			// The second server: its own services over its own pool.
			log := slog.New(slog.NewTextHandler(io.Discard, nil))
			ms := member.NewService(db2, member.Options{Region: "GB", PublicURL: "https://perk.test", Programme: "Test Rewards", Now: w.clock.Now, Log: log})
			camps := campaign.NewService(db2, campaign.Options{Zone: time.UTC, PublicURL: "https://perk.test", Programme: "Test Rewards", Now: w.clock.Now, Log: log,
				CounterShards: tt.shards})
			second := checkout.NewService(db2, ms, camps, ledger.New(db2, defaultPolicy, w.clock.Now), checkout.Options{Currency: "GBP", BaseEarn: 1, Now: w.clock.Now, Log: log})
			servers := []*checkout.Service{w.checkout, second}
			// Both servers have the campaign live in their caches before
			// the race, as servers already running would.
			for _, s := range servers {
				if _, err := s.Evaluate(ctx, basket(codes[0], "warm", item(1, "A", 1, 1000)), false); err != nil {
					t.Fatal(err)
				}
			}
			const tills = 80
			resps, errs := atOnce(tills, func(i int) (*checkout.Response, error) {
				r := basket(codes[i%len(codes)], fmt.Sprintf("%d-T-%d", n, i), item(1, "A", 1, 1000))
				r.Terminal = fmt.Sprintf("T%d", i)
				return servers[i%2].Commit(ctx, r)
			})
			var given int64
			for i, r := range resps {
				if errs[i] != nil {
					t.Fatalf("commit %d: %v", i, errs[i])
				}
				given += r.TotalDiscount
			}
			var rows, rowSum int64
			counted := counted(t, db1, c.ID).Discount
			db1.R.QueryRow(`SELECT COUNT(*), COALESCE(SUM(discount), 0) FROM redemptions WHERE campaign_id = $1`, c.ID).Scan(&rows, &rowSum)
			if given != tt.want || counted != given || rowSum != given || rows != tt.want/100 {
				t.Fatalf("tills given %d, campaign counts %d, %d redemption rows of %d: want %d given everywhere",
					given, counted, rows, rowSum, tt.want)
			}
			// The limit was reached once: one end, one version more.
			var status string
			var version int64
			if err := db1.R.QueryRow(`SELECT status, version FROM campaigns WHERE id = $1`, c.ID).Scan(&status, &version); err != nil {
				t.Fatal(err)
			}
			if status != "ended" || version != c.Version+1 {
				t.Fatalf("campaign %s at version %d after the race, want ended once at %d", status, version, c.Version+1)
			}
		})
	}
}
