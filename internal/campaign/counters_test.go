package campaign_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// counterFixture is a launched campaign with limits, counted over shards
// shards on PostgreSQL (one on SQLite).
type counterFixture struct {
	*fixture
	svc *campaign.Service
	c   *campaign.Campaign
}

func newCounterFixture(t *testing.T, db *store.DB, shards int, lim campaign.Limits) *counterFixture {
	t.Helper()
	f := newFixture(t, db)
	svc := f.server(shards)
	sp := spec("Counted " + path.Base(t.Name()))
	sp.Limits = lim
	ctx := context.Background()
	c, err := svc.Create(ctx, sp)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Launch(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	return &counterFixture{fixture: f, svc: svc, c: c}
}

// server is the campaign service of a server counting limits over shards
// counter shards, on the fixture's database and clock.
func (f *fixture) server(shards int) *campaign.Service {
	return campaign.NewService(f.db, campaign.Options{PublicURL: "https://perk.test", Programme: "Test", Now: f.clock.Now,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil)), CounterShards: shards})
}

// take counts one redemption as a till's commit does: in a transaction of
// its own, taken again carefully, then under every shard's lock, when the
// take asks. Takes lock shards only in shard order, from nothing held, so
// a deadlock between them is a defect, not something to retry.
func (f *counterFixture) take(t *testing.T, discount int64) campaign.Take {
	t.Helper()
	return takeWith(t, f.db, f.svc, f.c.ID, discount, f.clock.Now())
}

// takeWith is take through svc, a server's campaign service.
func takeWith(t *testing.T, db *store.DB, svc *campaign.Service, cid string, discount int64, now time.Time) campaign.Take {
	t.Helper()
	ctx := context.Background()
	mode := campaign.TakeQuick
	for range 20 {
		var got campaign.Take
		err := db.Tx(ctx, func(tx *sql.Tx) error {
			var err error
			got, err = svc.TakeTotals(ctx, tx, cid, discount, 1, now, mode)
			return err
		})
		switch {
		case errors.Is(err, campaign.ErrTakeCarefully):
			mode = campaign.TakeCareful
			continue
		case errors.Is(err, campaign.ErrTakeAll):
			mode = campaign.TakeAll
			continue
		}
		if err != nil {
			t.Error(err)
		}
		return got
	}
	t.Error("no take after 20 attempts")
	return campaign.Take{Refused: true}
}

func (f *counterFixture) giveBack(t *testing.T, redemptions, discount int64) {
	t.Helper()
	ctx := context.Background()
	if err := f.db.Tx(ctx, func(tx *sql.Tx) error { return f.svc.GiveBack(ctx, tx, f.c.ID, redemptions, discount, 0) }); err != nil {
		t.Fatal(err)
	}
}

// check asserts the escrow invariant (the allotments sum to each limit) and
// returns the counted totals and the stored campaign.
func (f *counterFixture) check(t *testing.T) (campaign.Counters, *campaign.Campaign) {
	t.Helper()
	ctx := context.Background()
	got, err := campaign.ReadCounters(ctx, f.db.R, f.c.ID)
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.svc.Get(ctx, f.c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var red, bud sql.NullInt64
	var n int
	if err := f.db.R.QueryRow(`SELECT COUNT(*), SUM(redemptions_allot), SUM(budget_allot) FROM campaign_counter_shards WHERE campaign_id = $1`,
		f.c.ID).Scan(&n, &red, &bud); err != nil {
		t.Fatal(err)
	}
	if n > 0 {
		if lim := c.Spec.Limits.MaxRedemptions; lim > 0 && red.Int64 != lim {
			t.Errorf("redemption allotments sum to %d, the limit is %d", red.Int64, lim)
		}
		if lim := c.Spec.Limits.Budget; lim > 0 && bud.Int64 != lim {
			t.Errorf("budget allotments sum to %d, the budget is %d", bud.Int64, lim)
		}
	}
	return got, c
}

// TestCounters_CapExactlyReachedByConcurrentTakes: 100 takes at once on a
// cap of 37 spread over 8 shards: exactly 37 are counted, exactly one of
// them ends the campaign, and every other is refused as the limit.
func TestCounters_CapExactlyReachedByConcurrentTakes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newCounterFixture(t, db, 8, campaign.Limits{MaxRedemptions: 37})
		var mu sync.Mutex
		var taken, ended, limit int
		var wg sync.WaitGroup
		for range 100 {
			wg.Go(func() {
				got := f.take(t, 0)
				mu.Lock()
				defer mu.Unlock()
				switch {
				case got.Refused && got.LimitUsed:
					limit++
				case got.Refused:
					// the campaign had ended when it looked: also the limit
					limit++
				default:
					taken++
					if got.Ended {
						ended++
					}
				}
			})
		}
		wg.Wait()
		got, c := f.check(t)
		if taken != 37 || limit != 63 || ended != 1 || got.Redemptions != 37 {
			t.Fatalf("%d taken, %d refused, %d ended it, %d counted: want 37, 63, 1, 37", taken, limit, ended, got.Redemptions)
		}
		if c.Status != campaign.Ended || c.EndedReason != "redemption limit reached" {
			t.Fatalf("campaign %s (%s), want ended by its limit", c.Status, c.EndedReason)
		}
	})
}

