package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/perk-platform/perk/internal/problem"
)

// Redeem spends points that are available now, oldest expiry first, and
// returns the redeem entry's id. With fewer available points than asked it
// returns ErrInsufficientPoints and writes nothing (not even expiry that was
// due). transactionID may be empty for a redemption outside the checkout,
// but only a redemption with one can be refunded.
func (l *Ledger) Redeem(ctx context.Context, tx *sql.Tx, memberID string, points int64, reason, transactionID string, now time.Time) (string, error) {
	if points <= 0 {
		return "", problem.InvalidField("points", "points_invalid", nil, "must be positive")
	}
	var e Entry
	err := l.write(ctx, tx, memberID, now, func(a *account) error {
		lots, have, err := a.availableLots()
		if err != nil {
			return err
		}
		if have < points {
			return insufficient(points, have)
		}
		draws, _ := plan(lots, points)
		e, err = a.debit(Entry{Kind: KindRedeem, Reason: reason, TransactionID: transactionID}, draws)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("ledger: redeem: %w", err)
	}
	return e.ID, nil
}

// Reverse takes back points that transactionID earned (earn and bonus), on a
// return. It asks for at most what the transaction earned less what earlier
// reversals asked for, so repeating a return takes nothing twice. Where the
// points come from, and what happens to those already spent, is
// Policy.Clawback:
//
//   - ClawbackPendingOnly: only the transaction's lots that are still
//     pending; the rest is forgiven.
//   - ClawbackWithinBalance: the transaction's lots, then the member's other
//     available points, then other pending points; the rest is forgiven.
//   - ClawbackDebt: as ClawbackWithinBalance, and the rest becomes debt.
//
// It writes one reverse entry (none when there is nothing left to ask for)
// whose reason notes any shortfall. points <= 0 is a no-op.
func (l *Ledger) Reverse(ctx context.Context, tx *sql.Tx, memberID, transactionID string, points int64, reason string, now time.Time) (Reversal, error) {
	if points <= 0 {
		return Reversal{}, nil
	}
	if transactionID == "" {
		return Reversal{}, problem.InvalidField("transaction_id", "transaction_id_required", nil, "a reversal needs the transaction that earned the points")
	}
	var r Reversal
	err := l.write(ctx, tx, memberID, now, func(a *account) error {
		earned, err := a.sumForTransaction(transactionID, KindEarn, `points`)
		if err != nil {
			return err
		}
		bonus, err := a.sumForTransaction(transactionID, KindBonus, `points`)
		if err != nil {
			return err
		}
		asked, err := a.sumForTransaction(transactionID, KindReverse, `shortfall - points`)
		if err != nil {
			return err
		}
		want := min(points, earned+bonus-asked)
		if want <= 0 {
			return nil
		}
		lots, err := a.openLots()
		if err != nil {
			return err
		}
		draws, taken := plan(clawbackOrder(lots, transactionID, a.p.Clawback, a.now), want)
		r = Reversal{Taken: taken, Shortfall: want - taken}
		e := Entry{Kind: KindReverse, Reason: reason, TransactionID: transactionID, Shortfall: r.Shortfall}
		switch {
		case r.Shortfall == 0:
		case a.p.Clawback == ClawbackDebt:
			e.Debt = r.Shortfall
			e.Reason += fmt.Sprintf(" (%d points already spent, owed)", r.Shortfall)
		case a.p.Clawback == ClawbackPendingOnly:
			e.Reason += fmt.Sprintf(" (%d points no longer pending, forgiven)", r.Shortfall)
		default:
			e.Reason += fmt.Sprintf(" (%d points already spent, forgiven)", r.Shortfall)
		}
		if _, err := a.debit(e, draws); err != nil {
			return err
		}
		if e.Debt > 0 {
			return a.addDebt(e.Debt)
		}
		return nil
	})
	if err != nil {
		return Reversal{}, fmt.Errorf("ledger: reverse: %w", err)
	}
	return r, nil
}

// clawbackOrder picks and orders the lots a reversal may take from.
func clawbackOrder(lots []lot, txID, clawback string, now time.Time) []lot {
	var own, available, pending []lot
	for _, o := range lots {
		switch {
		case o.txID == txID:
			if clawback != ClawbackPendingOnly || !o.available(now) {
				own = append(own, o)
			}
		case clawback == ClawbackPendingOnly:
		case o.available(now):
			available = append(available, o)
		default:
			pending = append(pending, o)
		}
	}
	return append(append(own, available...), pending...)
}
