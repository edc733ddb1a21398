package ledger_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/store"
)

const day = 24 * time.Hour

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// clock is a settable test clock; tests advance it only while no operation
// is running.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }
func (c *clock) Set(t time.Time)         { c.t = t }

// fixture is a ledger over a database with a few members.
type fixture struct {
	t   *testing.T
	db  *store.DB
	l   *ledger.Ledger
	clk *clock
	ctx context.Context
}

func newFixture(t *testing.T, db *store.DB, p ledger.Policy, members ...string) *fixture {
	t.Helper()
	c := &clock{t: t0}
	f := &fixture{t: t, db: db, l: ledger.New(db, p, c.Now), clk: c, ctx: context.Background()}
	for _, m := range members {
		addMember(t, db, m)
	}
	return f
}

func addMember(t *testing.T, db *store.DB, memberID string) {
	t.Helper()
	var n int
	db.R.QueryRow(`SELECT COUNT(*) FROM members`).Scan(&n)
	_, err := db.W.Exec(`INSERT INTO members (id, code, channel, status, enrolled_at, updated_at) VALUES ($1, $2, 'api', 'active', $3, $3)`,
		memberID, fmt.Sprintf("%08d", n+1), t0)
	if err != nil {
		t.Fatalf("add member %s: %v", memberID, err)
	}
}

// with returns the fixture's ledger under another policy, sharing the clock.
func (f *fixture) with(p ledger.Policy) *ledger.Ledger { return ledger.New(f.db, p, f.clk.Now) }

func (f *fixture) earn(c ledger.Credit) string {
	f.t.Helper()
	id, err := f.earnErr(f.l, c)
	if err != nil {
		f.t.Fatalf("Earn(%+v): %v", c, err)
	}
	return id
}

func (f *fixture) earnErr(l *ledger.Ledger, c ledger.Credit) (id string, err error) {
	err = l.Update(f.ctx, func(tx *sql.Tx, now time.Time) error {
		id, err = l.Earn(f.ctx, tx, c, now)
		return err
	})
	return id, err
}

func (f *fixture) redeem(member string, points int64, txID string) (id string, err error) {
	err = f.l.Update(f.ctx, func(tx *sql.Tx, now time.Time) error {
		id, err = f.l.Redeem(f.ctx, tx, member, points, "paid with points", txID, now)
		return err
	})
	return id, err
}

func (f *fixture) mustRedeem(member string, points int64, txID string) string {
	f.t.Helper()
	id, err := f.redeem(member, points, txID)
	if err != nil {
		f.t.Fatalf("Redeem(%s, %d): %v", member, points, err)
	}
	return id
}

func (f *fixture) reverse(member, txID string, points int64) ledger.Reversal {
	f.t.Helper()
	var r ledger.Reversal
	err := f.l.Update(f.ctx, func(tx *sql.Tx, now time.Time) (err error) {
		r, err = f.l.Reverse(f.ctx, tx, member, txID, points, "returned "+txID, now)
		return err
	})
	if err != nil {
		f.t.Fatalf("Reverse(%s, %s, %d): %v", member, txID, points, err)
	}
	return r
}

func (f *fixture) refund(member, txID string, points int64) int64 {
	f.t.Helper()
	var n int64
	err := f.l.Update(f.ctx, func(tx *sql.Tx, now time.Time) (err error) {
		n, err = f.l.Refund(f.ctx, tx, member, txID, points, "refund "+txID, now)
		return err
	})
	if err != nil {
		f.t.Fatalf("Refund(%s, %s, %d): %v", member, txID, points, err)
	}
	return n
}

func (f *fixture) adjust(member string, points int64) ledger.Entry {
	f.t.Helper()
	e, err := f.l.Adjust(f.ctx, member, points, "goodwill", "ops@shop")
	if err != nil {
		f.t.Fatalf("Adjust(%s, %d): %v", member, points, err)
	}
	return e
}

func (f *fixture) balance(member string) ledger.Balance {
	f.t.Helper()
	b, err := f.l.Balance(f.ctx, member)
	if err != nil {
		f.t.Fatalf("Balance(%s): %v", member, err)
	}
	return b
}

func (f *fixture) wantBalance(member string, want ledger.Balance) {
	f.t.Helper()
	if got := f.balance(member); got != want {
		f.t.Fatalf("balance of %s at +%v = %+v, want %+v", member, f.clk.t.Sub(t0), got, want)
	}
}