// TestCounters_BudgetNeverExceededAndNoFalseRefusal: 100 concurrent takes of
// varied discounts against a budget of 9,000 over 8 shards. The counted
// discount is what was taken, never more than the budget, and every
// refusal was right: its discount is more than is left even at the end
// (what is left only shrinks), however the budget was split.
func TestCounters_BudgetNeverExceededAndNoFalseRefusal(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newCounterFixture(t, db, 8, campaign.Limits{Budget: 9000})
		var mu sync.Mutex
		var given int64
		var refused []int64
		var wg sync.WaitGroup
		for i := range 100 {
			d := int64(i*137%400 + 1)
			wg.Go(func() {
				got := f.take(t, d)
				mu.Lock()
				defer mu.Unlock()
				if got.Refused {
					refused = append(refused, d)
				} else {
					given += d
				}
			})
		}
		wg.Wait()
		got, c := f.check(t)
		if got.Discount != given || given > 9000 {
			t.Fatalf("takes gave %d, counted %d, budget 9000", given, got.Discount)
		}
		for _, d := range refused {
			if d <= 9000-given {
				t.Errorf("a discount of %d was refused with %d left", d, 9000-given)
			}
		}
		if (given == 9000) != (c.Status == campaign.Ended) {
			t.Errorf("given %d of 9000, campaign %s", given, c.Status)
		}
	})
}

// TestCounters_RebalancePoolsWhatIsLeft: once small takes have spread the
// budget over the shards, a discount larger than any one shard's share is
// still taken while the total covers it, and the last minor unit ends the
// campaign.
func TestCounters_RebalancePoolsWhatIsLeft(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newCounterFixture(t, db, 4, campaign.Limits{Budget: 1000})
		for i := range 20 {
			if got := f.take(t, 10); got.Refused {
				t.Fatalf("small take %d refused", i)
			}
		}
		var shares int64
		if err := db.R.QueryRow(`SELECT MAX(budget_allot - discount_used) FROM campaign_counter_shards WHERE campaign_id = $1`,
			f.c.ID).Scan(&shares); err != nil {
			t.Fatal(err)
		}
		steps := []struct {
			discount       int64
			refused, ended bool
		}{
			{801, true, false}, // 800 left
			{700, false, false},
			{101, true, false},
			{99, false, false},
			{1, false, true},
			{0, true, false}, // ended
		}
		if db.Dialect == store.Postgres && shares >= 700 {
			t.Fatalf("one shard holds %d of 800 left: the budget was not spread", shares)
		}
		for _, s := range steps {
			got := f.take(t, s.discount)
			if got.Refused != s.refused || got.Ended != s.ended {
				t.Fatalf("take %d: %+v, want refused %v ended %v", s.discount, got, s.refused, s.ended)
			}
		}
		got, c := f.check(t)
		if got.Discount != 1000 || got.Redemptions != 23 || c.EndedReason != "budget spent" {
			t.Fatalf("counted %+v, campaign %s (%s)", got, c.Status, c.EndedReason)
		}
	})
}

