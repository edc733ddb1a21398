// Package router answers inbound SMS: it recognises the keyword, acts on it
// through the member service (enrol, opt out, re-subscribe, confirm, re-send
// the code) and queues the reply. Every inbound message is stored, whether
// it was understood or not, so the operator sees what shoppers wrote.
package router

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/id"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/phone"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/sms/keyword"
	"github.com/perk-platform/perk/internal/store"
)

// Options configure the replies.
type Options struct {
	Programme   string         // "Perk Rewards"
	HelpContact string         // "help@example.com or 0800 000 000"
	Frequency   string         // "Up to 3 msgs/week"
	Keywords    *keyword.Table // keyword.Default() if nil
	Now         func() time.Time
	Log         *slog.Logger
	Wake        func() // called after a reply is queued (the sender's Wake)
}

// Router handles inbound messages.
type Router struct {
	db      *store.DB
	members *member.Service
	opt     Options
}

// New returns a router.
func New(db *store.DB, members *member.Service, opt Options) *Router {
	if opt.Keywords == nil {
		opt.Keywords = keyword.Default()
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Wake == nil {
		opt.Wake = func() {}
	}
	return &Router{db: db, members: members, opt: opt}
}

// Result says what the router made of a message.
type Result struct {
	Keyword  keyword.Keyword
	MemberID string
	Replied  bool
}

// unknownReplyEvery limits the "did not understand" reply per number.
const unknownReplyEvery = 24 * time.Hour

// Handle stores an inbound message, acts on it and queues the reply.
func (r *Router) Handle(ctx context.Context, in sms.Inbound) (Result, error) {
	now := r.opt.Now().UTC()
	if in.ReceivedAt.IsZero() {
		in.ReceivedAt = now
	}
	from, err := phone.Parse(in.From, r.members.Region())
	if err != nil {
		// Nothing to reply to: keep the message for the operator.
		r.opt.Log.WarnContext(ctx, "sms from an unusable number", "from", phone.Mask(in.From), "err", err)
		return Result{}, r.store(ctx, in, "", "", "", now)
	}
	match := r.opt.Keywords.Parse(in.Body)
	res := Result{Keyword: match.Keyword}
	m, err := r.members.ByPhone(ctx, string(from))
	if err != nil && !errors.Is(err, member.ErrNotFound) {
		return res, err
	}
	if m != nil {
		res.MemberID = m.ID
	}
	if err := r.store(ctx, in, string(from), string(match.Keyword), res.MemberID, now); err != nil {
		return res, err
	}
	reply, purpose, err := r.act(ctx, match, from, m, now)
	if err != nil {
		return res, err
	}
	if reply != "" {
		if _, err := sms.Enqueue(ctx, r.db.W, sms.Outbound{MemberID: res.MemberID, To: string(from), Body: reply,
			Kind: sms.Transactional, Purpose: purpose}, now); err != nil {
			return res, err
		}
		res.Replied = true
	}
	if res.Replied || match.Keyword == keyword.Join || match.Keyword == keyword.Code {
		r.opt.Wake()
	}
	r.opt.Log.InfoContext(ctx, "sms received", "from", phone.Mask(string(from)), "keyword", match.Keyword, "member", res.MemberID)
	return res, nil
}

func (r *Router) store(ctx context.Context, in sms.Inbound, from, kw, memberID string, now time.Time) error {
	_, err := r.db.W.ExecContext(ctx, `INSERT INTO sms_inbox (id, from_phone, to_addr, body, keyword, member_id, received_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, id.New("mo", now), store.NullString(from), in.To, in.Body, kw,
		store.NullString(memberID), in.ReceivedAt.UTC())
	if err != nil {
		return fmt.Errorf("store inbound sms: %w", err)
	}
	return nil
}

// act performs the keyword and returns the reply to queue ("" for none: a
// new member's welcome is queued by the enrolment itself).
func (r *Router) act(ctx context.Context, k keyword.Match, from phone.Number, m *member.Member, now time.Time) (string, string, error) {
	p := r.opt.Programme
	switch k.Keyword {
	case keyword.Stop:
		if m != nil {
			if _, err := r.members.OptOut(ctx, m.ID, member.ChannelSMS, k.Alias); err != nil {
				return "", "", err
			}
		}
		if err := r.holdQueuedMarketing(ctx, from); err != nil {
			return "", "", err
		}
		return fmt.Sprintf("%s: you are unsubscribed and will get no more marketing texts. Reply START to subscribe again.", p), "stop_confirm", nil
	case keyword.Start:
		if m == nil {
			return fmt.Sprintf("%s: you are not a member yet. Text JOIN to join.", p), "start_reply", nil
		}
		if _, err := r.members.OptIn(ctx, m.ID, member.ChannelSMS, k.Alias); err != nil {
			return "", "", err
		}
		return fmt.Sprintf("%s: you are subscribed again. %s. Reply STOP to opt out.", p, r.opt.Frequency), "start_confirm", nil
	case keyword.Join:
		return r.join(ctx, k, from, m)
	case keyword.Code:
		if m == nil {
			return fmt.Sprintf("%s: you are not a member yet. Text JOIN to get your card.", p), "code_reply", nil
		}
		return "", "", r.members.ResendCode(ctx, m.ID)
	case keyword.Yes:
		if m != nil && m.Status == member.StatusPending {
			if _, err := r.members.ConfirmByPhone(ctx, from); err != nil {
				return "", "", err
			}
			return fmt.Sprintf("%s: thank you, you will now get our offers by SMS. %s. Reply STOP to opt out.", p, r.opt.Frequency), "yes_confirm", nil
		}
	case keyword.Help, keyword.Points, keyword.Offers:
		// Points and offers arrive with campaigns; until then the help text
		// says what can be asked.
		return r.help(), "help", nil
	}
	return r.unknown(ctx, from, now)
}

func (r *Router) help() string {
	return fmt.Sprintf("%s: member card and offers by SMS. Help: %s. %s. Msg&data rates may apply. Text CODE for your card, STOP to opt out.",
		r.opt.Programme, r.opt.HelpContact, r.opt.Frequency)
}

func (r *Router) join(ctx context.Context, k keyword.Match, from phone.Number, m *member.Member) (string, string, error) {
	if m != nil && m.Status != member.StatusOptedOut {
		return "", "", r.members.ResendCode(ctx, m.ID)
	}
	first, last := splitName(k.Args)
	req := member.EnrolRequest{Profile: member.Profile{Phone: string(from), FirstName: first, LastName: last},
		Channel: member.ChannelSMS, Source: "sms " + k.Alias, Consent: true}
	e, err := r.members.Enrol(ctx, req)
	if problem.KindOf(err) == problem.Invalid {
		// A name we cannot store must not cost the shopper the membership.
		req.FirstName, req.LastName = "", ""
		e, err = r.members.Enrol(ctx, req)
	}
	if err != nil {
		return "", "", err
	}
	if !e.Created {
		return "", "", r.members.ResendCode(ctx, e.Member.ID)
	}
	return "", "", nil
}

// splitName takes the first word as the first name and the rest as the last.
func splitName(s string) (string, string) {
	f := strings.Fields(s)
	switch len(f) {
	case 0:
		return "", ""
	case 1:
		return f[0], ""
	}
	return f[0], strings.Join(f[1:], " ")
}

// holdQueuedMarketing keeps back marketing already queued for a number that
// just opted out: it is recorded as held, never sent.
func (r *Router) holdQueuedMarketing(ctx context.Context, to phone.Number) error {
	_, err := r.db.W.ExecContext(ctx, `UPDATE sms_outbox SET status = 'held', held_reason = 'opted_out'
		WHERE to_phone = $1 AND kind = 'marketing' AND status = 'queued'`, string(to))
	if err != nil {
		return fmt.Errorf("hold marketing: %w", err)
	}
	return nil
}

// unknown answers a message it did not understand, at most once a day per
// number, so a chatty shopper (or another robot) is not answered in a loop.
func (r *Router) unknown(ctx context.Context, from phone.Number, now time.Time) (string, string, error) {
	var recent int
	if err := r.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM sms_outbox WHERE to_phone = $1 AND purpose = 'unknown_reply'
		AND created_at > $2`, string(from), now.Add(-unknownReplyEvery)).Scan(&recent); err != nil {
		return "", "", fmt.Errorf("unknown reply: %w", err)
	}
	if recent > 0 {
		return "", "", nil
	}
	return fmt.Sprintf("%s: sorry, we did not understand that. Text JOIN to join, CODE for your card, HELP for help or STOP to opt out.",
		r.opt.Programme), "unknown_reply", nil
}
