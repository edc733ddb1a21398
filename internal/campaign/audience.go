package campaign

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/profile"
	"github.com/perk-platform/perk/internal/store"
)

// InControl reports whether a member is in a campaign's control group. It is
// a hash of the two ids, so the choice is random across members yet stable:
// the same member is held back at launch, at every till and in every report,
// without storing anything for audiences that are not fixed at launch.
func InControl(campaignID, memberID string, percent int) bool {
	if percent <= 0 {
		return false
	}
	h := fnv.New64a()
	h.Write([]byte(campaignID))
	h.Write([]byte{0})
	h.Write([]byte(memberID))
	return h.Sum64()%10000 < uint64(percent)*100
}

// query is a SQL fragment with its arguments, numbered as it is built.
type query struct {
	where []string
	args  []any
}

func (q *query) arg(v any) string {
	q.args = append(q.args, v)
	return fmt.Sprintf("$%d", len(q.args))
}

func (q *query) in(vals []string) string {
	ps := make([]string, len(vals))
	for i, v := range vals {
		ps[i] = q.arg(v)
	}
	return strings.Join(ps, ", ")
}

// audienceQuery builds the WHERE clause selecting a campaign's audience from
// members m. Erased members are never in an audience.
func audienceQuery(d store.Dialect, cid string, a Audience, loc *time.Location, now time.Time) (*query, error) {
	q := &query{}
	q.where = append(q.where, "m.status <> 'erased'")
	switch a.Kind {
	case AudienceAll, AudienceOpen:
		return q, nil
	case AudienceList:
		q.where = append(q.where, "m.id IN (SELECT member_id FROM campaign_lists WHERE campaign_id = "+q.arg(cid)+")")
		return q, nil
	case AudienceFilter:
	default:
		return nil, fmt.Errorf("audience kind %q", a.Kind)
	}
	f := a.Filter
	day := func(s string) time.Time {
		t, _ := time.ParseInLocation("2006-01-02", s, loc) // validated with the spec
		return t.UTC()
	}
	if len(f.Tags) > 0 {
		q.where = append(q.where, d.JSONArrayHasAny("m.tags", q.in(f.Tags)))
	}
	if len(f.HomeStores) > 0 {
		q.where = append(q.where, "m.home_store IN ("+q.in(f.HomeStores)+")")
	}
	if len(f.Statuses) > 0 {
		q.where = append(q.where, "m.status IN ("+q.in(f.Statuses)+")")
	}
	if len(f.Channels) > 0 {
		q.where = append(q.where, "m.channel IN ("+q.in(f.Channels)+")")
	}
	for _, k := range sortedKeys(f.Attributes) {
		q.where = append(q.where, d.JSONField("m.attributes", q.arg(d.JSONFieldKey(k)))+" = "+q.arg(f.Attributes[k]))
	}
	if f.EnrolledAfter != "" {
		q.where = append(q.where, "m.enrolled_at >= "+q.arg(day(f.EnrolledAfter)))
	}
	if f.EnrolledBefore != "" {
		q.where = append(q.where, "m.enrolled_at < "+q.arg(day(f.EnrolledBefore)))
	}
	if f.PointsAtLeast != nil || f.PointsBelow != nil {
		bal := "COALESCE((SELECT SUM(l.remaining) FROM points_lots l WHERE l.member_id = m.id AND l.available_at <= " + q.arg(now) +
			" AND (l.expires_at IS NULL OR l.expires_at > " + q.arg(now) + ")), 0)"
		if f.PointsAtLeast != nil {
			q.where = append(q.where, bal+" >= "+q.arg(*f.PointsAtLeast))
		}
		if f.PointsBelow != nil {
			q.where = append(q.where, bal+" < "+q.arg(*f.PointsBelow))
		}
	}
	const bought = "SELECT 1 FROM baskets b WHERE b.member_id = m.id AND b.status = 'committed'"
	if f.LastPurchaseAfter != "" {
		q.where = append(q.where, "EXISTS ("+bought+" AND b.created_at >= "+q.arg(day(f.LastPurchaseAfter))+")")
	}
	if f.LastPurchaseBefore != "" {
		q.where = append(q.where, "NOT EXISTS ("+bought+" AND b.created_at >= "+q.arg(day(f.LastPurchaseBefore))+")")
	}
	if f.SpendAtLeast > 0 {
		since := now.Add(-time.Duration(f.SpendDays) * 24 * time.Hour)
		q.where = append(q.where, "(SELECT COALESCE(SUM(b.gross - b.discount), 0) FROM baskets b WHERE b.member_id = m.id AND b.status = 'committed' AND b.created_at >= "+
			q.arg(since)+") >= "+q.arg(f.SpendAtLeast))
	}
	if len(f.BoughtSKUs) > 0 || len(f.BoughtCategories) > 0 {
		var or []string
		if len(f.BoughtSKUs) > 0 {
			or = append(or, "bl.sku IN ("+q.in(f.BoughtSKUs)+")")
		}
		if len(f.BoughtCategories) > 0 {
			or = append(or, d.JSONArrayHasAny("bl.categories", q.in(f.BoughtCategories)))
		}
		cond := "EXISTS (SELECT 1 FROM baskets b JOIN basket_lines bl ON bl.basket_id = b.id WHERE b.member_id = m.id AND b.status = 'committed' AND bl.returned_qty < bl.quantity"
		if f.BoughtDays > 0 {
			cond += " AND b.created_at >= " + q.arg(now.Add(-time.Duration(f.BoughtDays)*24*time.Hour))
		}
		q.where = append(q.where, cond+" AND ("+strings.Join(or, " OR ")+"))")
	}
	if len(f.RFMSegments) > 0 {
		q.where = append(q.where, "EXISTS (SELECT 1 FROM member_profiles p WHERE p.member_id = m.id AND p.segment IN ("+q.in(f.RFMSegments)+"))")
	}
	if a := f.Affinity; a != nil {
		kind, name := "category", a.Category
		if a.Brand != "" {
			kind, name = "brand", a.Brand
		}
		q.where = append(q.where, "EXISTS (SELECT 1 FROM member_affinities a WHERE a.member_id = m.id AND a.kind = "+q.arg(kind)+
			" AND a.name = "+q.arg(name)+" AND a.share >= "+q.arg(a.AtLeast)+")")
	}
	if f.Overdue != nil {
		cond := "EXISTS (SELECT 1 FROM member_profiles p WHERE p.member_id = m.id AND " + profile.OverdueSQL("p", q.arg(now.Unix())) + ")"
		if !*f.Overdue {
			cond = "NOT " + cond
		}
		q.where = append(q.where, cond)
	}
	return q, nil
}

