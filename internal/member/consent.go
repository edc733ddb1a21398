package member

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/perk-platform/perk/internal/event"

	"github.com/perk-platform/perk/internal/id"
	"github.com/perk-platform/perk/internal/phone"
	"github.com/perk-platform/perk/internal/sms/texts"
)

// Consent actions as recorded in the consent history.
const (
	consentRequested = "requested" // double opt-in asked, not yet confirmed
	consentGranted   = "granted"
	consentWithdrawn = "withdrawn"
)

// Consent is one entry in a member's consent history. Entries are only ever
// added, so the history proves what the member agreed to, when, and how.
type Consent struct {
	Channel        string    `json:"channel"`
	Action         string    `json:"action"`
	Method         Channel   `json:"method"`
	Source         string    `json:"source,omitempty"`
	Campaign       string    `json:"campaign,omitempty"`
	SourceAddress  string    `json:"source_address,omitempty"`
	Phone          string    `json:"phone,omitempty"`
	WordingVersion string    `json:"wording_version,omitempty"`
	At             time.Time `json:"at"`
}

// Origin says where a consent change came from, for the consent log.
type Origin struct {
	Method   Channel
	Source   string // the form, keyword, file or note behind the change
	Campaign string // the campaign that prompted it, if any
	Address  string // the short code texted, the client address of a form, the API key used
}

// confirmTTL is how long a double opt-in link stays valid.
const confirmTTL = 7 * 24 * time.Hour

// recordConsent appends to the consent log, with the member's number at
// that moment.
func recordConsent(ctx context.Context, q querier, memberID, action string, o Origin, version string, now time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO consents (member_id, channel, action, method, source, campaign, source_address,
		wording_version, created_at, phone)
		SELECT $1, 'sms', $2, $3, $4, $5, $6, $7, $8, phone FROM members WHERE id = $1`,
		memberID, action, string(o.Method), o.Source, o.Campaign, o.Address, version, now)
	if err != nil {
		return fmt.Errorf("record consent: %w", err)
	}
	return nil
}

func (s *Service) requestConfirmation(ctx context.Context, tx *sql.Tx, m *Member, req EnrolRequest, now time.Time) error {
	if err := recordConsent(ctx, tx, m.ID, consentRequested, req.origin(), req.ConsentVersion, now); err != nil {
		return err
	}
	token := id.Token(16)
	if _, err := tx.ExecContext(ctx, `INSERT INTO optin_confirmations (token, member_id, created_at, expires_at)
		VALUES ($1, $2, $3, $4)`, token, m.ID, now, now.Add(confirmTTL)); err != nil {
		return fmt.Errorf("request confirmation: %w", err)
	}
	return s.queueText(ctx, tx, m, texts.ConfirmOptIn, texts.Data{ConfirmURL: s.opt.PublicURL + "/join/confirm/" + token}, now)
}

// ConfirmOptIn completes a double opt-in from the link sent by SMS.
func (s *Service) ConfirmOptIn(ctx context.Context, token string) (*Member, error) {
	now := nowUTC(s.opt.Now)
	var m *Member
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var memberID string
		var expires time.Time
		err := tx.QueryRowContext(ctx, `SELECT member_id, expires_at FROM optin_confirmations
			WHERE token = $1 AND confirmed_at IS NULL`, token).Scan(&memberID, &expires)
		if errors.Is(err, sql.ErrNoRows) || (err == nil && now.After(expires)) {
			return ErrTokenNotFound
		}
		if err != nil {
			return fmt.Errorf("confirm opt-in: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE optin_confirmations SET confirmed_at = $2 WHERE token = $1`, token, now); err != nil {
			return fmt.Errorf("confirm opt-in: %w", err)
		}
		m, err = s.confirm(ctx, tx, memberID, Origin{Method: ChannelWeb, Source: "confirmation link"}, now)
		return err
	})
	return m, err
}

