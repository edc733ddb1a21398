package member

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/id"
	"github.com/perk-platform/perk/internal/phone"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/sms/texts"
	"github.com/perk-platform/perk/internal/store"
)

// Options configure a Service.
type Options struct {
	Region         string           // default phone region, e.g. "GB"
	PublicURL      string           // base of card and confirmation links in SMS, e.g. "https://perk.example.com"
	Programme      string           // programme name in the default texts (without Texts)
	ConsentVersion string           // version of the consent wording members agree to
	Now            func() time.Time // clock; time.Now if nil
	// Texts are the texts members get (welcome, code, opt-in
	// confirmation); the embedded defaults in English if nil.
	Texts *texts.Catalogue
	Log   *slog.Logger // slog.Default() if nil
	// Changes hears of every member change inside its transaction (the
	// webhooks' outbox); nil reports nothing.
	Changes change.Recorder
}

// Service enrols, finds, changes and erases members.
type Service struct {
	db        *store.DB
	opt       Options
	referrals Referrals // nil: referral codes are ignored
}

// NewService returns a Service over db.
func NewService(db *store.DB, opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Programme == "" {
		opt.Programme = "Perk Rewards"
	}
	opt.PublicURL = strings.TrimRight(opt.PublicURL, "/")
	if opt.Texts == nil {
		c, err := texts.Load(texts.Options{Programme: opt.Programme, PublicURL: opt.PublicURL,
			Log: slog.New(slog.DiscardHandler)})
		if err != nil {
			panic(err) // the embedded defaults are tested
		}
		opt.Texts = c
	}
	return &Service{db: db, opt: opt}
}

// Texts returns the catalogue the service writes members' texts from.
func (s *Service) Texts() *texts.Catalogue { return s.opt.Texts }

// Locale returns the programme's locale, the locale of members without one.
func (s *Service) Locale() string { return s.opt.Texts.Locale() }

// Region returns the default phone region.
func (s *Service) Region() string { return s.opt.Region }

// ConsentVersion returns the version of the consent wording in force.
func (s *Service) ConsentVersion() string { return s.opt.ConsentVersion }

// EnrolRequest is a request to join the programme.
type EnrolRequest struct {
	Profile
	Channel Channel
	Source  string // campaign, form or file the member came from
	// Consent is the member's agreement to marketing SMS. Without it the member
	// is enrolled (and gets their code) but is not marketed to.
	Consent bool
	// ConsentVersion is the wording version agreed to; the service's if empty.
	ConsentVersion string
	// DoubleOptIn holds marketing consent as pending until the member confirms
	// by link (or by replying YES).
	DoubleOptIn bool
	// Campaign and SourceAddress go to the consent log: the campaign that
	// prompted the sign-up, and the short code, client address or API key.
	Campaign      string
	SourceAddress string
	// AnonymousID is the browser or app install signing up (the perk_aid
	// cookie on /join), tied to the new member by the joined event.
	AnonymousID string
	// Referral is the referral code the friend came with (/join?ref=, JOIN
	// <code>); what became of it is Enrolment.Referral. A bad code never
	// stops the sign-up.
	Referral string
}

func (r EnrolRequest) origin() Origin {
	return Origin{Method: r.Channel, Source: r.Source, Campaign: r.Campaign, Address: r.SourceAddress}
}

// Enrolment is the outcome of Enrol.
type Enrolment struct {
	Member    *Member
	Created   bool   // false when the phone was already a member
	CardToken string // token for the card page, /c/{token}
	// Referral is what became of EnrolRequest.Referral; nil without one.
	Referral *ReferralNote
}

// maxCodeTries bounds retries on a code collision; with 10^7 codes and even a
// million members, five collisions in a row happen once in 10^5 enrolments.
const maxCodeTries = 8

