package ledger_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// errPoints matches the refusal of a points figure outside its range.
var errPoints = problem.New(problem.Invalid, "points_invalid", "")

// seedLot gives a member points as one available lot written straight to
// the tables, to start a test near MaxBalance without a thousand credits.
func (f *fixture) seedLot(member string, points int64) {
	f.t.Helper()
	id := fmt.Sprintf("pts_seed_%s", member)
	if _, err := f.db.W.Exec(`INSERT INTO points_entries (id, member_id, kind, points, reason, created_at, available_at)
		VALUES ($1, $2, 'adjust', $3, 'seed', $4, $4)`, id, member, points, f.clk.t); err != nil {
		f.t.Fatalf("seed entry: %v", err)
	}
	if _, err := f.db.W.Exec(`INSERT INTO points_lots (entry_id, member_id, remaining, available_at) VALUES ($1, $2, $3, $4)`,
		id, member, points, f.clk.t); err != nil {
		f.t.Fatalf("seed lot: %v", err)
	}
}

func (f *fixture) earnKind(member string, kind ledger.Kind, points int64, txID string) error {
	_, err := f.earnErr(f.l, ledger.Credit{MemberID: member, Kind: kind, Points: points, TransactionID: txID, Reason: "test"})
	return err
}

func (f *fixture) refundErr(member, txID string, points int64) error {
	return f.l.Update(f.ctx, func(tx *sql.Tx, now time.Time) error {
		_, err := f.l.Refund(f.ctx, tx, member, txID, points, "refund "+txID, now)
		return err
	})
}

// wantErr fails unless err is nil when want is, or matches want and is a
// problem of kind Invalid naming the points field.
func wantErr(t *testing.T, err, want error) {
	t.Helper()
	if want == nil {
		if err != nil {
			t.Fatalf("err = %v, want none", err)
		}
		return
	}
	var pe *problem.Error
	if !errors.Is(err, want) || !errors.As(err, &pe) || pe.Kind != problem.Invalid || pe.Field != "points" {
		t.Fatalf("err = %v, want %v (422, field points)", err, want)
	}
}

func TestAdjust_RefusesPointsOutsideTheirRange(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, ledger.Policy{}, "ann")
		tests := []struct {
			name    string
			points  int64
			wantErr error
			want    ledger.Balance // afterwards
		}{
			{"MaxInt64 (issue 17)", math.MaxInt64, errPoints, ledger.Balance{}},
			{"MaxInt64 again: the balance never overflows", math.MaxInt64, errPoints, ledger.Balance{}},
			{"MinInt64, whose negation overflows", math.MinInt64, errPoints, ledger.Balance{}},
			{"MinInt64 + 1", math.MinInt64 + 1, errPoints, ledger.Balance{}},
			{"one over MaxPoints", ledger.MaxPoints + 1, errPoints, ledger.Balance{}},
			{"MaxPoints", ledger.MaxPoints, nil, ledger.Balance{Available: ledger.MaxPoints}},
			{"one under -MaxPoints", -ledger.MaxPoints - 1, errPoints, ledger.Balance{Available: ledger.MaxPoints}},
			{"-MaxPoints", -ledger.MaxPoints, nil, ledger.Balance{}},
			{"zero", 0, errPoints, ledger.Balance{}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := f.l.Adjust(f.ctx, "ann", tt.points, "test", "ops@shop")
				wantErr(t, err, tt.wantErr)
				f.wantBalance("ann", tt.want)
			})
		}
		f.wantHistory("ann", "adjust +1000000000", "adjust -1000000000")
		f.checkInvariants("ann")
	})
}

func TestEarn_RefusesPointsOverMaxPoints(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, ledger.Policy{}, "ann")
		tests := []struct {
			name    string
			kind    ledger.Kind
			points  int64
			wantErr error
			want    ledger.Balance // afterwards
		}{
			{"an earn of MaxInt64", ledger.KindEarn, math.MaxInt64, errPoints, ledger.Balance{}},
			{"a bonus of MaxInt64", ledger.KindBonus, math.MaxInt64, errPoints, ledger.Balance{}},
			{"an earn of one over MaxPoints", ledger.KindEarn, ledger.MaxPoints + 1, errPoints, ledger.Balance{}},
			{"an earn of MaxPoints", ledger.KindEarn, ledger.MaxPoints, nil,
				ledger.Balance{Available: ledger.MaxPoints, Lifetime: ledger.MaxPoints}},
			{"MinInt64 is no credit: nothing is written, as for any points <= 0", ledger.KindEarn, math.MinInt64, nil,
				ledger.Balance{Available: ledger.MaxPoints, Lifetime: ledger.MaxPoints}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				wantErr(t, f.earnKind("ann", tt.kind, tt.points, "T1"), tt.wantErr)
				f.wantBalance("ann", tt.want)
			})
		}
		f.wantHistory("ann", "earn +1000000000")
		f.checkInvariants("ann")
	})
}

