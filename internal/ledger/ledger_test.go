package ledger_test

import (
	"database/sql"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

func TestEarn_IsPendingUntilTheReturnsWindowEnds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, ledger.Policy{PendingFor: 14 * day}, "ann")
		f.earn(ledger.Credit{MemberID: "ann", Points: 100, TransactionID: "T1", Reason: "basket"})
		tests := []struct {
			at   time.Duration
			want ledger.Balance
		}{
			{0, ledger.Balance{Pending: 100, Lifetime: 100}},
			{14*day - time.Microsecond, ledger.Balance{Pending: 100, Lifetime: 100}},
			{14 * day, ledger.Balance{Available: 100, Lifetime: 100}},
			{400 * day, ledger.Balance{Available: 100, Lifetime: 100}},
		}
		for _, tt := range tests {
			f.clk.Set(t0.Add(tt.at))
			f.wantBalance("ann", tt.want)
		}
		e := f.entries("ann")[0]
		if e.Kind != ledger.KindEarn || e.TransactionID != "T1" || e.Reason != "basket" || !e.CreatedAt.Equal(t0) ||
			!e.AvailableAt.Equal(t0.Add(14*day)) || !e.ExpiresAt.IsZero() {
			t.Fatalf("earn entry %+v", e)
		}
	})
}

func TestEarn_BonusKindsZeroPointsAndUnknownMembers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, ledger.Policy{PendingFor: 14 * day}, "ann")
		tests := []struct {
			name    string
			c       ledger.Credit
			want    ledger.Balance // balance afterwards
			wantErr error
		}{
			{"a bonus for a purchase is pending like the purchase",
				ledger.Credit{MemberID: "ann", Kind: ledger.KindBonus, Points: 50, TransactionID: "T1", CampaignID: "cmp_1"},
				ledger.Balance{Pending: 50, Lifetime: 50}, nil},
			{"a bonus without a purchase is available at once",
				ledger.Credit{MemberID: "ann", Kind: ledger.KindBonus, Points: 20, CampaignID: "cmp_birthday"},
				ledger.Balance{Available: 20, Pending: 50, Lifetime: 70}, nil},
			{"zero points write nothing", ledger.Credit{MemberID: "ann", Points: 0},
				ledger.Balance{Available: 20, Pending: 50, Lifetime: 70}, nil},
			{"negative points write nothing", ledger.Credit{MemberID: "ann", Points: -5},
				ledger.Balance{Available: 20, Pending: 50, Lifetime: 70}, nil},
			{"only earn and bonus are credits", ledger.Credit{MemberID: "ann", Kind: ledger.KindAdjust, Points: 5},
				ledger.Balance{Available: 20, Pending: 50, Lifetime: 70}, problem.InvalidField("kind", "kind_invalid", nil, "")},
			{"an unknown member", ledger.Credit{MemberID: "nobody", Points: 5},
				ledger.Balance{Available: 20, Pending: 50, Lifetime: 70}, ledger.ErrMemberNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := f.earnErr(f.l, tt.c)
				if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil && err != nil) {
					t.Fatalf("Earn = %v, want %v", err, tt.wantErr)
				}
				f.wantBalance("ann", tt.want)
			})
		}
		f.wantHistory("ann", "bonus +50", "bonus +20")
		if n := f.count(`SELECT COUNT(*) FROM points_accounts WHERE member_id = 'nobody'`); n != 0 {
			t.Fatalf("an account was created for an unknown member")
		}
	})
}

