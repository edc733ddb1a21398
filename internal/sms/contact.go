package sms

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/perk-platform/perk/internal/sms/policy"
	"github.com/perk-platform/perk/internal/store"
)

// ContactPolicy is the Policy the sender uses: it reads the member's status,
// time zone, recent marketing and queued campaign messages from the
// database, the campaigns' state from Campaigns, and asks package policy.
type ContactPolicy struct {
	db        *store.DB
	p         *policy.Policy
	campaigns Campaigns // nil: messages are judged as if sent for no campaign
}

// NewContactPolicy returns the contact policy over db. campaigns may be nil
// (no campaign rules: no hold for a paused or ended campaign, no priority).
func NewContactPolicy(db *store.DB, p *policy.Policy, campaigns Campaigns) *ContactPolicy {
	return &ContactPolicy{db: db, p: p, campaigns: campaigns}
}

// queuedMessage is another marketing message waiting for the same member.
type queuedMessage struct {
	id, campaign string
	sending      bool      // claimed by a sender: it may go now
	sendAfter    time.Time // when it is due, if queued
	state        *CampaignState
}

// Check decides one marketing message. Status is read at send time, so a
// member who opted out after the message was queued is not messaged.
//
// A message for a campaign that is paused is held (campaign_paused), one
// for a campaign that is over is held for good (campaign_ended). The member's
// other queued campaign messages that rank ahead of it (campaign priority,
// higher first, then the order they were queued) take the frequency cap's
// room first: the message goes no earlier than they are planned to, and is
// deferred (capped or priority) when they leave no room. A message the policy
// could only send at or after its campaign's end is dropped (too_late).
func (c *ContactPolicy) Check(ctx context.Context, m Message, now time.Time, b *Batch) (Verdict, error) {
	if b == nil {
		b = NewBatch()
	}
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
	if !pm.Marketable {
		return Verdict{Hold: true, Reason: string(policy.OptedOut)}, nil
	}
	var queued []queuedMessage
	if c.campaigns != nil && m.Campaign != "" {
		if queued, err = c.queued(ctx, m); err != nil {
			return Verdict{}, err
		}
	}
	states, err := c.states(ctx, m, queued, b)
	if err != nil {
		return Verdict{}, err
	}
	own, forCampaign := states[m.Campaign]
	switch {
	case forCampaign && own.over(now):
		return Verdict{Hold: true, Reason: ReasonCampaignEnded}, nil
	case forCampaign && own.Paused:
		return Verdict{Hold: true, Reason: ReasonCampaignPaused}, nil
	}
	if c.p.Config().Cap.N > 0 {
		rows, err := c.db.R.QueryContext(ctx, `SELECT sent_at FROM sms_outbox WHERE member_id = $1 AND kind = 'marketing'
			AND status = 'sent' AND sent_at > $2`, m.MemberID, now.Add(-c.p.Config().Cap.Per))
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
		if err := rows.Err(); err != nil {
			return Verdict{}, fmt.Errorf("contact policy: %w", err)
		}
	}
	unrecorded := b.Unrecorded(m.MemberID)
	sentHere := make(map[string]bool, len(unrecorded))
	for _, u := range unrecorded {
		pm.Sent = append(pm.Sent, u.At)
		sentHere[u.ID] = true
	}
	// Plan the messages ranking ahead, best first, each at the earliest time
	// the policy allows after the ones before it; this one comes after all.
	start, behind := now, false
	for _, q := range ahead(queued, own, m.ID, now, sentHere) {
		from := now
		if !q.sending && q.sendAfter.After(now) {
			from = q.sendAfter
		}
		from = maxTime(from, start)
		at := c.p.Decide(from, policy.Marketing, pm).SendAt
		if q.state != nil && !at.Before(q.state.End) {
			continue // it will be dropped as too late: it takes no room
		}
		pm.Sent = append(pm.Sent, at)
		if at.After(start) {
			start, behind = at, true
		}
	}
	d := c.p.Decide(start, policy.Marketing, pm)
	v := Verdict{Until: d.SendAt, Reason: string(d.Reason)}
	switch {
	case forCampaign && !d.SendAt.Before(own.End):
		return Verdict{Drop: true, Reason: ReasonTooLate}, nil
	case !d.SendAt.After(now):
		return Verdict{Reason: string(policy.Ok)}, nil
	case d.Reason == policy.Ok && behind:
		v.Reason = ReasonPriority
	}
	return v, nil
}

