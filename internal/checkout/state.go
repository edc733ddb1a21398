package checkout

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
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
	st := &memberState{member: m, now: now, audience: map[string]bool{}, uses: map[string]map[string]int64{}}
	if m == nil || len(live.List) == 0 {
		return st, nil
	}
	// Only ask what a live campaign needs: most programmes run campaigns
	// for all members with no per-member limit, and then a till's evaluate
	// reads neither table.
	var query string
	switch {
	case live.AnyFixed && live.AnyLimited:
		query = stateAudiences + ` UNION ALL ` + stateUses
	case live.AnyFixed:
		query = stateAudiences
	case live.AnyLimited:
		query = stateUses
	default:
		return st, nil
	}
	rows, err := q.QueryContext(ctx, query, st.member.ID)
	if err != nil {
		return nil, fmt.Errorf("member audiences and offer uses: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cid, period string
		var use bool
		var n int64
		if err := rows.Scan(&cid, &use, &n, &period); err != nil {
			return nil, fmt.Errorf("member audiences and offer uses: %w", err)
		}
		switch {
		case live.ByID[cid] == nil:
		case !use:
			st.audience[cid] = n == 1
		default:
			if st.uses[cid] == nil {
				st.uses[cid] = map[string]int64{}
			}
			st.uses[cid][period] = n
		}
	}
	return st, rows.Err()
}

// The member's state, as rows of (campaign, is a use count, control or
// uses, period).
const (
	stateAudiences = `SELECT campaign_id, 1 = 0, control, '' FROM campaign_members WHERE member_id = $1`
	stateUses      = `SELECT campaign_id, 1 = 1, uses, period FROM offer_uses WHERE member_id = $1`
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