func TestExpiry_OldestLotFirstLazilyOnTheNextWriteAndBySweep(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, ledger.Policy{ExpireAfter: 30 * day}, "ann", "bob")
		first := f.earn(ledger.Credit{MemberID: "ann", Points: 100, TransactionID: "T1"}) // expires t0+30d
		f.clk.Set(t0.Add(10 * day))
		second := f.earn(ledger.Credit{MemberID: "ann", Points: 50, TransactionID: "T2"}) // expires t0+40d
		f.clk.Set(t0.Add(20 * day))
		f.earn(ledger.Credit{MemberID: "ann", Points: 30, TransactionID: "T3"}) // expires t0+50d

		f.clk.Set(t0.Add(30*day - time.Microsecond))
		f.wantBalance("ann", ledger.Balance{Available: 180, Lifetime: 180})

		// At its expiry the first lot no longer counts, before anything is written...
		f.clk.Set(t0.Add(30 * day))
		f.wantBalance("ann", ledger.Balance{Available: 80, Lifetime: 180})
		f.wantHistory("ann", "earn +100", "earn +50", "earn +30")
		f.checkInvariants("ann")

		// ...and the next write for the member records it, before spending.
		f.mustRedeem("ann", 10, "T4")
		f.wantHistory("ann", "earn +100", "earn +50", "earn +30", "expire -100", "redeem -10")
		if got := []int64{f.remaining(first), f.remaining(second)}; got[0] != 0 || got[1] != 40 {
			t.Fatalf("lots left %v, want [0 40]: the redemption must come from the second lot", got)
		}
		exp := f.entries("ann")[3]
		if !strings.Contains(exp.Reason, first) || !strings.Contains(exp.Reason, "2026-12-23 10:00 UTC") {
			t.Fatalf("expire reason %q should name the lot and its expiry", exp.Reason)
		}

		// The sweeper expires members who have had no write since.
		f.clk.Set(t0.Add(35 * day))
		f.earn(ledger.Credit{MemberID: "bob", Points: 5})   // expires t0+65d
		f.clk.Set(t0.Add(60 * day))                         // ann's T2 and T3 are due, bob's not
		f.wantBalance("ann", ledger.Balance{Lifetime: 180}) // already shown as gone
		n, err := f.l.ExpireDue(f.ctx, f.clk.Now(), 1)
		if err != nil || n != 2 {
			t.Fatalf("ExpireDue = %d, %v; want both of ann's due lots", n, err)
		}
		if n, err := f.l.ExpireDue(f.ctx, f.clk.Now(), 1); err != nil || n != 0 {
			t.Fatalf("second ExpireDue = %d, %v; want 0", n, err)
		}
		f.wantHistory("ann", "earn +100", "earn +50", "earn +30", "expire -100", "redeem -10", "expire -40", "expire -30")
		f.wantHistory("bob", "earn +5")
		f.clk.Set(t0.Add(65 * day))
		if n, err := f.l.ExpireDue(f.ctx, f.clk.Now(), 0); err != nil || n != 1 {
			t.Fatalf("ExpireDue for bob = %d, %v", n, err)
		}
		f.wantBalance("bob", ledger.Balance{Lifetime: 5})
		f.checkInvariants("ann")
		f.checkInvariants("bob")
	})
}

func TestRedeem_SpendsEarliestExpiryFirstAndNeverExpiringLast(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, ledger.Policy{ExpireAfter: 30 * day}, "ann")
		forever, err := f.earnErr(f.with(ledger.Policy{}), ledger.Credit{MemberID: "ann", Points: 100}) // never expires
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Set(t0.Add(10 * day))
		c := f.earn(ledger.Credit{MemberID: "ann", Points: 30}) // expires t0+40d
		f.clk.Set(t0.Add(15 * day))
		b := f.earn(ledger.Credit{MemberID: "ann", Points: 50}) // expires t0+45d
		f.clk.Set(t0.Add(20 * day))
		pending, err := f.earnErr(f.with(ledger.Policy{PendingFor: 14 * day, ExpireAfter: 30 * day}),
			ledger.Credit{MemberID: "ann", Points: 70}) // available t0+34d, expires t0+64d
		if err != nil {
			t.Fatal(err)
		}
		f.clk.Set(t0.Add(21 * day))
		f.wantBalance("ann", ledger.Balance{Available: 180, Pending: 70, Lifetime: 250})

		steps := []struct {
			redeem                     int64
			forever, c, b, pending     int64 // lots left afterwards
			wantAvailable, wantPending int64
		}{
			{20, 100, 10, 50, 70, 160, 70},
			{60, 100, 0, 0, 70, 100, 70}, // 10 from c, 50 from b
			{40, 60, 0, 0, 70, 60, 70},   // the lot that never expires goes last; pending is untouched
		}
		for _, s := range steps {
			f.mustRedeem("ann", s.redeem, "")
			got := [4]int64{f.remaining(forever), f.remaining(c), f.remaining(b), f.remaining(pending)}
			if want := [4]int64{s.forever, s.c, s.b, s.pending}; got != want {
				t.Fatalf("after redeeming %d, lots left %v, want %v", s.redeem, got, want)
			}
			f.wantBalance("ann", ledger.Balance{Available: s.wantAvailable, Pending: s.wantPending, Lifetime: 250})
		}
		// Once available, the pending lot (expiring t0+64d) goes before the one that never expires.
		f.clk.Set(t0.Add(34 * day))
		f.mustRedeem("ann", 80, "")
		if got := [2]int64{f.remaining(forever), f.remaining(pending)}; got != [2]int64{50, 0} {
			t.Fatalf("lots left %v, want [50 0]", got)
		}
		f.wantHistory("ann", "earn +100", "earn +30", "earn +50", "earn +70", "redeem -20", "redeem -60", "redeem -40", "redeem -80")
		f.checkInvariants("ann")
	})
}