func TestCredits_StopAtMaxBalance(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, ledger.Policy{}, "ann")
		f.seedLot("ann", ledger.MaxBalance-10)
		adjust := func(n int64) func() error {
			return func() error { _, err := f.l.Adjust(f.ctx, "ann", n, "test", "ops@shop"); return err }
		}
		tests := []struct {
			name    string
			op      func() error
			wantErr error
			want    int64 // points held afterwards
		}{
			{"an earn up to the limit", func() error { return f.earnKind("ann", ledger.KindEarn, 10, "T0") }, nil, ledger.MaxBalance},
			{"an adjustment past it", adjust(1), ledger.ErrBalanceLimit, ledger.MaxBalance},
			{"an earn past it", func() error { return f.earnKind("ann", ledger.KindEarn, 1, "T0") }, ledger.ErrBalanceLimit, ledger.MaxBalance},
			{"a bonus past it", func() error { return f.earnKind("ann", ledger.KindBonus, 1, "") }, ledger.ErrBalanceLimit, ledger.MaxBalance},
			{"spending makes room", func() error { _, err := f.redeem("ann", 5, "T1"); return err }, nil, ledger.MaxBalance - 5},
			{"a maximal bonus does not fit in it", func() error { return f.earnKind("ann", ledger.KindBonus, ledger.MaxPoints, "") },
				ledger.ErrBalanceLimit, ledger.MaxBalance - 5},
			{"an earn fills it", func() error { return f.earnKind("ann", ledger.KindEarn, 5, "T2") }, nil, ledger.MaxBalance},
			{"a refund past the limit", func() error { return f.refundErr("ann", "T1", 5) }, ledger.ErrBalanceLimit, ledger.MaxBalance},
			{"an adjustment down makes room", adjust(-5), nil, ledger.MaxBalance - 5},
			{"for the refund", func() error { return f.refundErr("ann", "T1", 5) }, nil, ledger.MaxBalance},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				wantErr(t, tt.op(), tt.wantErr)
				if b := f.balance("ann"); b.Available+b.Pending != tt.want {
					t.Fatalf("holds %d, want %d (%+v)", b.Available+b.Pending, tt.want, b)
				}
			})
		}
		f.wantHistory("ann", "adjust +999999999990", "earn +10", "redeem -5", "earn +5", "adjust -5", "refund +5")
		f.checkInvariants("ann")
	})
}

// ledgerExtremes are the values FuzzLedgerExtremeValues starts from.
var ledgerExtremes = []int64{0, 1, -1, math.MaxInt64, math.MinInt64, math.MaxInt64 - 1, math.MinInt64 + 1,
	ledger.MaxPoints, ledger.MaxPoints + 1, -ledger.MaxPoints, -ledger.MaxPoints - 1,
	ledger.MaxBalance, ledger.MaxBalance + 1, ledger.MaxBalance - 1, -ledger.MaxBalance}

// FuzzLedgerExtremeValues adjusts, earns, grants and redeems extreme figures
// for a member who may start near MaxBalance: each either is refused with a
// 422 or 409, or moves exactly its points, and the member's balance stays
// readable, within 0..MaxBalance and consistent with the entries.
func FuzzLedgerExtremeValues(f *testing.F) {
	for i, v := range ledgerExtremes {
		w := ledgerExtremes[(i+5)%len(ledgerExtremes)]
		f.Add(int64(0), v, v, -v, uint8(0))                             // adjust three times
		f.Add(int64(ledger.MaxBalance-1), v, w, v, uint8(0b01_10_01))   // earn, bonus, earn near the limit
		f.Add(int64(ledger.MaxPoints), v, -v, w, uint8(0b00_11_00+i%4)) // redeem what an adjust gave
	}
	db := storetest.SQLite(f)
	l := ledger.New(db, ledger.Policy{}, func() time.Time { return t0 })
	members := 0
	f.Fuzz(func(t *testing.T, seed, a, b, c int64, ops uint8) {
		members++
		member := fmt.Sprintf("m%d", members)
		addMember(t, db, member)
		fx := &fixture{t: t, db: db, l: l, clk: &clock{t: t0}, ctx: context.Background()}
		var held int64
		if seed > 0 && seed <= ledger.MaxBalance {
			fx.seedLot(member, seed)
			held = seed
		}
		for i, v := range []int64{a, b, c} {
			var err error
			var moved int64
			op := ops >> (2 * i) & 3
			switch op {
			case 0:
				_, err = l.Adjust(fx.ctx, member, v, "fuzz", "ops@shop")
				moved = v
			case 1, 2:
				err = fx.earnKind(member, []ledger.Kind{ledger.KindEarn, ledger.KindBonus}[op-1], v, "T1")
				moved = max(v, 0)
			case 3:
				_, err = fx.redeem(member, v, "T2")
				moved = -v
			}
			switch k := problem.KindOf(err); {
			case err == nil:
				if op != 3 && (moved > ledger.MaxPoints || moved < -ledger.MaxPoints) {
					t.Fatalf("op %d moved %d points, more than MaxPoints", i, moved)
				}
				held += moved
			case k != problem.Invalid && k != problem.Conflict:
				t.Fatalf("op %d of %d: %v (kind %d), want a 422 or a 409", i, v, err, k)
			}
			if held < 0 || held > ledger.MaxBalance {
				t.Fatalf("after op %d of %d the member holds %d, outside 0..MaxBalance", i, v, held)
			}
			if bal := fx.balance(member); bal.Available+bal.Pending != held {
				t.Fatalf("after op %d of %d: balance %+v, want %d held", i, v, bal, held)
			}
		}
		fx.checkInvariants(member)
	})
}