// Preview is an audience's size and a few of its members, before launch.
type Preview struct {
	Count   int64          `json:"count"`
	Control int64          `json:"control"` // held back: exact for a launched campaign, expected before
	Sample  []SampleMember `json:"sample"`
	Reach   int64          `json:"reachable"` // members in the audience who may receive marketing SMS now
}

// SampleMember is an audience member shown in a preview; the phone is masked.
type SampleMember struct {
	ID    string `json:"id"`
	Code  string `json:"code"`
	Name  string `json:"name,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// Preview counts and samples the audience of a campaign as it stands now.
func (s *Service) Preview(ctx context.Context, cid string, sample int) (*Preview, error) {
	c, err := s.Get(ctx, cid)
	if err != nil {
		return nil, err
	}
	loc, err := c.Spec.Location(s.opt.Zone)
	if err != nil {
		return nil, err
	}
	if sample <= 0 || sample > 100 {
		sample = 10
	}
	p := &Preview{Sample: []SampleMember{}}
	if c.Launched() && !c.dynamic() {
		err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(control), 0),
			COALESCE(SUM(CASE WHEN cm.control = 0 AND m.status = 'active' THEN 1 ELSE 0 END), 0)
			FROM campaign_members cm JOIN members m ON m.id = cm.member_id WHERE cm.campaign_id = $1`, cid).Scan(&p.Count, &p.Control, &p.Reach)
		if err != nil {
			return nil, fmt.Errorf("preview: %w", err)
		}
	} else {
		q, err := audienceQuery(s.db.Dialect, cid, c.Spec.Audience, loc, s.now())
		if err != nil {
			return nil, err
		}
		err = s.db.R.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN m.status = 'active' THEN 1 ELSE 0 END), 0)
			FROM members m WHERE `+strings.Join(q.where, " AND "), q.args...).Scan(&p.Count, &p.Reach)
		if err != nil {
			return nil, fmt.Errorf("preview: %w", err)
		}
		p.Control = p.Count * int64(c.Spec.ControlGroup) / 100
		p.Reach -= p.Reach * int64(c.Spec.ControlGroup) / 100
	}
	q, err := audienceQuery(s.db.Dialect, cid, c.Spec.Audience, loc, s.now())
	if err != nil {
		return nil, err
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT m.id, m.code, m.first_name, m.last_name, COALESCE(m.phone, '')
		FROM members m WHERE `+strings.Join(q.where, " AND ")+` ORDER BY m.id LIMIT `+fmt.Sprint(sample), q.args...)
	if err != nil {
		return nil, fmt.Errorf("preview sample: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var m SampleMember
		var first, last, ph string
		if err := rows.Scan(&m.ID, &m.Code, &first, &last, &ph); err != nil {
			return nil, err
		}
		m.Name = strings.TrimSpace(first + " " + last)
		m.Phone = maskPhone(ph)
		p.Sample = append(p.Sample, m)
	}
	return p, rows.Err()
}