// Enrol adds a member, or returns the existing member with that phone
// (Created false), so that retries and repeated sign-ups are harmless. An
// existing member who opted out and now consents again is re-subscribed.
// A welcome SMS with the code and card link is queued for new members.
func (s *Service) Enrol(ctx context.Context, req EnrolRequest) (*Enrolment, error) {
	now := nowUTC(s.opt.Now)
	p, err := req.Profile.clean(s.opt.Region, now, true)
	if err != nil {
		return nil, err
	}
	if !req.Channel.Valid() {
		return nil, problem.InvalidField("channel", "channel_invalid", nil, "unknown channel %q", req.Channel)
	}
	if req.ConsentVersion == "" {
		req.ConsentVersion = s.opt.ConsentVersion
	}
	var out *Enrolment
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := checkHomeStore(ctx, tx, s.db.Dialect, p.HomeStore); err != nil {
			return err
		}
		for try := 0; ; try++ {
			existing, err := getOne(ctx, tx, `phone = $1`, p.Phone)
			if err == nil {
				if out, err = s.reenrol(ctx, tx, existing, req, now); err != nil {
					return err
				}
				return s.referred(ctx, tx, req, out, now)
			}
			if !errors.Is(err, ErrNotFound) {
				return err
			}
			out, err = s.create(ctx, tx, p, req, now)
			// ErrPhoneTaken here means a concurrent enrolment of the same
			// phone committed between the lookup and the insert (on
			// PostgreSQL; SQLite serialises writers). The insert was rolled
			// back to its savepoint and, in READ COMMITTED, the lookup now
			// sees that member: answer as a sequential repeat would.
			if err == nil {
				return s.referred(ctx, tx, req, out, now)
			}
			if !errors.Is(err, ErrPhoneTaken) || try >= 2 {
				return err
			}
		}
	})
	if err != nil {
		return nil, err
	}
	if out.Created {
		s.opt.Log.InfoContext(ctx, "member enrolled", "member", out.Member.ID, "phone", phone.Mask(string(out.Member.Phone)),
			"channel", req.Channel, "status", out.Member.Status)
	}
	return out, nil
}

func (s *Service) create(ctx context.Context, tx *sql.Tx, p Profile, req EnrolRequest, now time.Time) (*Enrolment, error) {
	n := phone.Number(p.Phone)
	m := &Member{
		ID: id.New("mem", now), Phone: n, FirstName: p.FirstName, LastName: p.LastName, Email: p.Email,
		Birthday: p.Birthday, HomeStore: p.HomeStore, ExternalID: p.ExternalID, Attributes: p.Attributes,
		Tags: p.Tags, TimeZone: p.TimeZone, Locale: p.Locale, Channel: req.Channel, Source: req.Source, Status: StatusOptedOut,
		EnrolledAt: now, UpdatedAt: now,
	}
	if m.TimeZone == "" {
		m.TimeZone = p.zone
	}
	switch {
	case req.Consent && req.DoubleOptIn:
		m.Status = StatusPending
	case req.Consent:
		m.Status = StatusActive
	}
	if err := insertWithFreshCode(ctx, tx, m); err != nil {
		return nil, err
	}
	token, err := issueCardToken(ctx, tx, m.ID, now)
	if err != nil {
		return nil, err
	}
	switch m.Status {
	case StatusActive:
		err = recordConsent(ctx, tx, m.ID, consentGranted, req.origin(), req.ConsentVersion, now)
	case StatusPending:
		err = s.requestConfirmation(ctx, tx, m, req, now)
	}
	if err != nil {
		return nil, err
	}
	if err := s.queueWelcome(ctx, tx, m, token, now); err != nil {
		return nil, err
	}
	events := []change.Event{{Type: change.MemberCreated, MemberID: m.ID, ExternalID: &m.ExternalID,
		Data: map[string]any{"status": string(m.Status), "channel": string(m.Channel), "source": m.Source}}}
	if m.Status == StatusActive {
		events = append(events, consentEvents(m, consentGranted, req.origin())...)
	}
	if err := s.record(ctx, tx, events...); err != nil {
		return nil, err
	}
	if err := recordEvent(ctx, tx, s.db.Dialect, event.MemberJoined, m.ID, m, eventChannel(req.Channel), req.AnonymousID, req.Campaign, now); err != nil {
		return nil, err
	}
	return &Enrolment{Member: m, Created: true, CardToken: token}, nil
}

