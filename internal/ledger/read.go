package ledger

import (
	"context"
	"database/sql"
	"encoding/base64"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/perk-platform/perk/internal/problem"
)

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// LotsAvailable is the condition on a points_lots row that it counts in a
// member's available balance at the time bound to placeholder now: the
// one definition of the balance, which the profiles' points figures build
// on too.
func LotsAvailable(now string) string {
	return `remaining > 0 AND available_at <= ` + now + ` AND (expires_at IS NULL OR expires_at > ` + now + `)`
}

// LotsPending is the condition on a points_lots row that it is held (not
// yet available) at now.
func LotsPending(now string) string {
	return `remaining > 0 AND available_at > ` + now + ` AND (expires_at IS NULL OR expires_at > ` + now + `)`
}

// Lifetime sums, over points_entries rows, the points a member earned for
// good: earnings and bonuses net of what returns took back (Balance.Lifetime).
const Lifetime = `CAST(COALESCE(SUM(CASE WHEN kind IN ('earn', 'bonus') THEN points
		WHEN kind = 'reverse' THEN points - shortfall ELSE 0 END), 0) AS BIGINT)`

// Redeemed sums, over points_entries rows, the points a member spent net of
// those a return or void gave back (redeem entries are negative, refunds
// positive).
const Redeemed = `CAST(COALESCE(SUM(CASE WHEN kind = 'redeem' THEN -points WHEN kind = 'refund' THEN -points ELSE 0 END), 0) AS BIGINT)`

var balanceQuery = `SELECT ` + SpendableColumns("$1", "$2") + `,
	(SELECT ` + Lifetime + ` FROM points_entries WHERE member_id = $1),
	COALESCE((SELECT debt FROM points_accounts WHERE member_id = $1), 0)`

// SpendableColumns is the select list of a member's Balance.Available and
// Balance.Pending at now (parameter references), for a query that reads
// them with other figures in one statement (the till's evaluate); Balance
// reads them the same way.
func SpendableColumns(member, now string) string {
	return `(SELECT CAST(COALESCE(SUM(remaining), 0) AS BIGINT) FROM points_lots
		WHERE member_id = ` + member + ` AND ` + LotsAvailable(now) + `),
	(SELECT CAST(COALESCE(SUM(remaining), 0) AS BIGINT) FROM points_lots
		WHERE member_id = ` + member + ` AND ` + LotsPending(now) + `)`
}

// Now is the time Balance reads the balance at.
func (l *Ledger) Now() time.Time { return l.clock() }

// Balance returns the member's balance now, from the read pool. A member
// with no points (or no such member) has a zero balance.
func (l *Ledger) Balance(ctx context.Context, memberID string) (Balance, error) {
	return balance(ctx, l.db.Read, memberID, l.clock())
}

// BalanceTx returns the member's balance at now as tx sees it, for the
// checkout deciding how many points a basket may use. It writes nothing.
func (l *Ledger) BalanceTx(ctx context.Context, tx *sql.Tx, memberID string, now time.Time) (Balance, error) {
	return balance(ctx, tx, memberID, utc(now))
}

func balance(ctx context.Context, q queryer, memberID string, now time.Time) (Balance, error) {
	var b Balance
	if err := q.QueryRowContext(ctx, balanceQuery, memberID, now).Scan(&b.Available, &b.Pending, &b.Lifetime, &b.Debt); err != nil {
		return Balance{}, fmt.Errorf("ledger: balance: %w", err)
	}
	return b, nil
}

// Query selects a page of entries.
type Query struct {
	Limit  int    // 1..500, default 50
	Cursor string // from the previous page's NextCursor
}

// Page is one page of a member's entries, newest first.
type Page struct {
	Entries    []Entry `json:"entries"`
	NextCursor string  `json:"next_cursor,omitempty"`
}

const entryColumns = `seq, id, member_id, kind, points, reason, COALESCE(transaction_id, ''), COALESCE(campaign_id, ''),
	COALESCE(operator, ''), created_at, available_at, expires_at, shortfall, debt`

// Entries returns a member's entries newest first (in the order they were
// written), a page at a time. Cursors are opaque and stable while entries
// are added (keyset pagination on the write order).
func (l *Ledger) Entries(ctx context.Context, memberID string, q Query) (Page, error) {
	if q.Limit == 0 {
		q.Limit = 50
	}
	if q.Limit < 1 || q.Limit > 500 {
		return Page{}, problem.InvalidField("limit", "limit_invalid", nil, "must be between 1 and 500")
	}
	before := int64(math.MaxInt64)
	if q.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		n, perr := strconv.ParseInt(string(b), 10, 64)
		if err != nil || perr != nil || n <= 0 {
			return Page{}, problem.InvalidField("cursor", "cursor_invalid", nil, "is not a cursor from a previous page")
		}
		before = n
	}
	rows, err := l.db.R.QueryContext(ctx, `SELECT `+entryColumns+` FROM points_entries
		WHERE member_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`, memberID, before, q.Limit+1)
	if err != nil {
		return Page{}, fmt.Errorf("ledger: entries: %w", err)
	}
	defer rows.Close()
	page := Page{Entries: []Entry{}}
	for rows.Next() {
		e, err := scanEntry(rows)
		if err != nil {
			return Page{}, fmt.Errorf("ledger: entries: %w", err)
		}
		page.Entries = append(page.Entries, e)
	}
	if err := rows.Err(); err != nil {
		return Page{}, fmt.Errorf("ledger: entries: %w", err)
	}
	if len(page.Entries) > q.Limit {
		page.Entries = page.Entries[:q.Limit]
		last := page.Entries[q.Limit-1].seq
		page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(last, 10)))
	}
	return page, nil
}

func scanEntry(rows *sql.Rows) (Entry, error) {
	var e Entry
	var kind string
	var avail, exp sql.NullTime
	err := rows.Scan(&e.seq, &e.ID, &e.MemberID, &kind, &e.Points, &e.Reason, &e.TransactionID, &e.CampaignID,
		&e.Operator, &e.CreatedAt, &avail, &exp, &e.Shortfall, &e.Debt)
	e.Kind = Kind(kind)
	e.CreatedAt = e.CreatedAt.UTC()
	if avail.Valid {
		e.AvailableAt = avail.Time.UTC()
	}
	if exp.Valid {
		e.ExpiresAt = exp.Time.UTC()
	}
	return e, err
}
