package checkout

import (
	"context"
	"database/sql"
	"fmt"
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

// loadState reads the member's audiences and uses, at most two indexed
// queries.
func loadState(ctx context.Context, q querier, live *campaign.LiveSet, m *member.Member, now time.Time) (*memberState, error) {
	st := &memberState{member: m, now: now, audience: map[string]bool{}, uses: map[string]map[string]int64{}}
	if m == nil || len(live.List) == 0 {
		return st, nil
	}
	// Only ask what a live campaign needs: most programmes run campaigns
	// for all members with no per-member limit, and then a till's evaluate
	// reads neither table.
	fixed, limited := false, false
	for _, l := range live.List {
		fixed = fixed || !l.Dynamic
		limited = limited || l.Spec.Limits.PerMember > 0 || l.Spec.Limits.PerPeriod > 0
	}
	if fixed {
		if err := st.loadAudiences(ctx, q, live); err != nil {
			return nil, err
		}
	}
	if !limited {
		return st, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT campaign_id, period, uses FROM offer_uses WHERE member_id = $1`, st.member.ID)
	if err != nil {
		return nil, fmt.Errorf("member offer uses: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cid, period string
		var n int64
		if err := rows.Scan(&cid, &period, &n); err != nil {
			return nil, err
		}
		if live.ByID[cid] == nil {
			continue
		}
		if st.uses[cid] == nil {
			st.uses[cid] = map[string]int64{}
		}
		st.uses[cid][period] = n
	}
	return st, rows.Err()
}

func (st *memberState) loadAudiences(ctx context.Context, q querier, live *campaign.LiveSet) error {
	rows, err := q.QueryContext(ctx, `SELECT campaign_id, control FROM campaign_members WHERE member_id = $1`, st.member.ID)
	if err != nil {
		return fmt.Errorf("member audiences: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cid string
		var control int
		if err := rows.Scan(&cid, &control); err != nil {
			return err
		}
		if live.ByID[cid] != nil {
			st.audience[cid] = control == 1
		}
	}
	return rows.Err()
}

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
		budget := int64(-1)
		if l.Spec.Limits.Budget > 0 {
			budget = max(l.Spec.Limits.Budget-l.DiscountGiven, 0)
		}
		out[i] = engine.Candidate{Campaign: l.Compiled, Blocked: st.blocked(l, extra), BudgetLeft: budget}
	}
	return out
}
