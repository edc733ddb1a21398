package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/perk-platform/perk/internal/problem"
)

// Earn adds points for a purchase (KindEarn, pending for PendingFor) or a
// campaign (KindBonus: pending too when it has a TransactionID, available at
// once otherwise), and returns the new entry's id. Points <= 0 writes nothing
// and returns "". Any debt is repaid from the new points first. Points over
// MaxPoints, or a credit that would take the member past MaxBalance
// (ErrBalanceLimit), are refused with a 422 and write nothing.
func (l *Ledger) Earn(ctx context.Context, tx *sql.Tx, c Credit, now time.Time) (string, error) {
	if c.Points <= 0 {
		return "", nil
	}
	if c.Points > MaxPoints {
		return "", problem.InvalidField("points", "points_invalid", nil, "must be at most %d", MaxPoints)
	}
	if c.Kind == "" {
		c.Kind = KindEarn
	}
	if c.Kind != KindEarn && c.Kind != KindBonus {
		return "", problem.InvalidField("kind", "kind_invalid", nil, "must be %s or %s, not %q", KindEarn, KindBonus, c.Kind)
	}
	now = utc(now)
	availableAt := now
	if c.Kind == KindEarn || c.TransactionID != "" {
		availableAt = now.Add(l.p.PendingFor)
	}
	var e Entry
	err := l.write(ctx, tx, c.MemberID, now, func(a *account) (err error) {
		e, err = a.credit(Entry{Kind: c.Kind, Points: c.Points, Reason: c.Reason, TransactionID: c.TransactionID,
			CampaignID: c.CampaignID}, availableAt)
		return err
	})
	if err != nil {
		return "", fmt.Errorf("ledger: %s: %w", c.Kind, err)
	}
	return e.ID, nil
}

// EarnAll adds the credits of one member's purchase (its base points and
// each campaign's bonus) as Earn would one by one, but in one write: one
// account lock and one INSERT of the entries and one of their lots, and no
// look for due lots (a credit spends none; see writeAccount). Credits with
// Points <= 0 are skipped. Any credit that Earn would refuse refuses them
// all, and then nothing is written.
func (l *Ledger) EarnAll(ctx context.Context, tx *sql.Tx, memberID string, cs []Credit, now time.Time) error {
	now = utc(now)
	var es []Entry
	var at []time.Time
	for _, c := range cs {
		if c.Points <= 0 {
			continue
		}
		if c.Points > MaxPoints {
			return problem.InvalidField("points", "points_invalid", nil, "must be at most %d", MaxPoints)
		}
		if c.Kind == "" {
			c.Kind = KindEarn
		}
		if c.Kind != KindEarn && c.Kind != KindBonus {
			return problem.InvalidField("kind", "kind_invalid", nil, "must be %s or %s, not %q", KindEarn, KindBonus, c.Kind)
		}
		availableAt := now
		if c.Kind == KindEarn || c.TransactionID != "" {
			availableAt = now.Add(l.p.PendingFor)
		}
		es = append(es, Entry{Kind: c.Kind, Points: c.Points, Reason: c.Reason, TransactionID: c.TransactionID, CampaignID: c.CampaignID})
		at = append(at, availableAt)
	}
	if len(es) == 0 {
		return nil
	}
	err := l.writeAccount(ctx, tx, memberID, now, false, func(a *account) error { return a.creditAll(es, at) })
	if err != nil {
		return fmt.Errorf("ledger: earn: %w", err)
	}
	return nil
}

// Refund gives back points that transactionID paid with (a return or a
// void): a refund entry opening a lot available at once and expiring
// ExpireAfter from now. It gives back at most what the transaction redeemed
// less earlier refunds, returns how many points it gave back (0, writing
// nothing, when there is nothing left to refund), and repays any debt first.
// A refund that would take the member past MaxBalance is refused
// (ErrBalanceLimit).
func (l *Ledger) Refund(ctx context.Context, tx *sql.Tx, memberID, transactionID string, points int64, reason string, now time.Time) (int64, error) {
	if points <= 0 {
		return 0, nil
	}
	if transactionID == "" {
		return 0, problem.InvalidField("transaction_id", "transaction_id_required", nil, "a refund needs the transaction that redeemed the points")
	}
	now = utc(now)
	var n int64
	err := l.write(ctx, tx, memberID, now, func(a *account) error {
		redeemed, err := a.sumForTransaction(transactionID, KindRedeem, `-points`)
		if err != nil {
			return err
		}
		refunded, err := a.sumForTransaction(transactionID, KindRefund, `points`)
		if err != nil {
			return err
		}
		n = min(points, redeemed-refunded)
		if n <= 0 {
			n = 0
			return nil
		}
		_, err = a.credit(Entry{Kind: KindRefund, Points: n, Reason: reason, TransactionID: transactionID}, now)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("ledger: refund: %w", err)
	}
	return n, nil
}