// insertWithFreshCode inserts m, drawing a new code while the drawn one is
// taken. A savepoint keeps the PostgreSQL transaction usable after a failed
// insert.
func insertWithFreshCode(ctx context.Context, tx *sql.Tx, m *Member) error {
	for try := 0; ; try++ {
		code, err := NewCode()
		if err != nil {
			return err
		}
		m.Code = code
		if _, err := tx.ExecContext(ctx, `SAVEPOINT member_insert`); err != nil {
			return fmt.Errorf("enrol: %w", err)
		}
		_, err = tx.ExecContext(ctx, memberInsert, memberArgs(m)...)
		if err == nil {
			_, err = tx.ExecContext(ctx, `RELEASE SAVEPOINT member_insert`)
			return err
		}
		if _, rbErr := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT member_insert`); rbErr != nil {
			return fmt.Errorf("enrol: %w", errors.Join(err, rbErr))
		}
		if c, _ := store.UniqueViolation(err); c != "members_code_key" || try >= maxCodeTries {
			return conflictOr(err, "enrol")
		}
	}
}

// reenrol handles a sign-up from a phone that is already a member: nothing
// changes unless an opted-out member consents again.
func (s *Service) reenrol(ctx context.Context, tx *sql.Tx, m *Member, req EnrolRequest, now time.Time) (*Enrolment, error) {
	if req.Consent && m.Status == StatusOptedOut {
		m.Status = StatusActive
		if req.DoubleOptIn {
			m.Status = StatusPending
		}
		m.UpdatedAt = now
		if err := updateProfile(ctx, tx, m); err != nil {
			return nil, err
		}
		var err error
		if m.Status == StatusPending {
			err = s.requestConfirmation(ctx, tx, m, req, now)
		} else if err = recordConsent(ctx, tx, m.ID, consentGranted, req.origin(), req.ConsentVersion, now); err == nil {
			err = s.record(ctx, tx, consentEvents(m, consentGranted, req.origin())...)
		}
		if err != nil {
			return nil, err
		}
	}
	token, err := activeCardToken(ctx, tx, m.ID, now)
	if err != nil {
		return nil, err
	}
	return &Enrolment{Member: m, CardToken: token}, nil
}

// PublicURL is the base URL shoppers reach Perk at (--public-url).
func (s *Service) PublicURL() string { return s.opt.PublicURL }

// CardURL is the link to a member's card page.
func (s *Service) CardURL(token string) string { return s.opt.PublicURL + "/c/" + token }

func (s *Service) queueWelcome(ctx context.Context, tx *sql.Tx, m *Member, token string, now time.Time) error {
	o, err := s.welcome(m, token)
	if err != nil {
		return err
	}
	_, err = sms.Enqueue(ctx, tx, o, now)
	return err
}

// welcome is the message that gives a new member their code and card link,
// however they joined.
func (s *Service) welcome(m *Member, token string) (sms.Outbound, error) {
	return s.text(m, texts.Welcome, texts.Data{CardURL: s.CardURL(token)})
}

// TextData is d with the member's own fields filled in, for a text to them.
func TextData(m *Member, d texts.Data) texts.Data {
	if m != nil {
		d.FirstName, d.LastName, d.Name, d.Code = m.FirstName, m.LastName, m.Name(), string(m.Code)
	}
	return d
}

// text is the transactional message for purpose to m, in their locale.
func (s *Service) text(m *Member, purpose texts.Purpose, d texts.Data) (sms.Outbound, error) {
	body, err := s.opt.Texts.Render(m.Locale, purpose, TextData(m, d))
	if err != nil {
		return sms.Outbound{}, err
	}
	return sms.Outbound{MemberID: m.ID, To: string(m.Phone), Body: body, Kind: sms.Transactional, Purpose: string(purpose)}, nil
}

// queueText records the text for purpose to m for the SMS sender.
func (s *Service) queueText(ctx context.Context, tx *sql.Tx, m *Member, purpose texts.Purpose, d texts.Data, now time.Time) error {
	o, err := s.text(m, purpose, d)
	if err != nil {
		return err
	}
	_, err = sms.Enqueue(ctx, tx, o, now)
	return err
}
