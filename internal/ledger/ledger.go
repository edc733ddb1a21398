// Package ledger keeps members' points: an append-only list of entries per
// member, the balances derived from it, expiry, and what happens to points
// when a purchase is returned. It does not decide how many points a basket
// earns (the checkout engine does) nor talk HTTP.
//
// # Entries and lots
//
// Every change is a new row in points_entries, never an update: earn and
// bonus (from purchases and campaigns), redeem (spending), expire, adjust (an
// operator's correction, or a debt repayment), reverse (points taken back on
// a return) and refund (redeemed points given back on a return or void).
// Entry.Points is signed and is exactly what moved into or out of the
// member's points, so the sum of a member's entries is always what they hold.
//
// A positive entry opens a lot (points_lots) whose remaining amount is the
// only thing that ever changes; a negative entry records in
// points_allocations how much it drew from which lots. Points are spent
// oldest expiry first: lots with an expiry before lots without, then the
// earliest available, then by id.
//
// Earned points are pending until PendingFor has passed (the returns
// window), so a return can usually take them back before they are spent. A
// bonus is pending too when it belongs to a transaction; one without (a
// birthday bonus), refunds and adjustments are available at once. A lot
// expires ExpireAfter after it becomes available (never when 0): the first
// write for the member at or after that time that may spend or take back
// points (every write but EarnAll, the till's earn, which only adds), or
// ExpireDue, writes an expire entry for what is left of it.
//
// # Balance
//
// Available is what is left of lots that are available and not expired,
// Pending what is left of lots not yet available. Both are computed from the
// lots at the time asked, so a lot past its expiry counts for nothing even
// before its expire entry is written, and neither is ever negative. Lifetime
// is the points earned (earn and bonus entries) less what returns took back
// or forgave; spending, expiry, adjustments and refunds do not change it.
// Debt is the points a member owes under ClawbackDebt.
//
// What always holds, per member: the sum of Entry.Points equals the sum of
// the lots' remaining points (so Available + Pending once nothing due is left
// unexpired); each lot's entry points less its allocations equal its
// remaining points; each negative entry's allocations sum to its points; the
// account's debt equals the sum of Entry.Debt; and while Debt > 0, Available
// and Pending are 0.
//
// # Returns
//
// Reverse takes back points a transaction earned, at most what it earned
// less what earlier reversals asked for (so repeating a return takes nothing
// twice); Policy.Clawback decides what happens when they were spent. The
// reverse entry's Points is what was actually taken, its Shortfall what was
// not (forgiven, or owed when Debt is set), and its reason says which. Under
// ClawbackDebt, every later credit (earn, bonus, refund, positive adjust)
// pays the debt first with an adjust entry drawn from the new lot.
//
// Refund gives back points a transaction paid with, at most what it
// redeemed less earlier refunds, as a new lot available at once and expiring
// ExpireAfter from then. It is its own kind, refund, rather than a reverse,
// so that reversals always mean "earnings taken back" in reports.
//
// # Transactions
//
// The write methods take a *sql.Tx so the checkout can record points in the
// same transaction as the basket. Each first updates the member's
// points_accounts row (on PostgreSQL the row lock serialises concurrent
// writers for one member; SQLite has one writer anyway), then (but for
// EarnAll) expires what is due, and runs inside a savepoint: a call that fails, for instance with
// ErrInsufficientPoints, leaves the caller's transaction as it found it and
// still usable. Update, Adjust and ExpireDue open their own transactions.
package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
)

// Kind is the kind of an entry.
type Kind string

// Entry kinds.
const (
	KindEarn    Kind = "earn"    // points for a purchase (pending first)
	KindBonus   Kind = "bonus"   // points from a campaign
	KindRedeem  Kind = "redeem"  // points spent
	KindExpire  Kind = "expire"  // what was left of a lot at its expiry
	KindAdjust  Kind = "adjust"  // an operator's correction, or a debt repayment (no operator)
	KindReverse Kind = "reverse" // earned points taken back on a return
	KindRefund  Kind = "refund"  // redeemed points given back on a return or void
)

// Ranges. Points that move in one entry and points a member holds are
// bounded, so a balance, its sums in SQL and a member's lifetime total stay
// far inside int64 (about 9.2 * 10^18): a member at MaxBalance needs over
// 9 * 10^9 more maximal credits to overflow even their lifetime total.
// docs/api.md ("Ranges") lists them.
const (
	// MaxPoints is the most points one adjustment moves either way, and the
	// most one earn or bonus credit adds (10^9; the checkout engine never
	// earns more for a basket).
	MaxPoints = 1_000_000_000
	// MaxBalance is the most points (available and pending together) a
	// member may hold: a credit that would take them past it is refused
	// with ErrBalanceLimit (10^12).
	MaxBalance = 1_000_000_000_000
)

