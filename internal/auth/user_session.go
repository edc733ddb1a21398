package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/perk-platform/perk/internal/id"
	"github.com/perk-platform/perk/internal/problem"
)

// A session is what a signed-in browser holds: a token of 256 random bits
// in a cookie. Only its SHA-256 is stored (as the row's id), so a copy of the
// database signs no one in. Sessions last SessionTTL from sign-in, however
// active, and end at once on logout, when the operator is disabled or their
// password changes.

// SessionTTL is how long a session lasts.
const SessionTTL = 12 * time.Hour

// seenEvery is how stale last_seen_at may get before a request updates it,
// so that browsing is not a database write per page.
const seenEvery = time.Minute

const maxUserAgent = 200 // bytes kept of the User-Agent

// Client describes where a login comes from.
type Client struct {
	Addr      string // IP address, for the per-address limits
	UserAgent string // stored with the session, truncated
	// Devices is the device cookie the browser sent, if any: the tokens of
	// earlier sign-ins that make it a known device (user_device.go).
	Devices string
}

// SignIn is a successful Login.
type SignIn struct {
	Operator *Operator
	// Token is the session's token, for the session cookie; it is not
	// stored.
	Token string
	// Devices is the device cookie's new value, which makes the browser a
	// known device of the operator for DeviceTTL.
	Devices string
}

// ErrLoginFailed is Login's answer for a wrong email or password, or a
// disabled operator, without saying which. It matches ErrUnauthorized.
var ErrLoginFailed = problem.New(problem.Unauthorized, "unauthorized", "wrong email or password")

// errNoSession matches ErrUnauthorized with a message about sessions.
var errNoSession = problem.New(problem.Unauthorized, "unauthorized", "not signed in, or the session has ended")

// Login checks an operator's email and password and opens a session. It
// returns ErrLoginFailed (an ErrUnauthorized) for an unknown email, a wrong
// password or a disabled operator alike, taking as long for each; and a
// *ThrottledError (an ErrTooManyAttempts), without checking the password,
// while one of the attempt's counts is at its limit (user_throttle.go): a
// known device's own, or else those of the email from this address, of the
// address and of the email from unknown devices.
func (s *Service) Login(ctx context.Context, email, password string, c Client) (*SignIn, error) {
	email, at := normEmail(email), s.now()
	op, phc, err := s.operatorForLogin(ctx, email)
	if errors.Is(err, ErrOperatorNotFound) {
		op, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	device := ""
	if op != nil && c.Devices != "" {
		device = knownDevice(at, op.ID, phc, c.Devices)
	}
	keys := attemptKeys(email, c.Addr, device)
	if wait := s.throttle.take(at, keys); wait > 0 {
		return nil, &ThrottledError{RetryAfter: wait}
	}
	release, err := s.hasher.acquire(ctx)
	if err != nil {
		return nil, err
	}
	ok := false
	if op == nil {
		verifyPassword(s.hasher.dummy(), password) // as slow as a real check
	} else if ok, err = verifyPassword(phc, password); err != nil {
		release()
		return nil, fmt.Errorf("login %s: stored password: %w", op.ID, err)
	}
	release()
	if !ok || op.DisabledAt != nil {
		return nil, ErrLoginFailed // take counted it
	}
	s.throttle.succeed(at, keys)

	rehash, key := "", phc
	if needsRehash(phc) {
		rehash = hashPassword(password, currentParams)
		key = rehash
	}
	token := id.Token(32)
	now := s.now().UTC()
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO operator_sessions (id, operator_id, created_at, expires_at, last_seen_at, user_agent)
			VALUES ($1, $2, $3, $4, $3, $5)`, hash(token), op.ID, now, now.Add(SessionTTL), truncate(c.UserAgent, maxUserAgent)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE operators SET last_login_at = $2 WHERE id = $1`, op.ID, now); err != nil {
			return err
		}
		if rehash != "" {
			res, err := tx.ExecContext(ctx, `UPDATE operators SET password_hash = $2 WHERE id = $1 AND password_hash = $3`,
				op.ID, rehash, phc)
			if err != nil {
				return err
			}
			if n, err := res.RowsAffected(); err == nil && n == 0 {
				key = phc // changed meanwhile: the device token will not verify, which is right
			}
		}
		// Housekeeping: the operator's sessions that ended a day ago go.
		_, err := tx.ExecContext(ctx, `DELETE FROM operator_sessions WHERE operator_id = $1 AND expires_at < $2`,
			op.ID, now.Add(-24*time.Hour))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	op.LastLoginAt = &now
	return &SignIn{Operator: op, Token: token, Devices: withDevice(now, op.ID, key, c.Devices, device)}, nil
}

func (s *Service) operatorForLogin(ctx context.Context, email string) (*Operator, string, error) {
	var phc string
	op, err := scanOperator(s.db.R.QueryRowContext(ctx,
		`SELECT `+operatorColumns+`, password_hash FROM operators WHERE email = $1`, email), &phc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, "", ErrOperatorNotFound
	}
	if err != nil {
		return nil, "", fmt.Errorf("login: %w", err)
	}
	return op, phc, nil
}

// Session returns the operator signed in with token, or ErrUnauthorized
// when there is no such session or it has expired, was revoked, or its
// operator is disabled.
func (s *Service) Session(ctx context.Context, token string) (*Operator, error) {
	if token == "" || len(token) > 128 {
		return nil, errNoSession
	}
	sid := hash(token)
	var expires, seen time.Time
	var revoked sql.NullTime
	op, err := scanOperator(s.db.R.QueryRowContext(ctx, `SELECT o.id, o.email, o.name, o.role, o.created_at, o.disabled_at,
			o.last_login_at, s.expires_at, s.last_seen_at, s.revoked_at
		FROM operator_sessions s JOIN operators o ON o.id = s.operator_id WHERE s.id = $1`, sid), &expires, &seen, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	now := s.now()
	if revoked.Valid || !now.Before(expires) || op.DisabledAt != nil {
		return nil, errNoSession
	}
	if now.Sub(seen) >= seenEvery {
		if _, err := s.db.W.ExecContext(ctx, `UPDATE operator_sessions SET last_seen_at = $2 WHERE id = $1`, sid, now.UTC()); err != nil {
			return nil, fmt.Errorf("session: %w", err)
		}
	}
	return op, nil
}

// Logout ends the session; an unknown or ended session is not an error.
func (s *Service) Logout(ctx context.Context, token string) error {
	if token == "" {
		return nil
	}
	_, err := s.db.W.ExecContext(ctx, `UPDATE operator_sessions SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`,
		hash(token), s.now().UTC())
	if err != nil {
		return fmt.Errorf("logout: %w", err)
	}
	return nil
}

// truncate cuts s to at most n bytes without splitting a character.
func truncate(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