func TestRedeem_WithoutEnoughAvailablePointsWritesNothing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, ledger.Policy{PendingFor: 14 * day, ExpireAfter: 30 * day}, "ann")
		f.adjust("ann", 40) // available at once, expires t0+30d
		f.clk.Set(t0.Add(20 * day))
		f.adjust("ann", 50) // expires t0+50d
		f.earn(ledger.Credit{MemberID: "ann", Points: 100, TransactionID: "T1"})
		f.clk.Set(t0.Add(31 * day)) // the first lot is due but not yet expired in the ledger
		f.wantBalance("ann", ledger.Balance{Available: 50, Pending: 100, Lifetime: 100})
		entries := f.count(`SELECT COUNT(*) FROM points_entries`)
		version := f.count(`SELECT version FROM points_accounts WHERE member_id = 'ann'`)

		tests := []struct {
			name   string
			points int64
			want   string
		}{
			{"pending points cannot be spent", 60, "60 points needed, 50 available"},
			{"expired points cannot be spent", 90, "90 points needed, 50 available"},
		}
		for _, tt := range tests {
			_, err := f.redeem("ann", tt.points, "T9")
			var p *problem.Error
			if !errors.Is(err, ledger.ErrInsufficientPoints) || !errors.As(err, &p) || p.Kind != problem.Conflict ||
				p.Message != tt.want {
				t.Fatalf("%s: Redeem = %v, want ErrInsufficientPoints %q", tt.name, err, tt.want)
			}
		}
		if n := f.count(`SELECT COUNT(*) FROM points_entries`); n != entries {
			t.Fatalf("%d entries after failed redemptions, want %d (not even the due expiry)", n, entries)
		}
		if v := f.count(`SELECT version FROM points_accounts WHERE member_id = 'ann'`); v != version {
			t.Fatalf("account version %d, want %d", v, version)
		}

		// The caller's transaction survives the failure (a savepoint), so a
		// checkout can go on without points.
		err := f.l.Update(f.ctx, func(tx *sql.Tx, now time.Time) error {
			if _, err := f.l.Redeem(f.ctx, tx, "ann", 500, "", "T9", now); !errors.Is(err, ledger.ErrInsufficientPoints) {
				t.Errorf("Redeem = %v", err)
			}
			_, err := f.l.Earn(f.ctx, tx, ledger.Credit{MemberID: "ann", Points: 7, TransactionID: "T9"}, now)
			return err
		})
		if err != nil {
			t.Fatalf("the transaction after a failed redemption: %v", err)
		}
		f.wantHistory("ann", "adjust +40", "adjust +50", "earn +100", "expire -40", "earn +7")
		if _, err := f.redeem("ann", 0, ""); problem.KindOf(err) != problem.Invalid {
			t.Fatalf("Redeem(0) = %v, want Invalid", err)
		}
		f.checkInvariants("ann")
	})
}