// Errors callers branch on.
var (
	// ErrBalanceLimit: the credit would take the member past MaxBalance
	// points (422). Returned with the figures in the message; errors.Is
	// matches.
	ErrBalanceLimit = problem.New(problem.Invalid, "balance_limit", "the member would hold more points than allowed")
	// ErrInsufficientPoints: the member has fewer available points than asked
	// (409). Returned with the amounts in the message; errors.Is matches.
	ErrInsufficientPoints = problem.New(problem.Conflict, "insufficient_points", "not enough points available")
	// ErrMemberNotFound: no such member. Same kind and code as
	// member.ErrNotFound, so errors.Is matches either.
	ErrMemberNotFound = problem.New(problem.NotFound, "member_not_found", "member not found")
)

func insufficient(want, have int64) error {
	return &problem.Error{Kind: problem.Conflict, Code: ErrInsufficientPoints.Code, Field: "points",
		Message: fmt.Sprintf("%d points needed, %d available", want, have)}
}

// Entry is one line of a member's points history.
type Entry struct {
	ID            string    `json:"id"`
	MemberID      string    `json:"member_id"`
	Kind          Kind      `json:"kind"`
	Points        int64     `json:"points"` // signed
	Reason        string    `json:"reason"`
	TransactionID string    `json:"transaction_id,omitempty"`
	CampaignID    string    `json:"campaign_id,omitempty"`
	Operator      string    `json:"operator,omitempty"`
	CreatedAt     time.Time `json:"created_at"`
	AvailableAt   time.Time `json:"available_at,omitzero"` // positive entries
	ExpiresAt     time.Time `json:"expires_at,omitzero"`   // positive entries that expire
	// Shortfall is, on a reverse entry, the points asked for but not taken
	// back (forgiven, or owed when Debt is set).
	Shortfall int64 `json:"shortfall,omitempty"`
	// Debt is the change this entry made to the member's debt: the shortfall
	// of a reversal under ClawbackDebt, minus what a repayment paid.
	Debt int64 `json:"debt,omitempty"`

	seq int64
}

// Balance is a member's points at one moment.
type Balance struct {
	Available int64 `json:"available"` // spendable now
	Pending   int64 `json:"pending"`   // earned, not yet spendable
	Lifetime  int64 `json:"lifetime"`  // earned, net of returns
	Debt      int64 `json:"debt"`      // owed after returns (ClawbackDebt)
}

// Credit is points to add for a purchase or a campaign.
type Credit struct {
	MemberID      string
	Kind          Kind // KindEarn (when empty) or KindBonus
	Points        int64
	Reason        string
	TransactionID string
	CampaignID    string
}

// Reversal is the outcome of Reverse.
type Reversal struct {
	Taken     int64 `json:"taken"`     // points taken back
	Shortfall int64 `json:"shortfall"` // points that could not be (forgiven or owed)
}

// Ledger records and reads points.
type Ledger struct {
	db      *store.DB
	p       Policy
	now     func() time.Time
	changes change.Recorder // nil reports nothing
}

// SetChanges makes every write report a points.changed event (its entries)
// to r inside its transaction. Call it before the ledger is used.
func (l *Ledger) SetChanges(r change.Recorder) { l.changes = r }

// New returns a Ledger over db with policy p (zero rates and clawback mean
// the defaults) and a clock (time.Now if nil). It panics if p is invalid:
// validate configuration with Policy.Validate first.
func New(db *store.DB, p Policy, now func() time.Time) *Ledger {
	if err := p.Validate(); err != nil {
		panic("ledger: " + err.Error())
	}
	if now == nil {
		now = time.Now
	}
	return &Ledger{db: db, p: p.withDefaults(), now: now}
}

// Policy returns the policy in force, defaults filled in.
func (l *Ledger) Policy() Policy { return l.p }

// Update runs fn in a write transaction of its own with the ledger's clock
// reading, for callers that have no transaction of their own.
func (l *Ledger) Update(ctx context.Context, fn func(tx *sql.Tx, now time.Time) error) error {
	now := l.clock()
	return l.db.Tx(ctx, func(tx *sql.Tx) error { return fn(tx, now) })
}

func (l *Ledger) clock() time.Time { return utc(l.now()) }

// utc is how times are stored: UTC, to the microsecond PostgreSQL keeps.
func utc(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
