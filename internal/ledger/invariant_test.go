package ledger_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// After every operation of a random sequence, what the package doc promises
// holds (checkInvariants), and Lifetime equals the points earned less what
// reversals asked for. After a final sweep nothing due is left, so Available
// + Pending equal the sum of the entries exactly.
func TestLedger_InvariantsHoldAfterRandomOperations(t *testing.T) {
	for _, clawback := range []string{ledger.ClawbackPendingOnly, ledger.ClawbackWithinBalance, ledger.ClawbackDebt} {
		t.Run(clawback, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				members := []string{"m0", "m1", "m2"}
				f := newFixture(t, db, ledger.Policy{PendingFor: 7 * day, ExpireAfter: 30 * day, Clawback: clawback}, members...)
				r := rand.New(rand.NewPCG(20261123, 8))
				lifetime := map[string]int64{}
				seen := map[string]int{}
				for range 500 {
					m := members[r.IntN(len(members))]
					txID := fmt.Sprintf("T%d", r.IntN(8))
					switch op := r.IntN(10); {
					case op < 2:
						kind := []ledger.Kind{ledger.KindEarn, ledger.KindBonus}[r.IntN(2)]
						p := 1 + r.Int64N(200)
						f.earn(ledger.Credit{MemberID: m, Kind: kind, Points: p, TransactionID: txID})
						lifetime[m] += p
						seen["earn"]++
					case op < 4:
						if _, err := f.redeem(m, 1+r.Int64N(250), txID); errors.Is(err, ledger.ErrInsufficientPoints) {
							seen["insufficient"]++
						} else if err != nil {
							t.Fatal(err)
						} else {
							seen["redeem"]++
						}
					case op < 5:
						rev := f.reverse(m, txID, 1+r.Int64N(200))
						lifetime[m] -= rev.Taken + rev.Shortfall
						if rev.Shortfall > 0 {
							seen["shortfall"]++
						}
					case op < 6:
						if f.refund(m, txID, 1+r.Int64N(100)) > 0 {
							seen["refund"]++
						}
					case op < 7:
						p := 1 + r.Int64N(100)
						if r.IntN(2) == 0 {
							p = -p
						}
						if _, err := f.l.Adjust(f.ctx, m, p, "random", "test"); err != nil && !errors.Is(err, ledger.ErrInsufficientPoints) {
							t.Fatal(err)
						}
					case op < 8:
						n, err := f.l.ExpireDue(f.ctx, f.clk.Now(), 1+r.IntN(3))
						if err != nil {
							t.Fatal(err)
						}
						seen["expired"] += n
					default:
						f.clk.Advance(time.Duration(r.Int64N(10*86400)) * time.Second)
					}
					f.checkInvariants(m)
					b := f.balance(m)
					if b.Lifetime != lifetime[m] {
						t.Fatalf("%s: lifetime %d, want %d", m, b.Lifetime, lifetime[m])
					}
					if b.Debt > 0 {
						seen["debt"]++
					}
				}
				f.clk.Advance(60 * day)
				for {
					n, err := f.l.ExpireDue(f.ctx, f.clk.Now(), 2)
					if err != nil {
						t.Fatal(err)
					}
					if n == 0 {
						break
					}
				}
				for _, m := range members {
					f.checkInvariants(m)
					if n := f.count(`SELECT COUNT(*) FROM points_lots WHERE member_id = $1 AND remaining > 0 AND expires_at <= $2`, m, f.clk.Now()); n != 0 {
						t.Fatalf("%s: %d due lots left after the sweep", m, n)
					}
				}
				// The sequence exercised what it is meant to.
				t.Logf("outcomes: %v", seen)
				for _, k := range []string{"earn", "redeem", "insufficient", "shortfall", "refund", "expired"} {
					if seen[k] == 0 {
						t.Errorf("the sequence never produced %s: %v", k, seen)
					}
				}
				if (seen["debt"] > 0) != (clawback == ledger.ClawbackDebt) {
					t.Errorf("debt seen %d times under %s", seen["debt"], clawback)
				}
			})
		})
	}
}

// 50 redemptions of one member's points at once, each in its own
// transaction: none overspends, and what succeeded is exactly what left.
func TestRedeem_ConcurrentRedemptionsNeverOverspend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, ledger.Policy{}, "ann")
		f.adjust("ann", 1000)
		const n = 50
		amounts := make([]int64, n)
		errs := make([]error, n)
		for i := range amounts {
			amounts[i] = 10 + int64(i*7%41) // 10..50, about 1,500 in all
		}
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				_, errs[i] = f.redeem("ann", amounts[i], fmt.Sprintf("T%d", i))
			})
		}
		close(start)
		wg.Wait()

		var spent, succeeded int64
		failedMin := int64(math.MaxInt64)
		for i, err := range errs {
			switch {
			case err == nil:
				spent += amounts[i]
				succeeded++
			case errors.Is(err, ledger.ErrInsufficientPoints):
				failedMin = min(failedMin, amounts[i])
			default:
				t.Errorf("redemption %d: %v", i, err)
			}
		}
		b := f.balance("ann")
		if spent > 1000 || b.Available != 1000-spent {
			t.Fatalf("%d redemptions spent %d of 1000, balance %+v", succeeded, spent, b)
		}
		if b.Available >= failedMin {
			t.Fatalf("a redemption of %d failed, yet %d are left", failedMin, b.Available)
		}
		var redeemed, entries int64
		f.db.R.QueryRow(`SELECT CAST(COALESCE(SUM(-points), 0) AS BIGINT), COUNT(*) FROM points_entries WHERE kind = 'redeem'`).Scan(&redeemed, &entries)
		if redeemed != spent || entries != succeeded {
			t.Fatalf("%d redeem entries for %d points, want %d for %d", entries, redeemed, succeeded, spent)
		}
		f.checkInvariants("ann")
	})
}

// A member's first writes arriving together create one account between them.
func TestEarn_ConcurrentFirstWritesShareOneAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, ledger.Policy{}, "bob")
		const n = 20
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				_, errs[i] = f.earnErr(f.l, ledger.Credit{MemberID: "bob", Points: 5, TransactionID: fmt.Sprintf("T%d", i)})
			})
		}
		close(start)
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		f.wantBalance("bob", ledger.Balance{Available: 100, Lifetime: 100})
		if v := f.count(`SELECT version FROM points_accounts WHERE member_id = 'bob'`); v != n {
			t.Fatalf("account version %d, want %d", v, n)
		}
		f.checkInvariants("bob")
	})
}
