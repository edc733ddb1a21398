package campaign

import (
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/phone"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/sms/compose"
)

// Assigned is the outcome of Assign.
type Assigned struct {
	Added     int64 `json:"added"`     // members new to the audience
	Already   int64 `json:"already"`   // members already in it, left as they were
	Control   int64 `json:"control"`   // of the added, held back as the control group
	Announced int64 `json:"announced"` // announcements queued to added members
}

// MaxAssign bounds the members one Assign call takes, like the other bulk
// calls of the API.
const MaxAssign = 10_000

// ErrNotAssignable: members can be put into a launched campaign only when
// its audience is an uploaded list; an audience of all members has them
// already, and a filter's audience is what the filter chose at launch.
var ErrNotAssignable = problem.New(problem.Conflict, "audience_not_a_list",
	"members can be added only to a campaign whose audience is a list")

// Assign puts members into a launched campaign whose audience is a list,
// the way a CRM hands Perk the shoppers it chose: each new one is drawn for
// the control group as at launch (the same stable draw), and the treated
// ones who may receive marketing are sent the campaign's announcement if
// announce is set. Members already in the audience are left as they are, so
// a CRM may send the same assignment twice. memberIDs are internal ids;
// erased members are skipped. It all happens in one transaction.
func (s *Service) Assign(ctx context.Context, cid string, memberIDs []string, announce bool) (*Assigned, error) {
	if len(memberIDs) > MaxAssign {
		return nil, problem.InvalidField("members", "too_many", nil, "at most %d members a call, not %d", MaxAssign, len(memberIDs))
	}
	ids := slices.Compact(slices.Sorted(slices.Values(memberIDs)))
	out := &Assigned{}
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		c, err := s.inTx(ctx, tx, cid)
		if err != nil {
			return err
		}
		if c.Spec.Audience.Kind != AudienceList {
			return ErrNotAssignable
		}
		if !c.Launched() {
			return problem.New(problem.Conflict, "campaign_not_launched",
				"the campaign is a draft: upload its list (PUT /v1/campaigns/{id}/audience-list) and launch it")
		}
		if c.Status == Ended || !c.End.After(s.now()) {
			return ErrEnded
		}
		var tmpl *compose.Template
		if announce && c.Spec.Message != "" {
			if tmpl, err = compose.Parse(c.Spec.Name, c.Spec.Message); err != nil {
				return err
			}
		}
		for start := 0; start < len(ids); start += launchPage {
			part := ids[start:min(start+launchPage, len(ids))]
			q := &query{}
			q.where = append(q.where, "m.status <> 'erased'", "m.id IN ("+q.in(part)+")",
				"m.id NOT IN (SELECT member_id FROM campaign_members WHERE campaign_id = "+q.arg(cid)+")")
			page, err := audiencePage(ctx, tx, q, "", len(part))
			if err != nil {
				return err
			}
			out.Already += int64(len(part) - len(page))
			rows := make([]any, 0, 4*len(page))
			for _, m := range page {
				control := InControl(cid, m.id, c.Spec.ControlGroup)
				msgID := ""
				if control {
					out.Control++
				} else if tmpl != nil && m.status == string(member.StatusActive) && m.phone != "" {
					if msgID, err = s.announce(ctx, tx, c, tmpl, m); err != nil {
						return fmt.Errorf("announce to %s: %w", phone.Mask(m.phone), err)
					}
					out.Announced++
				}
				rows = append(rows, cid, m.id, boolInt(control), nullString(msgID))
				out.Added++
			}
			if len(rows) > 0 {
				if err := s.insertMembers(ctx, tx, rows); err != nil {
					return err
				}
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE campaigns SET audience_size = audience_size + $2, control_size = control_size + $3,
			updated_at = $4 WHERE id = $1`, cid, out.Added, out.Control, s.now())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("assign to campaign %s: %w", cid, err)
	}
	s.opt.Log.InfoContext(ctx, "members assigned", "campaign", cid, "added", out.Added, "already", out.Already,
		"control", out.Control, "announced", out.Announced)
	return out, nil
}