// In every clawback case: T1 earned 100 (available at 14 days) of which 70
// were spent; T2 earned 40, still pending; an operator added 20. Then T1 is
// returned in full.
func TestReverse_ClawbackPolicyDecidesWhatHappensToSpentPoints(t *testing.T) {
	tests := []struct {
		clawback    string
		want        ledger.Reversal
		balance     ledger.Balance
		last        string // the reverse entry
		reasonNotes string
	}{
		{ledger.ClawbackPendingOnly, ledger.Reversal{Taken: 0, Shortfall: 100},
			ledger.Balance{Available: 50, Pending: 40, Lifetime: 40}, "reverse +0 short 100", "(100 points no longer pending, forgiven)"},
		{ledger.ClawbackWithinBalance, ledger.Reversal{Taken: 90, Shortfall: 10},
			ledger.Balance{Lifetime: 40}, "reverse -90 short 10", "(10 points already spent, forgiven)"},
		{ledger.ClawbackDebt, ledger.Reversal{Taken: 90, Shortfall: 10},
			ledger.Balance{Lifetime: 40, Debt: 10}, "reverse -90 short 10 debt +10", "(10 points already spent, owed)"},
	}
	for _, tt := range tests {
		t.Run(tt.clawback, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				f := newFixture(t, db, ledger.Policy{PendingFor: 14 * day, Clawback: tt.clawback}, "ann")
				f.earn(ledger.Credit{MemberID: "ann", Points: 100, TransactionID: "T1"})
				f.clk.Set(t0.Add(14 * day))
				f.mustRedeem("ann", 70, "T5")
				f.earn(ledger.Credit{MemberID: "ann", Points: 40, TransactionID: "T2"})
				f.adjust("ann", 20)
				f.clk.Set(t0.Add(15 * day))
				f.wantBalance("ann", ledger.Balance{Available: 50, Pending: 40, Lifetime: 140})

				if got := f.reverse("ann", "T1", 100); got != tt.want {
					t.Fatalf("Reverse = %+v, want %+v", got, tt.want)
				}
				f.wantBalance("ann", tt.balance)
				f.wantHistory("ann", "earn +100", "redeem -70", "earn +40", "adjust +20", tt.last)
				if r := f.entries("ann")[4].Reason; r != "returned T1 "+tt.reasonNotes {
					t.Fatalf("reason %q", r)
				}
				// Returning T1 again takes nothing: it has no points left to give back.
				if got := f.reverse("ann", "T1", 100); got != (ledger.Reversal{}) {
					t.Fatalf("second Reverse = %+v", got)
				}
				if n := len(f.entries("ann")); n != 5 {
					t.Fatalf("%d entries after a repeated return", n)
				}
				f.checkInvariants("ann")
			})
		})
	}
}

func TestReverse_PendingPointsAreTakenBackUnderEveryPolicy(t *testing.T) {
	for _, clawback := range []string{ledger.ClawbackPendingOnly, ledger.ClawbackWithinBalance, ledger.ClawbackDebt} {
		t.Run(clawback, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				f := newFixture(t, db, ledger.Policy{PendingFor: 14 * day, Clawback: clawback}, "ann")
				f.adjust("ann", 25)
				f.earn(ledger.Credit{MemberID: "ann", Points: 60, TransactionID: "T1"})
				f.earn(ledger.Credit{MemberID: "ann", Kind: ledger.KindBonus, Points: 15, TransactionID: "T1", CampaignID: "c1"})
				f.clk.Advance(day)
				// A partial return, then the rest; asking for more than T1 earned is capped.
				if got := f.reverse("ann", "T1", 30); got != (ledger.Reversal{Taken: 30}) {
					t.Fatalf("first Reverse = %+v", got)
				}
				if got := f.reverse("ann", "T1", 1000); got != (ledger.Reversal{Taken: 45}) {
					t.Fatalf("second Reverse = %+v, want the 45 left of T1's 75", got)
				}
				f.wantBalance("ann", ledger.Balance{Available: 25})
				f.wantHistory("ann", "adjust +25", "earn +60", "bonus +15", "reverse -30", "reverse -45")
				if got := f.reverse("ann", "T-unknown", 10); got != (ledger.Reversal{}) {
					t.Fatalf("Reverse of a transaction that earned nothing = %+v", got)
				}
				f.checkInvariants("ann")
			})
		})
	}
}

