package campaign

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/sms"
)

// Corrections an operator makes to a live campaign from its variance view
// (docs/variance.md), besides Pause and Resume.

// Errors of the corrections.
var (
	ErrNotLater   = problem.InvalidField("end", "end_not_later", nil, "the new end must be later than the current end")
	ErrNotHigher  = problem.InvalidField("budget", "budget_not_higher", nil, "the new budget must be higher than the current budget")
	ErrNoBudget   = problem.New(problem.Conflict, "campaign_no_budget", "the campaign has no budget to raise")
	ErrNotRunning = problem.New(problem.Conflict, "campaign_not_active", "only an active campaign can resend its announcement")
)

// ExtendEnd moves a launched campaign's end later, keeping everything else:
// a campaign behind its norm gets more time. An ended campaign is not
// brought back.
func (s *Service) ExtendEnd(ctx context.Context, cid string, end time.Time) (*Campaign, error) {
	c, err := s.Get(ctx, cid)
	if err != nil {
		return nil, err
	}
	if !c.Launched() {
		return nil, ErrNotLaunched
	}
	if !end.After(c.End) {
		return nil, ErrNotLater
	}
	loc, err := c.Spec.Location(s.opt.Zone)
	if err != nil {
		return nil, err
	}
	spec := c.Spec
	spec.End = end.In(loc).Format(time.RFC3339)
	return s.Update(ctx, cid, spec, c.Version)
}

// RaiseBudget raises a launched campaign's budget (total discount, minor
// units): a campaign redeeming above its norm would otherwise stop early.
func (s *Service) RaiseBudget(ctx context.Context, cid string, budget int64) (*Campaign, error) {
	c, err := s.Get(ctx, cid)
	if err != nil {
		return nil, err
	}
	if !c.Launched() {
		return nil, ErrNotLaunched
	}
	if c.Spec.Limits.Budget == 0 {
		return nil, ErrNoBudget
	}
	if budget <= c.Spec.Limits.Budget {
		return nil, ErrNotHigher
	}
	spec := c.Spec
	spec.Limits.Budget = budget
	return s.Update(ctx, cid, spec, c.Version)
}

// ResendUndelivered queues the announcement again, with the same text and
// to the same number, for each member of an active campaign none of whose
// announcements was delivered or is still on its way (every one failed, or
// its receipt said failed or expired). The contact policy judges the new
// messages as it judges any. It returns how many it queued.
func (s *Service) ResendUndelivered(ctx context.Context, cid string) (int, error) {
	n := 0
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		c, err := s.inTx(ctx, tx, cid)
		if err != nil {
			return err
		}
		if c.Status != Active {
			return ErrNotRunning
		}
		rows, err := tx.QueryContext(ctx, `SELECT o.member_id, o.to_phone, o.body FROM sms_outbox o
			WHERE o.campaign_id = $1 AND o.member_id IS NOT NULL AND o.to_phone IS NOT NULL
			AND (o.status = 'failed' OR (o.status = 'sent' AND o.delivery_state IN ('failed', 'expired')))
			AND NOT EXISTS (SELECT 1 FROM sms_outbox p WHERE p.campaign_id = o.campaign_id AND p.member_id = o.member_id
				AND (p.status IN ('queued', 'sending', 'held') OR (p.status = 'sent' AND p.delivery_state NOT IN ('failed', 'expired'))))
			ORDER BY o.member_id, o.created_at DESC`, cid)
		if err != nil {
			return err
		}
		var out []sms.Outbound
		seen := map[string]bool{}
		for rows.Next() {
			var o sms.Outbound
			if err := rows.Scan(&o.MemberID, &o.To, &o.Body); err != nil {
				rows.Close()
				return err
			}
			if seen[o.MemberID] {
				continue
			}
			seen[o.MemberID] = true
			o.Kind, o.Purpose, o.Campaign = sms.Marketing, "campaign", cid
			out = append(out, o)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		n = len(out)
		return sms.EnqueueMany(ctx, tx, s.db.Dialect, out, s.now())
	})
	if err != nil {
		return 0, fmt.Errorf("resend campaign %s: %w", cid, err)
	}
	return n, nil
}
