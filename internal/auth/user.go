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
	"github.com/perk-platform/perk/internal/store"
)

// Operators are the people who use the dashboard: an email, a password
// (argon2id, user_password.go) and one of the API keys' roles except pos,
// which is a till's. They sign in for a session (user_session.go).

// Operator is an operator account as stored (never with its password).
type Operator struct {
	ID          string     `json:"id"`
	Email       string     `json:"email"`
	Name        string     `json:"name,omitempty"`
	Role        Role       `json:"role"`
	CreatedAt   time.Time  `json:"created_at"`
	DisabledAt  *time.Time `json:"disabled_at,omitempty"`
	LastLoginAt *time.Time `json:"last_login_at,omitempty"`
}

// Password policy: long enough to resist online and offline guessing, with no
// composition rules (NIST SP 800-63B); the upper bound only stops abuse.
const (
	MinPasswordLen = 12 // characters
	maxPasswordLen = 1024
)

// ErrOperatorNotFound is returned for an email no operator has.
var ErrOperatorNotFound = problem.New(problem.NotFound, "operator_not_found", "no operator has that email")

// ParseOperatorRole validates a role for a person: admin, manager or
// reporting.
func ParseOperatorRole(s string) (Role, error) {
	r, err := ParseRole(s)
	switch {
	case err != nil:
		return "", problem.InvalidField("role", "role_invalid", nil, "unknown role %q (admin, manager, reporting)", s)
	case r == RolePOS:
		return "", problem.InvalidField("role", "role_invalid", nil, "pos is a role for tills, not for a person (admin, manager, reporting)")
	}
	return r, nil
}

// normEmail is the form emails are stored and looked up in.
func normEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func checkEmail(email string) error {
	local, domain, ok := strings.Cut(email, "@")
	if !ok || local == "" || domain == "" || strings.Contains(domain, "@") || strings.ContainsAny(email, " \t\r\n<>") ||
		len(email) > 254 || !utf8.ValidString(email) {
		return problem.InvalidField("email", "email_invalid", nil, "%q is not an email address", email)
	}
	return nil
}

// CheckPassword applies the password policy: at least MinPasswordLen
// characters and not the operator's email.
func CheckPassword(email, password string) error {
	n := utf8.RuneCountInString(password)
	switch {
	case n < MinPasswordLen:
		return problem.InvalidField("password", "password_too_short", nil,
			"must be at least %d characters (it has %d)", MinPasswordLen, n)
	case len(password) > maxPasswordLen:
		return problem.InvalidField("password", "password_too_long", nil, "must be at most %d bytes", maxPasswordLen)
	case strings.EqualFold(strings.TrimSpace(password), normEmail(email)):
		return problem.InvalidField("password", "password_is_email", nil, "must not be the email address")
	}
	return nil
}

// CreateOperator adds an operator account. The email is unique whatever its
// case; the password must pass CheckPassword.
func (s *Service) CreateOperator(ctx context.Context, email, name string, role Role, password string) (*Operator, error) {
	email = normEmail(email)
	if err := checkEmail(email); err != nil {
		return nil, err
	}
	role, err := ParseOperatorRole(string(role))
	if err != nil {
		return nil, err
	}
	if err := CheckPassword(email, password); err != nil {
		return nil, err
	}
	release, err := s.hasher.acquire(ctx)
	if err != nil {
		return nil, err
	}
	phc := hashPassword(password, currentParams)
	release()
	now := s.now().UTC()
	op := &Operator{ID: id.New("opr", now), Email: email, Name: strings.TrimSpace(name), Role: role, CreatedAt: now}
	_, err = s.db.W.ExecContext(ctx, `INSERT INTO operators (id, email, name, password_hash, role, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, op.ID, op.Email, op.Name, phc, string(role), now)
	if c, ok := store.UniqueViolation(err); ok && c == "operators_email_key" {
		return nil, &problem.Error{Kind: problem.Conflict, Code: "operator_exists", Field: "email",
			Message: "an operator with that email already exists", Err: err}
	}
	if err != nil {
		return nil, fmt.Errorf("create operator: %w", err)
	}
	return op, nil
}

const operatorColumns = `id, email, name, role, created_at, disabled_at, last_login_at`

func scanOperator(sc interface{ Scan(...any) error }, extra ...any) (*Operator, error) {
	var op Operator
	var disabled, last sql.NullTime
	if err := sc.Scan(append([]any{&op.ID, &op.Email, &op.Name, &op.Role, &op.CreatedAt, &disabled, &last}, extra...)...); err != nil {
		return nil, err
	}
	op.CreatedAt = op.CreatedAt.UTC()
	op.DisabledAt, op.LastLoginAt = timePtr(disabled), timePtr(last)
	return &op, nil
}

func timePtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// Operator returns the operator with that email.
func (s *Service) Operator(ctx context.Context, email string) (*Operator, error) {
	op, err := scanOperator(s.db.R.QueryRowContext(ctx, `SELECT `+operatorColumns+` FROM operators WHERE email = $1`, normEmail(email)))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrOperatorNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("operator: %w", err)
	}
	return op, nil
}

// ListOperators returns every operator, disabled ones too, by email.
func (s *Service) ListOperators(ctx context.Context) ([]Operator, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+operatorColumns+` FROM operators ORDER BY email`)
	if err != nil {
		return nil, fmt.Errorf("list operators: %w", err)
	}
	defer rows.Close()
	var out []Operator
	for rows.Next() {
		op, err := scanOperator(rows)
		if err != nil {
			return nil, fmt.Errorf("list operators: %w", err)
		}
		out = append(out, *op)
	}
	return out, rows.Err()
}

// DisableOperator stops an operator from signing in and ends their
// sessions at once. Disabling a disabled operator changes nothing.
func (s *Service) DisableOperator(ctx context.Context, email string) error {
	email, now := normEmail(email), s.now().UTC()
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		var opID string
		err := tx.QueryRowContext(ctx, `UPDATE operators SET disabled_at = COALESCE(disabled_at, $2) WHERE email = $1 RETURNING id`,
			email, now).Scan(&opID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrOperatorNotFound
		}
		if err != nil {
			return fmt.Errorf("disable operator: %w", err)
		}
		return revokeSessions(ctx, tx, opID, now)
	})
}

// SetPassword replaces an operator's password (it must pass CheckPassword)
// and ends their sessions, so a changed password locks out whoever knew the
// old one.
func (s *Service) SetPassword(ctx context.Context, email, password string) error {
	email = normEmail(email)
	if err := CheckPassword(email, password); err != nil {
		return err
	}
	release, err := s.hasher.acquire(ctx)
	if err != nil {
		return err
	}
	phc := hashPassword(password, currentParams)
	release()
	now := s.now().UTC()
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		var opID string
		err := tx.QueryRowContext(ctx, `UPDATE operators SET password_hash = $2 WHERE email = $1 RETURNING id`, email, phc).Scan(&opID)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrOperatorNotFound
		}
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		return revokeSessions(ctx, tx, opID, now)
	})
}

func revokeSessions(ctx context.Context, tx *sql.Tx, operatorID string, now time.Time) error {
	_, err := tx.ExecContext(ctx, `UPDATE operator_sessions SET revoked_at = $2 WHERE operator_id = $1 AND revoked_at IS NULL`,
		operatorID, now)
	if err != nil {
		return fmt.Errorf("revoke sessions: %w", err)
	}
	return nil
}
