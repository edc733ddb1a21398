// Package router answers inbound SMS: it recognises the keyword, acts on it
// through the member service (enrol, opt out, re-subscribe, confirm, re-send
// the code) and queues the reply. Every inbound message is stored, whether
// it was understood or not, so the operator sees what shoppers wrote.
package router

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/event"

	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/id"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/phone"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/referral"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/sms/keyword"
	"github.com/perk-platform/perk/internal/sms/texts"
	"github.com/perk-platform/perk/internal/store"
)

// Options configure the replies.
type Options struct {
	// Texts are the replies, by purpose and locale: a member gets theirs in
	// their locale, a number that is not a member in the programme's. The
	// server passes the member service's catalogue, so every text a
	// shopper gets comes from one place.
	Texts *texts.Catalogue
	// Without Texts, the embedded defaults are loaded with these.
	Programme   string            // "Perk Rewards"
	HelpContact string            // "help@example.com or 0800 000 000"
	Frequency   string            // "Up to 3 msgs/week"
	Replies     map[string]string // replace default texts of the programme's locale, by purpose

	Keywords *keyword.Table // keyword.Default() if nil
	Now      func() time.Time
	Log      *slog.Logger
	Wake     func() // called after a reply is queued (the sender's Wake)
	// Wallet answers POINTS and OFFERS; without it they get the help text.
	// The checkout's wallet lists offers soonest ending first; the next best
	// offer's (nbo.Service) lists the same offers best first.
	Wallet Wallets
	// Referrals answers INVITE with the member's own link and reads a
	// referral code after JOIN (JOIN K7QM2P) or on its own; without it
	// INVITE gets the help text and a code is read as a name.
	Referrals *referral.Service
}

// Wallets gives a member's points and the offers they hold.
type Wallets interface {
	Wallet(ctx context.Context, m *member.Member) (*checkout.Wallet, error)
}

// Router handles inbound messages.
type Router struct {
	db      *store.DB
	members *member.Service
	opt     Options
	texts   *texts.Catalogue
}

// New returns a router. Without Options.Texts it loads the defaults, and
// fails if a reply in Options.Replies does not parse, names an unknown
// purpose or a field its purpose does not have.
func New(db *store.DB, members *member.Service, opt Options) (*Router, error) {
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
	r := &Router{db: db, members: members, opt: opt, texts: opt.Texts}
	if r.texts != nil && len(opt.Replies) > 0 {
		return nil, errors.New("router: Replies go into the Texts catalogue when it is given")
	}
	if r.texts == nil {
		var err error
		r.texts, err = texts.Load(texts.Options{Programme: opt.Programme, HelpContact: opt.HelpContact,
			Frequency: opt.Frequency, Replies: opt.Replies, Log: slog.New(slog.DiscardHandler)})
		if err != nil {
			return nil, err
		}
	}
	return r, nil
}

// reply renders the reply for purpose; replies carry no links.
func (r *Router) reply(purpose texts.Purpose, m *member.Member) (string, string, error) {
	return r.render(purpose, m, texts.Data{})
}

// wallet answers POINTS or OFFERS with the member's balance or live offers
// and their card link.
func (r *Router) wallet(ctx context.Context, kw keyword.Keyword, m *member.Member) (string, string, error) {
	w, err := r.opt.Wallet.Wallet(ctx, m)
	if err != nil {
		return "", "", err
	}
	token, err := r.members.CardToken(ctx, m.ID)
	if err != nil {
		return "", "", err
	}
	d := texts.Data{Points: w.Points.Available, PointsPending: w.Points.Pending, CardURL: r.members.CardURL(token)}
	if kw == keyword.Points {
		return r.render(texts.PointsReply, m, d)
	}
	if len(w.Offers) == 0 {
		return r.render(texts.NoOffers, m, d)
	}
	parts := make([]string, len(w.Offers))
	for i, o := range w.Offers {
		// Ends is exclusive: the last day is the one before it.
		desc := o.Description
		if desc == "" {
			// A personal offer whose wording is its name (checkout.Wallet
			// leaves the description empty so the card does not repeat it).
			desc = o.Name
		}
		item := texts.Data{Description: desc, Until: o.Ends.Add(-time.Nanosecond).In(r.zone(m))}
		if parts[i], _, err = r.render(texts.OfferItem, m, item); err != nil {
			return "", "", err
		}
	}
	d.Offers = strings.Join(parts, "; ")
	return r.render(texts.OffersReply, m, d)
}

// zone is the member's time zone for dates in replies.
func (r *Router) zone(m *member.Member) *time.Location {
	if loc, err := time.LoadLocation(m.TimeZone); err == nil && m.TimeZone != "" {
		return loc
	}
	return time.UTC
}