func TestDebt_IsRepaidFirstByLaterCredits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, ledger.Policy{Clawback: ledger.ClawbackDebt, ExpireAfter: 90 * day}, "ann")
		f.earn(ledger.Credit{MemberID: "ann", Points: 100, TransactionID: "T1"})
		f.mustRedeem("ann", 100, "T2")
		if got := f.reverse("ann", "T1", 100); got != (ledger.Reversal{Shortfall: 100}) {
			t.Fatalf("Reverse = %+v", got)
		}
		f.wantBalance("ann", ledger.Balance{Lifetime: 0, Debt: 100})

		steps := []struct {
			name  string
			do    func()
			want  ledger.Balance
			added []string
		}{
			{"an earning goes to the debt", func() { f.earn(ledger.Credit{MemberID: "ann", Points: 30, TransactionID: "T3"}) },
				ledger.Balance{Lifetime: 30, Debt: 70}, []string{"earn +30", "adjust -30 debt -30"}},
			{"so does a refund", func() { f.refund("ann", "T2", 20) },
				ledger.Balance{Lifetime: 30, Debt: 50}, []string{"refund +20", "adjust -20 debt -20"}},
			{"and an operator's credit, the rest is the member's", func() { f.adjust("ann", 80) },
				ledger.Balance{Available: 30, Lifetime: 30}, []string{"adjust +80", "adjust -50 debt -50"}},
			{"without debt nothing is withheld", func() { f.earn(ledger.Credit{MemberID: "ann", Points: 10, TransactionID: "T4"}) },
				ledger.Balance{Available: 40, Lifetime: 40}, []string{"earn +10"}},
		}
		history := []string{"earn +100", "redeem -100", "reverse +0 short 100 debt +100"}
		for _, s := range steps {
			s.do()
			history = append(history, s.added...)
			f.wantBalance("ann", s.want)
			f.wantHistory("ann", history...)
			f.checkInvariants("ann")
		}
		if e := f.entries("ann")[4]; e.Operator != "" || e.Reason != "repays 30 of 100 points owed after returns" {
			t.Fatalf("repayment entry %+v", e)
		}
	})
}

func TestRefund_GivesRedeemedPointsBackOnceAsAFreshLot(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, ledger.Policy{PendingFor: 14 * day, ExpireAfter: 30 * day}, "ann")
		f.adjust("ann", 100) // expires t0+30d
		f.mustRedeem("ann", 60, "T1")
		f.clk.Set(t0.Add(29 * day))
		if n := f.refund("ann", "T1", 25); n != 25 {
			t.Fatalf("partial Refund = %d", n)
		}
		if n := f.refund("ann", "T1", 100); n != 35 {
			t.Fatalf("Refund = %d, want the 35 T1 redeemed and has not had back", n)
		}
		if n := f.refund("ann", "T1", 100); n != 0 {
			t.Fatalf("third Refund = %d, want 0", n)
		}
		if n := f.refund("ann", "T-other", 100); n != 0 {
			t.Fatalf("Refund of a transaction that redeemed nothing = %d", n)
		}
		f.wantBalance("ann", ledger.Balance{Available: 100})
		f.wantHistory("ann", "adjust +100", "redeem -60", "refund +25", "refund +35")
		refund := f.entries("ann")[3]
		if !refund.AvailableAt.Equal(f.clk.Now()) || !refund.ExpiresAt.Equal(f.clk.Now().Add(30*day)) || refund.TransactionID != "T1" {
			t.Fatalf("refund entry %+v: want available now, expiring 30 days from now", refund)
		}
		// The original lot expires on its own date; the refunded points live on.
		f.clk.Set(t0.Add(30 * day))
		f.wantBalance("ann", ledger.Balance{Available: 60})
		err := f.l.Update(f.ctx, func(tx *sql.Tx, now time.Time) error {
			_, err := f.l.Refund(f.ctx, tx, "ann", "", 5, "no transaction", now)
			return err
		})
		if problem.KindOf(err) != problem.Invalid {
			t.Fatalf("Refund without a transaction = %v, want Invalid", err)
		}
		f.checkInvariants("ann")
	})
}