// entries returns all of a member's entries, oldest first.
func (f *fixture) entries(member string) []ledger.Entry {
	f.t.Helper()
	var all []ledger.Entry
	q := ledger.Query{Limit: 500}
	for {
		p, err := f.l.Entries(f.ctx, member, q)
		if err != nil {
			f.t.Fatalf("Entries(%s): %v", member, err)
		}
		all = append(all, p.Entries...)
		if p.NextCursor == "" {
			break
		}
		q.Cursor = p.NextCursor
	}
	slices.Reverse(all)
	return all
}

// history is a member's entries, oldest first, as "kind ±points" with any
// shortfall and debt change.
func (f *fixture) history(member string) []string {
	f.t.Helper()
	var out []string
	for _, e := range f.entries(member) {
		s := fmt.Sprintf("%s %+d", e.Kind, e.Points)
		if e.Shortfall != 0 {
			s += fmt.Sprintf(" short %d", e.Shortfall)
		}
		if e.Debt != 0 {
			s += fmt.Sprintf(" debt %+d", e.Debt)
		}
		out = append(out, s)
	}
	return out
}

func (f *fixture) wantHistory(member string, want ...string) {
	f.t.Helper()
	if got := f.history(member); !slices.Equal(got, want) {
		f.t.Fatalf("history of %s:\n got %q\nwant %q", member, got, want)
	}
}

// remaining returns what is left of the lot opened by entryID.
func (f *fixture) remaining(entryID string) int64 {
	f.t.Helper()
	var n int64
	if err := f.db.R.QueryRow(`SELECT remaining FROM points_lots WHERE entry_id = $1`, entryID).Scan(&n); err != nil {
		f.t.Fatalf("lot %s: %v", entryID, err)
	}
	return n
}

func (f *fixture) count(query string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.R.QueryRow(query, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", query, err)
	}
	return n
}

// checkInvariants checks what the package documentation says always holds
// for a member, at the clock's time.
func (f *fixture) checkInvariants(member string) {
	f.t.Helper()
	q := func(query string, args ...any) int64 {
		f.t.Helper()
		var n int64
		if err := f.db.R.QueryRow(query, append([]any{member}, args...)...).Scan(&n); err != nil {
			f.t.Fatalf("%s: %v", query, err)
		}
		return n
	}
	sumEntries := q(`SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM points_entries WHERE member_id = $1`)
	sumLots := q(`SELECT CAST(COALESCE(SUM(remaining), 0) AS BIGINT) FROM points_lots WHERE member_id = $1`)
	dueLots := q(`SELECT CAST(COALESCE(SUM(remaining), 0) AS BIGINT) FROM points_lots WHERE member_id = $1 AND expires_at <= $2`, f.clk.t)
	badLots := q(`SELECT COUNT(*) FROM points_lots o JOIN points_entries e ON e.id = o.entry_id
		WHERE o.member_id = $1 AND e.points - COALESCE((SELECT SUM(points) FROM points_allocations a WHERE a.lot_id = o.entry_id), 0) <> o.remaining`)
	lotless := q(`SELECT COUNT(*) FROM points_entries e WHERE member_id = $1 AND points > 0
		AND NOT EXISTS (SELECT 1 FROM points_lots WHERE entry_id = e.id)`)
	badDebits := q(`SELECT COUNT(*) FROM points_entries e WHERE member_id = $1 AND points <= 0
		AND -points <> COALESCE((SELECT SUM(points) FROM points_allocations WHERE entry_id = e.id), 0)`)
	sumDebt := q(`SELECT CAST(COALESCE(SUM(debt), 0) AS BIGINT) FROM points_entries WHERE member_id = $1`)
	b := f.balance(member)
	switch {
	case sumEntries != sumLots:
		f.t.Fatalf("%s: entries sum to %d, lots hold %d", member, sumEntries, sumLots)
	case b.Available+b.Pending+dueLots != sumEntries:
		f.t.Fatalf("%s: available %d + pending %d + due unexpired %d != entries %d", member, b.Available, b.Pending, dueLots, sumEntries)
	case badLots != 0 || lotless != 0 || badDebits != 0:
		f.t.Fatalf("%s: %d lots disagree with their allocations, %d credits have no lot, %d debits disagree with their allocations",
			member, badLots, lotless, badDebits)
	case b.Debt != sumDebt || b.Debt < 0:
		f.t.Fatalf("%s: account debt %d, entries' debt changes sum to %d", member, b.Debt, sumDebt)
	case b.Debt > 0 && (b.Available != 0 || b.Pending != 0):
		f.t.Fatalf("%s: debt %d while holding points %+v", member, b.Debt, b)
	case b.Available < 0 || b.Pending < 0 || b.Lifetime < 0:
		f.t.Fatalf("%s: negative balance %+v", member, b)
	}
}