// queued reads the member's other marketing messages waiting to go.
func (c *ContactPolicy) queued(ctx context.Context, m Message) ([]queuedMessage, error) {
	rows, err := c.db.R.QueryContext(ctx, `SELECT id, campaign_id, status, send_after FROM sms_outbox
		WHERE member_id = $1 AND kind = 'marketing' AND status IN ('queued', 'sending') AND id <> $2`, m.MemberID, m.ID)
	if err != nil {
		return nil, fmt.Errorf("contact policy: queued messages: %w", err)
	}
	defer rows.Close()
	var out []queuedMessage
	for rows.Next() {
		var q queuedMessage
		var st string
		if err := rows.Scan(&q.id, &q.campaign, &st, &q.sendAfter); err != nil {
			return nil, fmt.Errorf("contact policy: queued messages: %w", err)
		}
		q.sending = st == StatusSending
		out = append(out, q)
	}
	return out, rows.Err()
}

// states returns the states of the campaigns of m and of the queued
// messages, reading from Campaigns only those the batch has not read yet.
func (c *ContactPolicy) states(ctx context.Context, m Message, queued []queuedMessage, b *Batch) (map[string]CampaignState, error) {
	if c.campaigns == nil || m.Campaign == "" {
		return nil, nil
	}
	ids := []string{m.Campaign}
	for _, q := range queued {
		if q.campaign != "" && !slices.Contains(ids, q.campaign) {
			ids = append(ids, q.campaign)
		}
	}
	var missing []string
	for _, id := range ids {
		if _, ok := b.states[id]; !ok && !b.unknown[id] {
			missing = append(missing, id)
		}
	}
	if len(missing) > 0 {
		read, err := c.campaigns.MessageStates(ctx, missing)
		if err != nil {
			return nil, fmt.Errorf("contact policy: campaigns: %w", err)
		}
		for _, id := range missing {
			if s, ok := read[id]; ok {
				b.states[id] = s
			} else {
				b.unknown[id] = true
			}
		}
	}
	states := make(map[string]CampaignState, len(ids))
	for _, id := range ids {
		if s, ok := b.states[id]; ok {
			states[id] = s
		}
	}
	for i := range queued {
		if s, ok := states[queued[i].campaign]; ok {
			queued[i].state = &s
		}
	}
	return states, nil
}

// ahead returns the queued messages that rank ahead of message id (of a
// campaign with state own), best first: a higher priority, or the same
// priority and queued earlier. Those whose campaign is paused or over are
// left out (they will be held, not sent), and so are those already sent in
// this batch (counted among the sends).
func ahead(queued []queuedMessage, own CampaignState, id string, now time.Time, sentHere map[string]bool) []queuedMessage {
	var out []queuedMessage
	prio := func(q queuedMessage) int {
		if q.state == nil {
			return 0
		}
		return q.state.Priority
	}
	for _, q := range queued {
		if sentHere[q.id] || (q.state != nil && (q.state.Paused || q.state.over(now))) {
			continue
		}
		if p := prio(q); p > own.Priority || (p == own.Priority && q.id < id) {
			out = append(out, q)
		}
	}
	slices.SortFunc(out, func(a, b queuedMessage) int {
		return cmp.Or(cmp.Compare(prio(b), prio(a)), cmp.Compare(a.id, b.id))
	})
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}
