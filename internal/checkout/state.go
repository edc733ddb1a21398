package checkout

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/member"
)

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// memberState is what decides a member's right to each live campaign: the
// fixed audiences they are in and the uses they have made.
type memberState struct {
	member   *member.Member
	now      time.Time
	audience map[string]bool             // campaign id -> in control group
	uses     map[string]map[string]int64 // campaign id -> period ("" = ever) -> uses
}

// loadState reads the member's audiences and uses: one indexed query, and
// none when no live campaign has a fixed audience or a per-member limit.
func loadState(ctx context.Context, q querier, live *campaign.LiveSet, m *member.Member, now time.Time) (*memberState, error) {
	st, _, err := readState(ctx, q, live, m, now, time.Time{}, false)
	return st, err
}

// loadStateAndPoints is loadState with the member's available and pending
// points at pointsAt (ledger.SpendableColumns) read in the same statement:
// the till's evaluate needs both, and each statement of it is a round trip
// on PostgreSQL and a read transaction on SQLite.
func loadStateAndPoints(ctx context.Context, q querier, live *campaign.LiveSet, m *member.Member, now, pointsAt time.Time) (*memberState, spendable, error) {
	return readState(ctx, q, live, m, now, pointsAt, true)
}

// spendable is a member's available and pending points.
type spendable struct{ available, pending int64 }

func readState(ctx context.Context, q querier, live *campaign.LiveSet, m *member.Member, now, pointsAt time.Time, points bool) (*memberState, spendable, error) {
	st := &memberState{member: m, now: now, audience: map[string]bool{}, uses: map[string]map[string]int64{}}
	var pts spendable
	if m == nil {
		return st, pts, nil
	}
	// Only ask what a live campaign needs: most programmes run campaigns
	// for all members with no per-member limit, and then a till's evaluate
	// reads neither table.
	var parts []string
	args := []any{m.ID}
	if live.AnyFixed && len(live.List) > 0 {
		parts = append(parts, stateAudiences)
	}
	if live.AnyLimited && len(live.List) > 0 {
		parts = append(parts, stateUses)
	}
	if points {
		parts = append(parts, statePoints)
		args = append(args, pointsAt)
	}
	if len(parts) == 0 {
		return st, pts, nil
	}
	rows, err := q.QueryContext(ctx, strings.Join(parts, ` UNION ALL `), args...)
	if err != nil {
		return nil, pts, fmt.Errorf("member audiences and offer uses: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cid, period string
		var kind int
		var n, n2 int64
		if err := rows.Scan(&cid, &kind, &period, &n, &n2); err != nil {
			return nil, pts, fmt.Errorf("member audiences and offer uses: %w", err)
		}
		switch {
		case kind == rowPoints:
			pts = spendable{available: n, pending: n2}
		case live.ByID[cid] == nil:
		case kind == rowAudience:
			st.audience[cid] = n == 1
		default:
			if st.uses[cid] == nil {
				st.uses[cid] = map[string]int64{}
			}
			st.uses[cid][period] = n
		}
	}
	return st, pts, rows.Err()
}

// The member's state, as rows of (campaign, kind, period, control or uses
// or available points, pending points).
const (
	rowAudience = 0
	rowUse      = 1
	rowPoints   = 2
)

var (
	stateAudiences = `SELECT campaign_id, 0, '', control, 0 FROM campaign_members WHERE member_id = $1`
	stateUses      = `SELECT campaign_id, 1, period, uses, 0 FROM offer_uses WHERE member_id = $1`
	statePoints    = `SELECT '', 2, '', ` + ledger.SpendableColumns("$1", "$2")
)

// blocked says why the member may not have campaign l now, "" if they may.
// extra holds campaigns a commit found exhausted after the set was cached.
func (st *memberState) blocked(l *campaign.Live, extra map[string]engine.Reason) engine.Reason {
	if r, ok := extra[l.ID]; ok {
		return r
	}
	if l.Status == campaign.Paused {
		return engine.Paused
	}
	lim := l.Spec.Limits
	if lim.MaxRedemptions > 0 && l.Redemptions >= lim.MaxRedemptions {
		return engine.LimitReached
	}
	if st.member == nil {
		return "" // the engine keeps members-only campaigns from anonymous baskets
	}
	if l.Dynamic {
		if campaign.InControl(l.ID, st.member.ID, l.Spec.ControlGroup) {
			return engine.ControlGroup
		}
	} else {
		control, in := st.audience[l.ID]
		if !in {
			return engine.NotInAudience
		}
		if control {
			return engine.ControlGroup
		}
	}
	if lim.PerMember > 0 && st.uses[l.ID][""] >= int64(lim.PerMember) {
		return engine.LimitReached
	}
	if lim.PerPeriod > 0 && st.uses[l.ID][campaign.PeriodKey(lim.Period, st.now, l.Location)] >= int64(lim.PerPeriod) {
		return engine.LimitReached
	}
	return ""
}

func (st *memberState) candidates(live *campaign.LiveSet, extra map[string]engine.Reason) []engine.Candidate {
	out := make([]engine.Candidate, len(live.List))
	for i, l := range live.List {
		out[i] = st.candidate(l, extra)
	}
	return out
}

func (st *memberState) candidate(l *campaign.Live, extra map[string]engine.Reason) engine.Candidate {
	budget := int64(-1)
	if l.Spec.Limits.Budget > 0 {
		budget = max(l.Spec.Limits.Budget-l.DiscountGiven, 0)
	}
	return engine.Candidate{Campaign: l.Compiled, Blocked: st.blocked(l, extra), BudgetLeft: budget}
}

// candidatesFor is candidates narrowed by the live set's index to the
// campaigns that can apply to b: without an explanation to give, the engine
// answers the same for them as for the whole set, at a cost that follows
// the campaigns the basket touches, not the number live. The member's fixed
// audiences let in the gated campaigns.
func (st *memberState) candidatesFor(live *campaign.LiveSet, b *engine.Basket, extra map[string]engine.Reason) []engine.Candidate {
	var gated []int32
	for cid := range st.audience {
		if p, ok := live.Pos[cid]; ok {
			gated = append(gated, p)
		}
	}
	sel := selectPool.Get().(*selection)
	defer selectPool.Put(sel)
	sel.seen = slices.Grow(sel.seen[:0], (len(live.List)+63)/64)[:(len(live.List)+63)/64]
	sel.pos = live.Index.Select(b, gated, sel.seen, sel.pos[:0])
	out := make([]engine.Candidate, len(sel.pos))
	for k, i := range sel.pos {
		out[k] = st.candidate(live.List[i], extra)
	}
	return out
}

// selection is candidatesFor's scratch space, reused between calls.
type selection struct {
	seen []uint64 // all zero between calls (Select clears what it sets)
	pos  []int32
}

var selectPool = sync.Pool{New: func() any { return new(selection) }}
