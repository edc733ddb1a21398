package campaign

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/phone"
	"github.com/perk-platform/perk/internal/sms/compose"
)

// Launched is the outcome of a launch.
type Launched struct {
	Campaign  *Campaign `json:"campaign"`
	Audience  int64     `json:"audience"`
	Control   int64     `json:"control"`
	Announced int64     `json:"announced"` // announcements queued
}

// launchPage is how many members launch reads and writes at a time.
const launchPage = 2000

// Launch fixes the audience (drawing the control group), queues the
// announcement for every treated member who may receive marketing SMS, and
// makes the campaign scheduled or active. It all happens in one
// transaction: a launch that fails leaves a draft and no messages.
// Announcements go through the outbox like any marketing message, so the
// contact policy (quiet hours, frequency caps, opt-outs at send time) applies.
// A campaign of another kind is launched by its kind's launcher
// (RegisterKind).
func (s *Service) Launch(ctx context.Context, cid string) (*Launched, error) {
	if c, err := s.Get(ctx, cid); err != nil {
		return nil, err
	} else if c.Spec.Kind != KindStandard {
		return s.launchKind(ctx, c)
	}
	out := &Launched{}
	now := s.now()
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		c, err := s.inTx(ctx, tx, cid)
		if err != nil {
			return err
		}
		if c.Launched() {
			return ErrNotDraft
		}
		if !c.End.After(now) {
			return ErrEnded
		}
		if err := checkPools(ctx, tx, c.Spec.Benefits); err != nil {
			return err
		}
		loc, err := c.Spec.Location(s.opt.Zone)
		if err != nil {
			return err
		}
		var tmpl *compose.Template
		if c.Spec.Message != "" {
			if tmpl, err = compose.Parse(c.Spec.Name, c.Spec.Message); err != nil {
				return err
			}
		}
		q, err := audienceQuery(s.db.Dialect, cid, c.Spec.Audience, loc, now)
		if err != nil {
			return err
		}
		dynamic := c.dynamic()
		if dynamic && tmpl == nil && c.Spec.ControlGroup == 0 {
			// Nobody to tell, nobody to hold back, no rows to write: count.
			err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM members m WHERE `+strings.Join(q.where, " AND "), q.args...).Scan(&out.Audience)
			if err != nil {
				return fmt.Errorf("audience: %w", err)
			}
			return s.markLaunched(ctx, tx, c, out, now)
		}
		after := ""
		for {
			page, err := audiencePage(ctx, tx, q, after, launchPage)
			if err != nil {
				return err
			}
			if len(page) == 0 {
				break
			}
			after = page[len(page)-1].id
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
				// A dynamic audience (all, open) is whoever is a member at
				// the till: only its control group at launch gets rows (for
				// reports); the treated rows would repeat the members table,
				// a million of them per launch.
				if !dynamic || control {
					rows = append(rows, cid, m.id, boolInt(control), nullString(msgID))
				}
				out.Audience++
			}
			if len(rows) > 0 {
				if err := s.insertMembers(ctx, tx, rows); err != nil {
					return err
				}
			}
		}
		return s.markLaunched(ctx, tx, c, out, now)
	})
	if err != nil {
		return nil, fmt.Errorf("launch campaign: %w", err)
	}
	s.active.invalidate()
	s.opt.Log.InfoContext(ctx, "campaign launched", "campaign", cid, "audience", out.Audience, "control", out.Control, "announced", out.Announced)
	if out.Campaign, err = s.Get(ctx, cid); err != nil {
		return nil, err
	}
	return out, nil
}

func (s *Service) markLaunched(ctx context.Context, tx *sql.Tx, c *Campaign, out *Launched, now time.Time) error {
	status := Active
	if c.Start.After(now) {
		status = Scheduled
	}
	_, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = $2, launched_at = $3, audience_size = $4, control_size = $5,
		version = version + 1, updated_at = $3 WHERE id = $1`, c.ID, string(status), now, out.Audience, out.Control)
	return err
}

func (s *Service) insertMembers(ctx context.Context, tx *sql.Tx, rows []any) error {
	n := len(rows) / 4
	var b strings.Builder
	b.WriteString(`INSERT INTO campaign_members (campaign_id, member_id, control, message_id) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + s.db.Dialect.Placeholders(4*i+1, 4) + ")")
	}
	if _, err := tx.ExecContext(ctx, b.String(), rows...); err != nil {
		return fmt.Errorf("store audience: %w", err)
	}
	return nil
}

// announce renders and queues one member's announcement.
func (s *Service) announce(ctx context.Context, tx *sql.Tx, c *Campaign, tmpl *compose.Template, m audienceMember) (string, error) {
	attrs := map[string]string{}
	_ = json.Unmarshal([]byte(m.attrs), &attrs) // written by the member package, always an object
	return QueueText(ctx, tx, tmpl, Recipient{MemberID: m.id, Phone: m.phone, FirstName: m.first, LastName: m.last, Code: m.code,
		CardToken: m.token, Attributes: attrs}, TextOptions{PublicURL: s.opt.PublicURL, Programme: s.opt.Programme, Links: s.opt.Links,
		Campaign: c.ID, Purpose: "campaign"}, s.now())
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }

func sortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

func maskPhone(p string) string {
	if p == "" {
		return ""
	}
	return phone.Mask(p)
}