// ConfirmByPhone completes a pending double opt-in when the member replies
// YES by SMS. A member with nothing pending is returned unchanged.
func (s *Service) ConfirmByPhone(ctx context.Context, n phone.Number) (*Member, error) {
	now := nowUTC(s.opt.Now)
	var m *Member
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		found, err := getOne(ctx, tx, `phone = $1`, string(n))
		if err != nil {
			return err
		}
		if found.Status != StatusPending {
			m = found
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE optin_confirmations SET confirmed_at = $2
			WHERE member_id = $1 AND confirmed_at IS NULL`, found.ID, now); err != nil {
			return fmt.Errorf("confirm opt-in: %w", err)
		}
		m, err = s.confirm(ctx, tx, found.ID, Origin{Method: ChannelSMS, Source: "YES reply"}, now)
		return err
	})
	return m, err
}

func (s *Service) confirm(ctx context.Context, tx *sql.Tx, memberID string, o Origin, now time.Time) (*Member, error) {
	m, err := getOne(ctx, tx, `id = $1`, memberID)
	if err != nil {
		return nil, err
	}
	if m.Status != StatusPending {
		return m, nil // already confirmed, or opted out since: a stale link must not re-subscribe
	}
	m.Status, m.UpdatedAt = StatusActive, now
	if err := updateProfile(ctx, tx, m); err != nil {
		return nil, err
	}
	if err := recordConsent(ctx, tx, m.ID, consentGranted, o, s.opt.ConsentVersion, now); err != nil {
		return nil, err
	}
	return m, s.record(ctx, tx, consentEvents(m, consentGranted, o)...)
}

// OptOut withdraws a member's marketing consent at once. It is idempotent:
// opting out twice records one withdrawal.
func (s *Service) OptOut(ctx context.Context, memberID string, o Origin) (*Member, error) {
	return s.setConsent(ctx, memberID, false, o)
}

// OptIn records a member's (renewed) marketing consent.
func (s *Service) OptIn(ctx context.Context, memberID string, o Origin) (*Member, error) {
	return s.setConsent(ctx, memberID, true, o)
}

func (s *Service) setConsent(ctx context.Context, memberID string, granted bool, o Origin) (*Member, error) {
	now := nowUTC(s.opt.Now)
	var m *Member
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		m, err = liveMember(ctx, tx, memberID)
		if err != nil {
			return err
		}
		want, action := StatusOptedOut, consentWithdrawn
		if granted {
			want, action = StatusActive, consentGranted
		}
		if m.Status == want {
			return nil
		}
		m.Status, m.UpdatedAt = want, now
		if err := updateProfile(ctx, tx, m); err != nil {
			return err
		}
		if !granted {
			// Pending confirmation links must not re-subscribe later.
			if _, err := tx.ExecContext(ctx, `DELETE FROM optin_confirmations WHERE member_id = $1 AND confirmed_at IS NULL`, m.ID); err != nil {
				return fmt.Errorf("opt out: %w", err)
			}
			if err := recordEvent(ctx, tx, s.db.Dialect, event.MemberOptedOut, m.ID+":"+micros(now), m, eventChannel(o.Method), "", o.Campaign, now); err != nil {
				return err
			}
		}
		if err := recordConsent(ctx, tx, m.ID, action, o, s.opt.ConsentVersion, now); err != nil {
			return err
		}
		return s.record(ctx, tx, consentEvents(m, action, o)...)
	})
	if err == nil {
		s.opt.Log.InfoContext(ctx, "consent changed", "member", memberID, "status", m.Status, "method", o.Method)
	}
	return m, err
}

// Consents returns a member's consent history, oldest first.
func (s *Service) Consents(ctx context.Context, memberID string) ([]Consent, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT channel, action, method, source, campaign, source_address,
		COALESCE(phone, ''), wording_version, created_at FROM consents WHERE member_id = $1 ORDER BY id`, memberID)
	if err != nil {
		return nil, fmt.Errorf("consents: %w", err)
	}
	defer rows.Close()
	out := []Consent{}
	for rows.Next() {
		var c Consent
		if err := rows.Scan(&c.Channel, &c.Action, &c.Method, &c.Source, &c.Campaign, &c.SourceAddress, &c.Phone,
			&c.WordingVersion, &c.At); err != nil {
			return nil, fmt.Errorf("consents: %w", err)
		}
		c.At = c.At.UTC()
		out = append(out, c)
	}
	return out, rows.Err()
}