// render writes the text for purpose in the member's locale, or the
// programme's for a number that is not a member.
func (r *Router) render(purpose texts.Purpose, m *member.Member, d texts.Data) (string, string, error) {
	locale := ""
	if m != nil {
		locale = m.Locale
	}
	text, err := r.texts.Render(locale, purpose, member.TextData(m, d))
	return text, string(purpose), err
}

// Result says what the router made of a message.
type Result struct {
	Keyword keyword.Keyword
	// MemberID is the sender's member id, also when the message made them
	// a member (JOIN).
	MemberID string
	// Replied reports that a message to the sender was queued: a reply, or
	// the welcome or code the member service queued itself (JOIN, CODE).
	Replied bool
}

// effects is what acting on a keyword did besides the reply it returns.
type effects struct {
	queued bool   // the member service queued a message to the sender (welcome, code)
	member string // the member the message enrolled
}

// unknownReplyEvery limits the "did not understand" reply per number.
const unknownReplyEvery = 24 * time.Hour

// Handle stores an inbound message, acts on it and queues the reply.
func (r *Router) Handle(ctx context.Context, in sms.Inbound) (Result, error) {
	now := r.opt.Now().UTC()
	if in.ReceivedAt.IsZero() {
		in.ReceivedAt = now
	}
	// A gateway may pass bytes that are not text (a broken encoding, NULs);
	// PostgreSQL refuses those, and the SMSC would redeliver forever.
	in.Body = strings.ReplaceAll(strings.ToValidUTF8(in.Body, "\uFFFD"), "\x00", "")
	in.To = strings.ReplaceAll(strings.ToValidUTF8(in.To, "\uFFFD"), "\x00", "")
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
	var did effects
	reply, purpose, err := r.act(ctx, match, from, in.To, m, now, &did)
	if err != nil {
		return res, err
	}
	if did.member != "" {
		res.MemberID = did.member
	}
	res.Replied = did.queued
	if reply != "" {
		if _, err := sms.Enqueue(ctx, r.db.W, sms.Outbound{MemberID: res.MemberID, To: string(from), Body: reply,
			Kind: sms.Transactional, Purpose: purpose}, now); err != nil {
			return res, err
		}
		res.Replied = true
	}
	if res.Replied {
		r.opt.Wake()
	}
	r.opt.Log.InfoContext(ctx, "sms received", "from", phone.Mask(string(from)), "keyword", match.Keyword, "member", res.MemberID)
	return res, nil
}

// store keeps the inbound message and, from a member, writes sms_replied
// into the event stream in the same transaction (the keyword, never the
// text, which may hold anything).
func (r *Router) store(ctx context.Context, in sms.Inbound, from, kw, memberID string, now time.Time) error {
	moID := id.New("mo", now)
	err := r.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sms_inbox (id, from_phone, to_addr, body, keyword, member_id, received_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, moID, store.NullString(from), in.To, in.Body, kw,
			store.NullString(memberID), in.ReceivedAt.UTC())
		if err != nil || memberID == "" {
			return err
		}
		props, _ := json.Marshal(map[string]string{"inbound_id": moID, "keyword": kw})
		return event.Record(ctx, tx, r.db.Dialect, event.Event{EventID: "perk:sms_replied:" + moID, Type: event.SMSReplied,
			Time: in.ReceivedAt.UTC(), Channel: event.SMS, MemberID: memberID, Properties: props})
	})
	if err != nil {
		return fmt.Errorf("store inbound sms: %w", err)
	}
	return nil
}