// TestCounters_ReturnGivesBackForTheNextSale: a discount given back by a
// return can be taken again, and no more than it.
func TestCounters_ReturnGivesBackForTheNextSale(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newCounterFixture(t, db, 8, campaign.Limits{Budget: 1000, MaxRedemptions: 10})
		for range 3 {
			if got := f.take(t, 300); got.Refused {
				t.Fatal("300 of 1000 refused")
			}
		}
		if got := f.take(t, 200); !got.Refused {
			t.Fatal("200 taken with 100 left")
		}
		f.giveBack(t, 1, 300)
		for i, want := range []bool{false, false, true} {
			if got := f.take(t, 200); got.Refused != want {
				t.Fatalf("take %d of 200 after a return: %+v, want refused %v", i, got, want)
			}
		}
		got, c := f.check(t)
		if got.Discount != 1000 || got.Redemptions != 4 || c.Status != campaign.Ended {
			t.Fatalf("counted %+v, campaign %s: want 1000 in 4, ended", got, c.Status)
		}
	})
}

// TestCounters_LimitsChangedMidFlight: a budget raised while tills take
// (the variance page's correction) is all there for them, and no more; a
// redemption limit lowered below the use refuses until returns bring the
// use under it.
func TestCounters_LimitsChangedMidFlight(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		t.Run("budget raised", func(t *testing.T) {
			f := newCounterFixture(t, db, 8, campaign.Limits{Budget: 2000})
			for range 9 {
				f.take(t, 100)
			}
			var wg sync.WaitGroup
			var mu sync.Mutex
			var given int64
			for i := range 40 {
				if i == 10 {
					if _, err := f.svc.RaiseBudget(ctx, f.c.ID, 3000); err != nil {
						t.Fatal(err)
					}
				}
				wg.Go(func() {
					if got := f.take(t, 100); !got.Refused {
						mu.Lock()
						given += 100
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			got, c := f.check(t)
			if got.Discount != 3000 || given != 2100 || c.Status != campaign.Ended {
				t.Fatalf("counted %d (takes after 900: %d), campaign %s: want 3000, 2100, ended", got.Discount, given, c.Status)
			}
		})
		t.Run("limit lowered", func(t *testing.T) {
			f := newCounterFixture(t, db, 8, campaign.Limits{MaxRedemptions: 10})
			for range 6 {
				f.take(t, 0)
			}
			c, err := f.svc.Get(ctx, f.c.ID)
			if err != nil {
				t.Fatal(err)
			}
			sp := c.Spec
			sp.Limits.MaxRedemptions = 4
			if _, err := f.svc.Update(ctx, c.ID, sp, c.Version); err != nil {
				t.Fatal(err)
			}
			steps := []struct {
				back    int64
				refused bool
			}{{0, true}, {1, true}, {2, false}, {0, true}}
			for i, s := range steps {
				f.giveBack(t, s.back, 0)
				if got := f.take(t, 0); got.Refused != s.refused {
					t.Fatalf("step %d: %+v, want refused %v", i, got, s.refused)
				}
			}
			got, c := f.check(t)
			if got.Redemptions != 4 || c.Status != campaign.Ended {
				t.Fatalf("counted %d, campaign %s: want 4, ended", got.Redemptions, c.Status)
			}
		})
	})
}

// TestCounters_ShardsMadeWhileAReadWaitsAreCounted: two servers share one
// PostgreSQL database, one counting over 4 shards and one over 16. A take
// (A) of the 4-shard server and a take (B) of the 16-shard one read no
// shards of a new campaign. Then another take of the 4-shard server makes
// shards 0-3 and commits, and B makes 4-15 and locks them all. A finds 0-3
// made and its read waits for B, which allots 4-15 part of the limits and
// commits. A's read began before shards 4-15 were committed, yet A must
// count them, or it hands out again what they hold and the allotments sum
// to more than the limits: the overspend
// TestTwoServersNeverOverspendOneCampaign caught under load.
func TestCounters_ShardsMadeWhileAReadWaitsAreCounted(t *testing.T) {
	db := storetest.Postgres(t)
	ctx := context.Background()
	few := newCounterFixture(t, db, 4, campaign.Limits{Budget: 2300, MaxRedemptions: 40})
	many := few.server(16)
	takeB := func(pid chan<- int) error {
		tx, err := db.W.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		var p int
		if err := tx.QueryRowContext(ctx, `SELECT pg_backend_pid()`).Scan(&p); err != nil {
			return err
		}
		pid <- p
		if _, err := many.TakeTotals(ctx, tx, few.c.ID, 100, 1, few.clock.Now(), campaign.TakeAll); err != nil {
			return err
		}
		return tx.Commit()
	}
	var aRead, bRead, bLock atomic.Bool
	bPID, bDone := make(chan int, 1), make(chan error, 1)
	bEmpty, bOn, bMade, bGo := make(chan struct{}), make(chan struct{}), make(chan struct{}), make(chan struct{})
	campaign.SetShardReadHook(t, func(cid string, shards, n int) {
		switch {
		case cid != few.c.ID:
		case shards == 4 && n == 1 && aRead.CompareAndSwap(false, true):
			// A has read no shards.
			go func() { bDone <- takeB(bPID) }()
			<-bEmpty
			few.take(t, 100) // makes shards 0-3 and commits
			close(bOn)
			<-bMade
		case shards == 16 && n == 1 && bRead.CompareAndSwap(false, true):
			// B has read no shards.
			close(bEmpty)
			<-bOn
		case shards == 16 && n == 2 && bLock.CompareAndSwap(false, true):
			// B has made shards 4-15 and holds them all.
			close(bMade)
			<-bGo
		}
	})
	aDone := make(chan error, 1)
	go func() {
		aDone <- db.Tx(ctx, func(tx *sql.Tx) error {
			_, err := few.svc.TakeTotals(ctx, tx, few.c.ID, 100, 1, few.clock.Now(), campaign.TakeAll)
			return err
		})
	}()
	pid := <-bPID
	// B allots only once A waits for it.
	for i := 0; ; i++ {
		var n int
		if err := db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))`, pid).Scan(&n); err != nil {
			close(bGo)
			t.Fatal(err)
		}
		if n > 0 {
			break
		}
		if i == 3000 {
			close(bGo)
			t.Fatal("take A never waited for take B")
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(bGo)
	for _, done := range []chan error{bDone, aDone} {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	got, _ := few.check(t)
	if got.Redemptions != 3 || got.Discount != 300 {
		t.Fatalf("counted %d redemptions and %d discount, want 3 and 300", got.Redemptions, got.Discount)
	}
}

// TestCounters_ServersWithDifferentShardCountsShareOneCampaign: servers
// configured with 1, 4, 7 and 16 counter shards take from fresh campaigns
// at once, so they race to make the shards as well as to take, while one
// of them raises the budget and every eighth take is given back (a void)
// through another server. However they interleave, no two deadlock, the
// allotments sum to the limits, the counted discount is exactly what the
// takes were given less what was given back, it never passes the budget,
// and the take that used the last of it ended the campaign.
func TestCounters_ServersWithDifferentShardCountsShareOneCampaign(t *testing.T) {
	db := storetest.Postgres(t)
	for round := range 4 {
		t.Run(fmt.Sprint("round ", round), func(t *testing.T) { serversShareOneCampaign(t, db) })
	}
}

func serversShareOneCampaign(t *testing.T, db *store.DB) {
	ctx := context.Background()
	f := newCounterFixture(t, db, 16, campaign.Limits{Budget: 2300, MaxRedemptions: 60})
	var servers []*campaign.Service
	for _, n := range []int{1, 4, 7, 16} {
		servers = append(servers, f.server(n))
	}
	var mu sync.Mutex
	var given, back, refused int64
	var wg sync.WaitGroup
	for i := range 80 {
		if i == 15 { // at most 1,500 of the 2,300 given by then
			if _, err := servers[i%4].RaiseBudget(ctx, f.c.ID, 3100); err != nil {
				t.Fatal(err)
			}
		}
		wg.Go(func() {
			got := takeWith(t, db, servers[i%4], f.c.ID, 100, f.clock.Now())
			var returned int64
			if !got.Refused && i%8 == 7 {
				if err := db.Tx(ctx, func(tx *sql.Tx) error { return servers[(i+1)%4].GiveBack(ctx, tx, f.c.ID, 1, 100, 1) }); err != nil {
					t.Error(err)
				} else {
					returned = 100
				}
			}
			mu.Lock()
			defer mu.Unlock()
			if got.Refused {
				refused++
				return
			}
			given += 100
			back += returned
		})
	}
	wg.Wait()
	got, c := f.check(t)
	if got.Discount != given-back || got.Discount > 3100 || refused == 0 || c.Status != campaign.Ended {
		t.Fatalf("takes given %d less %d given back, counted %d, %d refused, campaign %s: want the difference counted, "+
			"at most the raised 3100, refusals and the campaign ended", given, back, got.Discount, refused, c.Status)
	}
}
