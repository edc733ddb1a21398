package sms

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/perk-platform/perk/internal/sms/policy"
	"github.com/perk-platform/perk/internal/store"
)

// ContactPolicy is the Policy the sender uses: it reads the member's status,
// time zone and recent marketing from the database and asks package policy.
type ContactPolicy struct {
	db *store.DB
	p  *policy.Policy
}

// NewContactPolicy returns the contact policy over db.
func NewContactPolicy(db *store.DB, p *policy.Policy) *ContactPolicy {
	return &ContactPolicy{db: db, p: p}
}

// Check decides one marketing message. Status is read at send time, so a
// member who opted out after the message was queued is not messaged.
func (c *ContactPolicy) Check(ctx context.Context, m Message, now time.Time, unrecorded []time.Time) (Verdict, error) {
	if m.MemberID == "" {
		return Verdict{Hold: true, Reason: string(policy.OptedOut)}, nil // marketing goes to members only
	}
	var status, zone string
	err := c.db.R.QueryRowContext(ctx, `SELECT status, timezone FROM members WHERE id = $1`, m.MemberID).Scan(&status, &zone)
	if errors.Is(err, sql.ErrNoRows) {
		return Verdict{Hold: true, Reason: string(policy.OptedOut)}, nil
	}
	if err != nil {
		return Verdict{}, fmt.Errorf("contact policy: %w", err)
	}
	pm := policy.Member{Marketable: status == "active", TimeZone: zone}
	if per := c.p.Config().Cap.Per; c.p.Config().Cap.N > 0 && pm.Marketable {
		rows, err := c.db.R.QueryContext(ctx, `SELECT sent_at FROM sms_outbox WHERE member_id = $1 AND kind = 'marketing'
			AND status = 'sent' AND sent_at > $2`, m.MemberID, now.Add(-per))
		if err != nil {
			return Verdict{}, fmt.Errorf("contact policy: %w", err)
		}
		for rows.Next() {
			var t time.Time
			if err := rows.Scan(&t); err != nil {
				rows.Close()
				return Verdict{}, fmt.Errorf("contact policy: %w", err)
			}
			pm.Sent = append(pm.Sent, t)
		}
		rows.Close()
		pm.Sent = append(pm.Sent, unrecorded...)
	}
	d := c.p.Decide(now, policy.Marketing, pm)
	switch {
	case d.Final:
		return Verdict{Hold: true, Reason: string(d.Reason)}, nil
	case d.Reason == policy.Ok:
		return Verdict{Reason: string(d.Reason)}, nil
	}
	return Verdict{Until: d.SendAt, Reason: string(d.Reason)}, nil
}
