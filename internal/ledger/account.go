package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/id"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
)

// account is one member's write in progress: their account row is locked and
// what was due has expired; its methods append entries and move lots.
type account struct {
	ctx     context.Context
	tx      *sql.Tx
	p       Policy
	member  string
	now     time.Time
	debt    int64
	expired int // lots expired by this write
	// held is what the member's lots hold (available and pending: what was
	// due has expired), read by the first credit of the write and kept up to
	// date by every entry after it; heldKnown says whether it was read.
	held      int64
	heldKnown bool
	written   []Entry // entries this write made, for the points.changed event
}

// write runs fn for memberID inside a savepoint of tx, after locking the
// member's account (creating it on first use) and expiring due lots. When fn
// or anything before it fails, the savepoint is rolled back, so tx is left
// as it was and stays usable.
func (l *Ledger) write(ctx context.Context, tx *sql.Tx, memberID string, now time.Time, fn func(a *account) error) (err error) {
	return l.writeAccount(ctx, tx, memberID, now, true, fn)
}

// writeAccount is write, expiring due lots first only if expire is set: a
// write that only adds points draws on no lot, so what is due can wait for
// the next write that spends or takes back (each expires first) or for
// ExpireDue, and the balance never counts an expired lot either way.
func (l *Ledger) writeAccount(ctx context.Context, tx *sql.Tx, memberID string, now time.Time, expire bool, fn func(a *account) error) (err error) {
	if memberID == "" {
		return ErrMemberNotFound
	}
	if _, err := tx.ExecContext(ctx, `SAVEPOINT points_write`); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			if _, rbErr := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT points_write`); rbErr != nil {
				err = errors.Join(err, rbErr)
				return
			}
		}
		if _, relErr := tx.ExecContext(ctx, `RELEASE SAVEPOINT points_write`); relErr != nil {
			err = errors.Join(err, relErr)
		}
	}()
	a := &account{ctx: ctx, tx: tx, p: l.p, member: memberID, now: utc(now)}
	if err := a.lock(); err != nil {
		return err
	}
	if expire {
		if err := a.expireDue(); err != nil {
			return err
		}
	}
	if fn != nil {
		if err := fn(a); err != nil {
			return err
		}
	}
	return l.report(a)
}

// report tells l.changes what the write did, in its savepoint: one event
// listing the entries (expiries included), none when nothing moved.
func (l *Ledger) report(a *account) error {
	if l.changes == nil || len(a.written) == 0 {
		return nil
	}
	entries := make([]map[string]any, len(a.written))
	var net int64
	for i, e := range a.written {
		m := map[string]any{"id": e.ID, "kind": string(e.Kind), "points": e.Points, "reason": e.Reason}
		if e.TransactionID != "" {
			m["transaction_id"] = e.TransactionID
		}
		if e.CampaignID != "" {
			m["campaign_id"] = e.CampaignID
		}
		entries[i] = m
		net += e.Points
	}
	return change.Record(a.ctx, l.changes, a.tx, change.Event{Type: change.PointsChanged, MemberID: a.member,
		Data: map[string]any{"points": net, "entries": entries}})
}

const lockAccount = `UPDATE points_accounts SET version = version + 1, updated_at = $2 WHERE member_id = $1 RETURNING debt`

// lock bumps the account's version, which on PostgreSQL holds the row lock
// until the transaction ends. A member's first write creates the row; two
// first writes at once meet at the unique key and the second waits.
func (a *account) lock() error {
	err := a.tx.QueryRowContext(a.ctx, lockAccount, a.member, a.now).Scan(&a.debt)
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if _, err := a.tx.ExecContext(a.ctx, `INSERT INTO points_accounts (member_id)
		SELECT id FROM members WHERE id = $1 ON CONFLICT (member_id) DO NOTHING`, a.member); err != nil {
		return fmt.Errorf("create points account: %w", err)
	}
	err = a.tx.QueryRowContext(a.ctx, lockAccount, a.member, a.now).Scan(&a.debt)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrMemberNotFound
	}
	return err
}

// lot is an open lot: a positive entry with points left.
type lot struct {
	id          string // its entry's id
	txID        string
	remaining   int64
	availableAt time.Time
	expiresAt   sql.NullTime
}

func (o lot) available(now time.Time) bool { return !o.availableAt.After(now) }

// openLots returns the member's unexpired lots with points left, in spending
// order: earliest expiry first, lots that never expire last, then earliest
// available, then id.
func (a *account) openLots() ([]lot, error) {
	rows, err := a.tx.QueryContext(a.ctx, `SELECT entry_id, COALESCE(transaction_id, ''), remaining, available_at, expires_at
		FROM points_lots WHERE member_id = $1 AND remaining > 0 AND (expires_at IS NULL OR expires_at > $2)
		ORDER BY (expires_at IS NULL), expires_at, available_at, entry_id`, a.member, a.now)
	if err != nil {
		return nil, fmt.Errorf("read lots: %w", err)
	}
	defer rows.Close()
	var out []lot
	for rows.Next() {
		var o lot
		if err := rows.Scan(&o.id, &o.txID, &o.remaining, &o.availableAt, &o.expiresAt); err != nil {
			return nil, fmt.Errorf("read lots: %w", err)
		}
		out = append(out, o)
	}
	return out, rows.Err()
}

// availableLots keeps the lots that can be spent now, in order.
func (a *account) availableLots() ([]lot, int64, error) {
	lots, err := a.openLots()
	if err != nil {
		return nil, 0, err
	}
	var out []lot
	var sum int64
	for _, o := range lots {
		if o.available(a.now) {
			out = append(out, o)
			sum += o.remaining
		}
	}
	return out, sum, nil
}

// draw is part of a debit taken from one lot.
type draw struct {
	lot    string
	points int64
}

// plan takes up to want points from lots in their order.
func plan(lots []lot, want int64) (draws []draw, taken int64) {
	for _, o := range lots {
		if taken == want {
			break
		}
		n := min(o.remaining, want-taken)
		draws = append(draws, draw{o.id, n})
		taken += n
	}
	return draws, taken
}

const (
	insertEntryHead = `INSERT INTO points_entries (id, member_id, kind, points, reason, transaction_id, campaign_id,
	operator, created_at, available_at, expires_at, shortfall, debt) VALUES `
	insertEntry   = insertEntryHead + `($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`
	insertLotHead = `INSERT INTO points_lots (entry_id, member_id, transaction_id, remaining, available_at, expires_at) VALUES `
	insertLot     = insertLotHead + `($1, $2, $3, $4, $5, $6)`
)

func (a *account) insert(e *Entry) error {
	e.ID = id.New("pts", a.now)
	e.MemberID = a.member
	e.CreatedAt = a.now
	_, err := a.tx.ExecContext(a.ctx, insertEntry, e.ID, e.MemberID, string(e.Kind), e.Points, e.Reason,
		store.NullString(e.TransactionID), store.NullString(e.CampaignID), store.NullString(e.Operator),
		e.CreatedAt, nullTime(e.AvailableAt), nullTime(e.ExpiresAt), e.Shortfall, e.Debt)
	if err != nil {
		return fmt.Errorf("insert %s entry: %w", e.Kind, err)
	}
	a.written = append(a.written, *e)
	return nil
}

// debit writes e as a negative entry of the drawn points and takes them
// from their lots.
func (a *account) debit(e Entry, draws []draw) (Entry, error) {
	e.Points = 0
	for _, d := range draws {
		e.Points -= d.points
	}
	if err := a.insert(&e); err != nil {
		return e, err
	}
	a.held += e.Points
	for _, d := range draws {
		if _, err := a.tx.ExecContext(a.ctx, `INSERT INTO points_allocations (entry_id, lot_id, points) VALUES ($1, $2, $3)`,
			e.ID, d.lot, d.points); err != nil {
			return e, fmt.Errorf("allocate %s: %w", e.Kind, err)
		}
		res, err := a.tx.ExecContext(a.ctx, `UPDATE points_lots SET remaining = remaining - $2 WHERE entry_id = $1 AND remaining >= $2`,
			d.lot, d.points)
		if err != nil {
			return e, fmt.Errorf("take from lot: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return e, fmt.Errorf("take from lot: %w", err)
		} else if n != 1 {
			return e, fmt.Errorf("take %d points from lot %s: it no longer holds them, though the account is locked", d.points, d.lot)
		}
	}
	return e, nil
}

// credit writes e (Points > 0) as a lot available at availableAt and
// expiring ExpireAfter later, then repays any debt from it. It refuses, with
// ErrBalanceLimit, a credit that would take the member past MaxBalance.
func (a *account) credit(e Entry, availableAt time.Time) (Entry, error) {
	if err := a.roomFor(e.Points); err != nil {
		return e, err
	}
	e.AvailableAt = availableAt
	if a.p.ExpireAfter > 0 {
		e.ExpiresAt = availableAt.Add(a.p.ExpireAfter)
	}
	if err := a.insert(&e); err != nil {
		return e, err
	}
	if _, err := a.tx.ExecContext(a.ctx, insertLot, e.ID, a.member, store.NullString(e.TransactionID), e.Points,
		e.AvailableAt, nullTime(e.ExpiresAt)); err != nil {
		return e, fmt.Errorf("open lot: %w", err)
	}
	a.held += e.Points
	return e, a.repay(e)
}

// creditAll writes es (each Points > 0) as lots available at availableAt[i],
// like credit one by one, in one INSERT of the entries and one of their lots
// when the member owes nothing (a debt is repaid entry by entry, as credit
// does). It refuses the lot, with ErrBalanceLimit, if they would take the
// member past MaxBalance.
func (a *account) creditAll(es []Entry, availableAt []time.Time) error {
	if a.debt != 0 || len(es) == 1 {
		for i := range es {
			if _, err := a.credit(es[i], availableAt[i]); err != nil {
				return err
			}
		}
		return nil
	}
	var total int64
	for _, e := range es {
		total += e.Points
	}
	if err := a.roomFor(total); err != nil {
		return err
	}
	entries := make([]any, 0, 13*len(es))
	lots := make([]any, 0, 6*len(es))
	for i := range es {
		e := &es[i]
		e.ID, e.MemberID, e.CreatedAt = id.New("pts", a.now), a.member, a.now
		e.AvailableAt = availableAt[i]
		if a.p.ExpireAfter > 0 {
			e.ExpiresAt = e.AvailableAt.Add(a.p.ExpireAfter)
		}
		entries = append(entries, e.ID, e.MemberID, string(e.Kind), e.Points, e.Reason,
			store.NullString(e.TransactionID), store.NullString(e.CampaignID), store.NullString(e.Operator),
			e.CreatedAt, nullTime(e.AvailableAt), nullTime(e.ExpiresAt), e.Shortfall, e.Debt)
		lots = append(lots, e.ID, a.member, store.NullString(e.TransactionID), e.Points, e.AvailableAt, nullTime(e.ExpiresAt))
	}
	if _, err := a.tx.ExecContext(a.ctx, insertEntryHead+store.Values(len(es), 13), entries...); err != nil {
		return fmt.Errorf("insert entries: %w", err)
	}
	if _, err := a.tx.ExecContext(a.ctx, insertLotHead+store.Values(len(es), 6), lots...); err != nil {
		return fmt.Errorf("open lots: %w", err)
	}
	a.written = append(a.written, es...)
	a.held += total
	return nil
}

// roomFor checks that n more points keep the member within MaxBalance.
func (a *account) roomFor(n int64) error {
	if !a.heldKnown {
		if err := a.tx.QueryRowContext(a.ctx, `SELECT CAST(COALESCE(SUM(remaining), 0) AS BIGINT) FROM points_lots
			WHERE member_id = $1 AND remaining > 0`, a.member).Scan(&a.held); err != nil {
			return fmt.Errorf("read points held: %w", err)
		}
		a.heldKnown = true
	}
	if n > MaxBalance-a.held {
		return &problem.Error{Kind: problem.Invalid, Code: ErrBalanceLimit.Code, Field: "points",
			Message: fmt.Sprintf("the member holds %d points; %d more would pass the limit of %d", a.held, n, int64(MaxBalance))}
	}
	return nil
}

// repay pays the member's debt first from a new lot, with an adjust entry.
// While there is debt the member holds no other points, so the new lot is
// all there is to pay from.
func (a *account) repay(from Entry) error {
	if a.debt == 0 {
		return nil
	}
	n := min(a.debt, from.Points)
	_, err := a.debit(Entry{Kind: KindAdjust, Debt: -n,
		Reason: fmt.Sprintf("repays %d of %d points owed after returns", n, a.debt)}, []draw{{from.ID, n}})
	if err != nil {
		return err
	}
	return a.addDebt(-n)
}

func (a *account) addDebt(n int64) error {
	if _, err := a.tx.ExecContext(a.ctx, `UPDATE points_accounts SET debt = debt + $2 WHERE member_id = $1`, a.member, n); err != nil {
		return fmt.Errorf("record debt: %w", err)
	}
	a.debt += n
	return nil
}

// sumForTransaction adds up the member's entries of a transaction: expr is
// an SQL expression over one entry's columns, counted for entries of kind.
func (a *account) sumForTransaction(txID string, kind Kind, expr string) (int64, error) {
	var n int64
	err := a.tx.QueryRowContext(a.ctx, `SELECT CAST(COALESCE(SUM(`+expr+`), 0) AS BIGINT) FROM points_entries
		WHERE transaction_id = $1 AND member_id = $2 AND kind = $3`, txID, a.member, string(kind)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sum %s entries of transaction: %w", kind, err)
	}
	return n, nil
}

func nullTime(t time.Time) sql.NullTime { return sql.NullTime{Time: t, Valid: !t.IsZero()} }
