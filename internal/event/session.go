package event

import (
	"context"
	"slices"
	"strconv"
	"time"
)

// Session is a stretch of one person's activity across channels, ended by
// a gap of inactivity (Options.SessionGap). Sessions are computed from the
// stream when read, not stored, so an identity merge reassigns them with the
// events and a changed gap applies to the past as well.
type Session struct {
	ID        string    `json:"id"` // "ses_" + the seq of its first event: stable while history stays
	Start     time.Time `json:"start"`
	End       time.Time `json:"end"` // the time of its last event
	Channels  []Channel `json:"channels"`
	Entry     Entry     `json:"entry"`
	Events    int       `json:"events"`
	Converted bool      `json:"converted"` // a purchase online or at a till
	// Open is true while the gap has not yet passed since End.
	Open bool `json:"open"`
}

// Entry is what opened a session: its first event, and the campaign and
// link or page it came through.
type Entry struct {
	Type     string  `json:"type"`
	Channel  Channel `json:"channel"`
	Campaign string  `json:"campaign,omitempty"`
	EventID  string  `json:"event_id"`
}

// Sessionize groups events (in time order) into sessions: a shopper's event
// more than gap after the previous one starts a new session. Events done to
// the shopper (a message sent or delivered, a merge) neither open nor extend
// one. now decides whether the last session is still open.
func Sessionize(evs []Event, gap time.Duration, now time.Time) []Session {
	var out []Session
	var cur *Session
	for i := range evs {
		e := &evs[i]
		if !e.Shopper() {
			continue
		}
		if cur == nil || e.Time.Sub(cur.End) > gap {
			out = append(out, Session{ID: "ses_" + strconv.FormatInt(e.Seq, 10), Start: e.Time,
				Entry: Entry{Type: e.Type, Channel: e.Channel, Campaign: e.Campaign, EventID: e.EventID}})
			cur = &out[len(out)-1]
		}
		cur.End = e.Time
		cur.Events++
		if !slices.Contains(cur.Channels, e.Channel) {
			cur.Channels = append(cur.Channels, e.Channel)
		}
		if e.Purchase() {
			cur.Converted = true
		}
	}
	if cur != nil {
		cur.Open = now.Sub(cur.End) <= gap
	}
	return out
}

// maxSessionEvents bounds the history a sessions request reads.
const maxSessionEvents = 20000

// Sessions returns a member's sessions, newest first, at most limit.
func (s *Service) Sessions(ctx context.Context, memberID string, limit int) ([]Session, error) {
	evs, err := s.MemberEvents(ctx, memberID, maxSessionEvents)
	if err != nil {
		return nil, err
	}
	all := Sessionize(evs, s.opt.SessionGap, s.opt.Now())
	slices.Reverse(all)
	if limit > 0 && len(all) > limit {
		all = all[:limit]
	}
	if all == nil {
		all = []Session{}
	}
	return all, nil
}