// act performs the keyword and returns the reply to queue ("" for none: a
// new member's welcome and a resent code are queued by the member service
// itself, which act records in did).
func (r *Router) act(ctx context.Context, k keyword.Match, from phone.Number, to string, m *member.Member, now time.Time, did *effects) (string, string, error) {
	origin := member.Origin{Method: member.ChannelSMS, Source: "keyword " + k.Alias, Address: to}
	switch k.Keyword {
	case keyword.Stop:
		if m != nil {
			if _, err := r.members.OptOut(ctx, m.ID, origin); err != nil {
				return "", "", err
			}
		}
		if err := r.holdQueuedMarketing(ctx, from); err != nil {
			return "", "", err
		}
		return r.reply(texts.StopConfirm, m)
	case keyword.Start:
		if m == nil {
			return r.reply(texts.StartReply, m)
		}
		if _, err := r.members.OptIn(ctx, m.ID, origin); err != nil {
			return "", "", err
		}
		return r.reply(texts.StartConfirm, m)
	case keyword.Join:
		return r.join(ctx, k, from, to, m, did)
	case keyword.Code:
		if m == nil {
			return r.reply(texts.CodeReply, m)
		}
		return "", "", r.resendCode(ctx, m.ID, did)
	case keyword.Yes:
		if m != nil && m.Status == member.StatusPending {
			if _, err := r.members.ConfirmByPhone(ctx, from); err != nil {
				return "", "", err
			}
			return r.reply(texts.YesConfirm, m)
		}
	case keyword.Points, keyword.Offers:
		if m == nil {
			return r.reply(texts.CodeReply, m)
		}
		if r.opt.Wallet != nil {
			return r.wallet(ctx, k.Keyword, m)
		}
		return r.reply(texts.Help, m)
	case keyword.Help:
		return r.reply(texts.Help, m)
	case keyword.Invite:
		if m == nil {
			return r.reply(texts.CodeReply, m)
		}
		if r.opt.Referrals != nil {
			return r.invite(ctx, m)
		}
		return r.reply(texts.Help, m)
	case keyword.Unknown:
		// A referral code texted on its own is JOIN with it: the code is
		// the friend's keyword.
		if w := strings.Fields(k.Args); r.opt.Referrals != nil && len(w) == 1 && referral.LooksLikeCode(w[0]) {
			if _, err := r.opt.Referrals.Owner(ctx, w[0]); err == nil {
				return r.join(ctx, keyword.Match{Keyword: keyword.Join, Alias: "referral code", Args: w[0]}, from, to, m, did)
			}
		}
	}
	return r.unknown(ctx, from, m, now)
}

func (r *Router) join(ctx context.Context, k keyword.Match, from phone.Number, to string, m *member.Member, did *effects) (string, string, error) {
	if m != nil && m.Status != member.StatusOptedOut {
		return "", "", r.resendCode(ctx, m.ID, did)
	}
	args, code := k.Args, ""
	if w := strings.Fields(args); r.opt.Referrals != nil && len(w) > 0 && referral.LooksLikeCode(w[0]) {
		// JOIN K7QM2P Ann: a first word with a digit is a referral code,
		// never a name.
		code, args = w[0], strings.Join(w[1:], " ")
	}
	first, last := splitName(args)
	req := member.EnrolRequest{Profile: member.Profile{Phone: string(from), FirstName: first, LastName: last},
		Channel: member.ChannelSMS, Source: "keyword " + k.Alias, SourceAddress: to, Consent: true, Referral: code}
	e, err := r.members.Enrol(ctx, req)
	if problem.KindOf(err) == problem.Invalid {
		// A name we cannot store must not cost the shopper the membership.
		req.FirstName, req.LastName = "", ""
		e, err = r.members.Enrol(ctx, req)
	}
	if err != nil {
		return "", "", err
	}
	did.member = e.Member.ID
	if !e.Created {
		return "", "", r.resendCode(ctx, e.Member.ID, did)
	}
	did.queued = true // the enrolment queued the welcome
	if n := e.Referral; n != nil && (n.Status == "" || n.Status == string(referral.StatusRefused)) {
		// A code that could not count is answered, after the welcome: the
		// sign-up itself went through.
		return r.render(texts.ReferralNote, e.Member, texts.Data{ReferralCode: strings.ToUpper(code), Reason: n.Reason})
	}
	return "", "", nil
}

// invite answers INVITE with the member's own referral link. Perk never
// texts a number the member types: the friend has not consented, so the
// member shares the link themselves.
func (r *Router) invite(ctx context.Context, m *member.Member) (string, string, error) {
	code, err := r.opt.Referrals.Code(ctx, m.ID)
	if err != nil {
		return "", "", err
	}
	if err := r.opt.Referrals.Note(ctx, referral.ActivitySMS, m.ID, ""); err != nil {
		return "", "", err
	}
	return r.render(texts.InviteReply, m, texts.Data{ReferralCode: code, ReferralURL: r.opt.Referrals.Link(code)})
}

// resendCode queues the member's code and card link again.
func (r *Router) resendCode(ctx context.Context, memberID string, did *effects) error {
	if err := r.members.ResendCode(ctx, memberID); err != nil {
		return err
	}
	did.queued = true
	return nil
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
func (r *Router) unknown(ctx context.Context, from phone.Number, m *member.Member, now time.Time) (string, string, error) {
	var recent int
	if err := r.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM sms_outbox WHERE to_phone = $1 AND purpose = 'unknown_reply'
		AND created_at > $2`, string(from), now.Add(-unknownReplyEvery)).Scan(&recent); err != nil {
		return "", "", fmt.Errorf("unknown reply: %w", err)
	}
	if recent > 0 {
		return "", "", nil
	}
	return r.reply(texts.UnknownReply, m)
}