func TestAdjust_NeedsAReasonAndAnOperatorAndCannotOverdraw(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, ledger.Policy{PendingFor: 14 * day}, "ann")
		f.earn(ledger.Credit{MemberID: "ann", Points: 500, TransactionID: "T1"}) // pending: cannot be taken by an adjustment
		tests := []struct {
			name             string
			member           string
			points           int64
			reason, operator string
			wantErr          error
			want             ledger.Balance
		}{
			{"a credit is available at once", "ann", 50, "missing stamp", "ops@shop", nil, ledger.Balance{Available: 50, Pending: 500, Lifetime: 500}},
			{"a debit takes available points", "ann", -20, "double entry", "ops@shop", nil, ledger.Balance{Available: 30, Pending: 500, Lifetime: 500}},
			{"a debit cannot go below zero", "ann", -31, "too much", "ops@shop", ledger.ErrInsufficientPoints, ledger.Balance{Available: 30, Pending: 500, Lifetime: 500}},
			{"zero", "ann", 0, "nothing", "ops@shop", problem.InvalidField("points", "points_invalid", nil, ""), ledger.Balance{Available: 30, Pending: 500, Lifetime: 500}},
			{"no reason", "ann", 5, "  ", "ops@shop", problem.InvalidField("reason", "reason_required", nil, ""), ledger.Balance{Available: 30, Pending: 500, Lifetime: 500}},
			{"no operator", "ann", 5, "why", "", problem.InvalidField("operator", "operator_required", nil, ""), ledger.Balance{Available: 30, Pending: 500, Lifetime: 500}},
			{"unknown member", "nobody", 5, "why", "ops@shop", ledger.ErrMemberNotFound, ledger.Balance{Available: 30, Pending: 500, Lifetime: 500}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e, err := f.l.Adjust(f.ctx, tt.member, tt.points, tt.reason, tt.operator)
				if tt.wantErr != nil {
					if !errors.Is(err, tt.wantErr) {
						t.Fatalf("Adjust = %v, want %v", err, tt.wantErr)
					}
				} else if err != nil || e.Points != tt.points || e.Operator != tt.operator || e.Reason != tt.reason || e.Kind != ledger.KindAdjust {
					t.Fatalf("Adjust = %+v, %v", e, err)
				}
				f.wantBalance("ann", tt.want)
			})
		}
		got := f.entries("ann")
		if len(got) != 3 || got[2].Operator != "ops@shop" || got[2].Reason != "double entry" || got[2].Points != -20 {
			t.Fatalf("entries %+v", got)
		}
		f.checkInvariants("ann")
	})
}

func TestEntries_PagesNewestFirst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db, ledger.Policy{}, "ann", "bob")
		for i := int64(1); i <= 7; i++ {
			f.earn(ledger.Credit{MemberID: "ann", Points: i}) // all at the same instant
		}
		f.earn(ledger.Credit{MemberID: "bob", Points: 99})
		var points []int64
		var sizes []int
		q := ledger.Query{Limit: 3}
		for {
			p, err := f.l.Entries(f.ctx, "ann", q)
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, len(p.Entries))
			for _, e := range p.Entries {
				points = append(points, e.Points)
			}
			if p.NextCursor == "" {
				break
			}
			q.Cursor = p.NextCursor
		}
		if want := []int64{7, 6, 5, 4, 3, 2, 1}; !slices.Equal(points, want) || !slices.Equal(sizes, []int{3, 3, 1}) {
			t.Fatalf("pages %v of %v, want [3 3 1] of %v", sizes, points, want)
		}
		p, err := f.l.Entries(f.ctx, "carl", ledger.Query{})
		if err != nil || len(p.Entries) != 0 || p.Entries == nil || p.NextCursor != "" {
			t.Fatalf("a member without entries: %+v, %v", p, err)
		}
		bad := []ledger.Query{{Cursor: "garbage!"}, {Cursor: "LTE"}, {Limit: 501}, {Limit: -1}}
		for _, q := range bad {
			if _, err := f.l.Entries(f.ctx, "ann", q); problem.KindOf(err) != problem.Invalid {
				t.Errorf("Entries(%+v) = %v, want Invalid", q, err)
			}
		}
	})
}
