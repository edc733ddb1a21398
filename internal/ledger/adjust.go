package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/problem"
)

// Adjust is an operator's correction, in a transaction of its own at the
// ledger's clock; see AdjustTx.
func (l *Ledger) Adjust(ctx context.Context, memberID string, points int64, reason, operator string) (Entry, error) {
	var e Entry
	err := l.Update(ctx, func(tx *sql.Tx, now time.Time) (err error) {
		e, err = l.AdjustTx(ctx, tx, memberID, points, reason, operator, now)
		return err
	})
	return e, err
}

// AdjustTx records an operator's correction and returns its entry. Positive
// points open a lot available at once (expiring per policy, repaying any
// debt first); negative points are taken from available points, oldest
// expiry first, and fail with ErrInsufficientPoints rather than go below
// zero. The reason and the operator's name are required. Points must be
// -MaxPoints..MaxPoints and not 0, and a positive adjustment must leave the
// member within MaxBalance (ErrBalanceLimit); both are 422s.
func (l *Ledger) AdjustTx(ctx context.Context, tx *sql.Tx, memberID string, points int64, reason, operator string, now time.Time) (Entry, error) {
	reason, operator = strings.TrimSpace(reason), strings.TrimSpace(operator)
	switch {
	case points == 0:
		return Entry{}, problem.InvalidField("points", "points_invalid", nil, "must not be zero")
	case points < -MaxPoints || points > MaxPoints:
		return Entry{}, problem.InvalidField("points", "points_invalid", nil, "must be %d..%d", -MaxPoints, MaxPoints)
	case reason == "":
		return Entry{}, problem.InvalidField("reason", "reason_required", nil, "say why the points are adjusted")
	case operator == "":
		return Entry{}, problem.InvalidField("operator", "operator_required", nil, "name who adjusts the points")
	}
	var e Entry
	err := l.write(ctx, tx, memberID, now, func(a *account) (err error) {
		in := Entry{Kind: KindAdjust, Points: points, Reason: reason, Operator: operator}
		if points > 0 {
			e, err = a.credit(in, a.now)
			return err
		}
		lots, have, err := a.availableLots()
		if err != nil {
			return err
		}
		if have < -points {
			return insufficient(-points, have)
		}
		draws, _ := plan(lots, -points)
		e, err = a.debit(in, draws)
		return err
	})
	if err != nil {
		return Entry{}, fmt.Errorf("ledger: adjust: %w", err)
	}
	return e, nil
}
