package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// expireDue writes an expire entry for what is left of each of the member's
// lots whose expiry has come, oldest first.
func (a *account) expireDue() error {
	rows, err := a.tx.QueryContext(a.ctx, `SELECT entry_id, remaining, expires_at FROM points_lots
		WHERE member_id = $1 AND remaining > 0 AND expires_at <= $2
		ORDER BY expires_at, available_at, entry_id`, a.member, a.now)
	if err != nil {
		return fmt.Errorf("read due lots: %w", err)
	}
	var due []lot
	for rows.Next() {
		var o lot
		if err := rows.Scan(&o.id, &o.remaining, &o.expiresAt); err != nil {
			rows.Close()
			return fmt.Errorf("read due lots: %w", err)
		}
		due = append(due, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read due lots: %w", err)
	}
	for _, o := range due {
		reason := fmt.Sprintf("points of %s expired %s", o.id, o.expiresAt.Time.UTC().Format("2006-01-02 15:04 UTC"))
		if _, err := a.debit(Entry{Kind: KindExpire, Reason: reason}, []draw{{o.id, o.remaining}}); err != nil {
			return err
		}
		a.expired++
	}
	return nil
}

// ExpireDue expires points whose time has come at now for members who have
// not had a write since, and returns how many lots it expired. It looks at
// no more than limit due lots (1000 if limit <= 0) per call, expiring each
// member found through them completely in a transaction of their own; a
// sweeper calls it until it returns 0.
func (l *Ledger) ExpireDue(ctx context.Context, now time.Time, limit int) (int, error) {
	if limit <= 0 {
		limit = 1000
	}
	now = utc(now)
	rows, err := l.db.R.QueryContext(ctx, `SELECT member_id FROM points_lots WHERE remaining > 0 AND expires_at <= $1
		ORDER BY expires_at, member_id LIMIT $2`, now, limit)
	if err != nil {
		return 0, fmt.Errorf("ledger: find due lots: %w", err)
	}
	var members []string
	seen := map[string]bool{}
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			rows.Close()
			return 0, fmt.Errorf("ledger: find due lots: %w", err)
		}
		if !seen[m] {
			seen[m] = true
			members = append(members, m)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("ledger: find due lots: %w", err)
	}
	total := 0
	for _, m := range members {
		n := 0
		err := l.db.Tx(ctx, func(tx *sql.Tx) error {
			return l.write(ctx, tx, m, now, func(a *account) error {
				n = a.expired
				return nil
			})
		})
		if err != nil {
			return total, fmt.Errorf("ledger: expire points of %s: %w", m, err)
		}
		total += n
	}
	return total, nil
}
