package funnel

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/perk-platform/perk/internal/event"
)

// DefaultWindow is the buy pipeline's conversion window.
const DefaultWindow = 7 * 24 * time.Hour

// controlEntry is the step-1 event a control member is given at the
// campaign's launch: held back, they get no text to enter by, so they enter
// when the treated could first have (computed, never stored).
const controlEntry = "campaign_control"

// Campaign computes a campaign's buy pipeline (BuyPipeline) from its launch
// to now, as two groups: "treated", the members who were sent the text,
// entering when it was delivered; and "control", the members held back,
// entering at the launch and going on through the same later steps, so the
// two purchase rates compare like with like.
func (s *Service) Campaign(ctx context.Context, campaignID string, window time.Duration) (Report, error) {
	var launched sql.NullTime
	err := s.db.R.QueryRowContext(ctx, `SELECT launched_at FROM campaigns WHERE id = $1`, campaignID).Scan(&launched)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !launched.Valid) {
		return Report{}, ErrNotLaunched
	}
	if err != nil {
		return Report{}, fmt.Errorf("funnel: campaign %s: %w", campaignID, err)
	}
	from, to := event.Normal(launched.Time), event.Normal(s.now())
	def := BuyPipeline(campaignID, window)
	treated, err := s.Run(ctx, def, from, to)
	if err != nil {
		return Report{}, err
	}
	control, err := s.control(ctx, campaignID, def, from)
	if err != nil {
		return Report{}, err
	}
	r := treated
	r.Breakdown = "group"
	r.Groups = nil
	for _, g := range []struct {
		key string
		rep Report
	}{{"treated", treated}, {"control", control}} {
		grp := g.rep.Groups[0]
		grp.Key = g.key
		r.Groups = append(r.Groups, grp)
	}
	return r, nil
}

// control runs def's later steps for the control members, each entering at
// the launch.
func (s *Service) control(ctx context.Context, campaignID string, def Definition, launch time.Time) (Report, error) {
	cdef := def
	cdef.Steps = append([]Step{{Name: def.Steps[0].Name, Types: []string{controlEntry}}}, def.Steps[1:]...)
	c := NewCounter(cdef, launch, launch.Add(time.Nanosecond))
	entry := event.Event{Type: controlEntry, Time: launch}
	types := cdef.Types()[1:]
	args := []any{campaignID, launch, launch.Add(time.Duration(def.Window))}
	for _, t := range types {
		args = append(args, t)
	}
	d := s.db.Dialect
	q := `SELECT cm.member_id, e.id, e.type, e.occurred_at, e.channel, e.campaign, e.store_id, e.properties
		FROM campaign_members cm JOIN events e ON e.member_id = cm.member_id
		WHERE cm.campaign_id = ` + d.Placeholders(1, 1) + ` AND cm.control = 1
		AND e.occurred_at >= ` + d.Placeholders(2, 1) + ` AND e.occurred_at <= ` + d.Placeholders(3, 1) + `
		AND e.type IN (` + d.Placeholders(4, len(types)) + `)
		ORDER BY cm.member_id, e.occurred_at, e.id`
	seen := map[string]bool{}
	err := stream(ctx, s.db.R, q, args, func(person string, evs []event.Event) {
		seen[person] = true
		c.Add(append([]event.Event{entry}, evs...))
	})
	if err != nil {
		return Report{}, fmt.Errorf("funnel: control of %s: %w", campaignID, err)
	}
	// Control members with none of the events still entered.
	rows, err := s.db.R.QueryContext(ctx, `SELECT member_id FROM campaign_members WHERE campaign_id = $1 AND control = 1`, campaignID)
	if err != nil {
		return Report{}, fmt.Errorf("funnel: control of %s: %w", campaignID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			return Report{}, fmt.Errorf("funnel: control of %s: %w", campaignID, err)
		}
		if !seen[m] {
			c.Add([]event.Event{entry})
		}
	}
	if err := rows.Err(); err != nil {
		return Report{}, err
	}
	return c.Report(), nil
}