// audienceMember is what launch needs of a member.
type audienceMember struct {
	id, code, phone, first, last, status, attrs, token string
}

// audiencePage reads the next page of the audience after the id after.
func audiencePage(ctx context.Context, tx *sql.Tx, q *query, after string, n int) ([]audienceMember, error) {
	args := append(append([]any{}, q.args...), after)
	where := strings.Join(q.where, " AND ") + fmt.Sprintf(" AND m.id > $%d", len(args))
	rows, err := tx.QueryContext(ctx, `SELECT m.id, m.code, COALESCE(m.phone, ''), m.first_name, m.last_name, m.status, m.attributes,
		COALESCE((SELECT t.token FROM card_tokens t WHERE t.member_id = m.id AND t.revoked_at IS NULL ORDER BY t.created_at DESC LIMIT 1), '')
		FROM members m WHERE `+where+` ORDER BY m.id LIMIT `+fmt.Sprint(n), args...)
	if err != nil {
		return nil, fmt.Errorf("audience: %w", err)
	}
	defer rows.Close()
	var out []audienceMember
	for rows.Next() {
		var m audienceMember
		if err := rows.Scan(&m.id, &m.code, &m.phone, &m.first, &m.last, &m.status, &m.attrs, &m.token); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// dynamic reports whether the audience is whoever is a member at the time
// (all, open) rather than fixed at launch. A campaign of another kind
// stores the audience its launcher served, whatever the audience's kind.
func (c *Campaign) dynamic() bool {
	return c.Spec.Kind == KindStandard && (c.Spec.Audience.Kind == AudienceAll || c.Spec.Audience.Kind == AudienceOpen)
}

// Audience returns the ids of the members a campaign is for now, with
// whether each is in the control group: the stored audience of a launched
// campaign, or the one a launch would fix now. nil means every member (an
// audience of kind all or open), whose control group is InControl.
func (s *Service) Audience(ctx context.Context, c *Campaign) (map[string]bool, error) {
	if c.dynamic() {
		return nil, nil
	}
	if c.Launched() {
		return s.collect(ctx, `SELECT member_id, control FROM campaign_members WHERE campaign_id = $1`, c.ID)
	}
	loc, err := c.Spec.Location(s.opt.Zone)
	if err != nil {
		return nil, err
	}
	q, err := audienceQuery(s.db.Dialect, c.ID, c.Spec.Audience, loc, s.now())
	if err != nil {
		return nil, err
	}
	ids, err := s.collect(ctx, `SELECT m.id, 0 FROM members m WHERE `+strings.Join(q.where, " AND "), q.args...)
	if err != nil {
		return nil, err
	}
	for id := range ids {
		ids[id] = InControl(c.ID, id, c.Spec.ControlGroup)
	}
	return ids, nil
}

func (s *Service) collect(ctx context.Context, query string, args ...any) (map[string]bool, error) {
	rows, err := s.db.R.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("audience: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		var control int
		if err := rows.Scan(&id, &control); err != nil {
			return nil, err
		}
		out[id] = control == 1
	}
	return out, rows.Err()
}
