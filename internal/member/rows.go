package member

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/perk-platform/perk/internal/phone"
	"github.com/perk-platform/perk/internal/store"
)

// querier is what both *sql.DB and *sql.Tx offer, so lookups run inside or
// outside a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

const memberColumns = `id, code, phone, first_name, last_name, email, birthday, home_store, external_id,
	attributes, tags, timezone, channel, source, status, enrolled_at, updated_at, erased_at, locale`

type scanner interface{ Scan(dest ...any) error }

func scanMember(row scanner) (*Member, error) {
	var m Member
	var ph, ext, locale sql.NullString
	var attrs, tags string
	var erased sql.NullTime
	err := row.Scan(&m.ID, &m.Code, &ph, &m.FirstName, &m.LastName, &m.Email, &m.Birthday, &m.HomeStore, &ext,
		&attrs, &tags, &m.TimeZone, &m.Channel, &m.Source, &m.Status, &m.EnrolledAt, &m.UpdatedAt, &erased, &locale)
	if err != nil {
		return nil, err
	}
	m.Phone = phone.Number(ph.String)
	m.ExternalID = ext.String
	m.Locale = locale.String
	m.EnrolledAt = m.EnrolledAt.UTC()
	m.UpdatedAt = m.UpdatedAt.UTC()
	if erased.Valid {
		t := erased.Time.UTC()
		m.ErasedAt = &t
	}
	if err := json.Unmarshal([]byte(attrs), &m.Attributes); err != nil {
		return nil, fmt.Errorf("member %s attributes: %w", m.ID, err)
	}
	if err := json.Unmarshal([]byte(tags), &m.Tags); err != nil {
		return nil, fmt.Errorf("member %s tags: %w", m.ID, err)
	}
	if m.Attributes == nil {
		m.Attributes = map[string]string{}
	}
	if m.Tags == nil {
		m.Tags = []string{}
	}
	return &m, nil
}

// getOne runs a query selecting memberColumns that matches at most one row.
func getOne(ctx context.Context, q querier, where string, arg any) (*Member, error) {
	m, err := scanMember(q.QueryRowContext(ctx, `SELECT `+memberColumns+` FROM members WHERE `+where, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("member lookup: %w", err)
	}
	return m, nil
}

// liveMember loads a member for a change: erased members cannot be changed.
func liveMember(ctx context.Context, q querier, memberID string) (*Member, error) {
	m, err := getOne(ctx, q, `id = $1`, memberID)
	if err != nil {
		return nil, err
	}
	if m.Status == StatusErased {
		return nil, ErrErased
	}
	return m, nil
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only maps of strings and string slices reach here
	}
	return string(b)
}

// memberArgs lists m's values in memberColumns order.
func memberArgs(m *Member) []any {
	var erased any
	if m.ErasedAt != nil {
		erased = *m.ErasedAt
	}
	return []any{m.ID, string(m.Code), store.NullString(string(m.Phone)), m.FirstName, m.LastName, m.Email, m.Birthday,
		m.HomeStore, store.NullString(m.ExternalID), mustJSON(m.Attributes), mustJSON(m.Tags), m.TimeZone,
		string(m.Channel), m.Source, string(m.Status), m.EnrolledAt, m.UpdatedAt, erased, store.NullString(m.Locale)}
}

const memberInsert = `INSERT INTO members (` + memberColumns + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`

// updateProfile writes the mutable columns of m.
func updateProfile(ctx context.Context, q querier, m *Member) error {
	_, err := q.ExecContext(ctx, `UPDATE members SET phone = $2, first_name = $3, last_name = $4, email = $5,
		birthday = $6, home_store = $7, external_id = $8, attributes = $9, tags = $10, timezone = $11,
		status = $12, updated_at = $13, locale = $14 WHERE id = $1`,
		m.ID, store.NullString(string(m.Phone)), m.FirstName, m.LastName, m.Email, m.Birthday, m.HomeStore,
		store.NullString(m.ExternalID), mustJSON(m.Attributes), mustJSON(m.Tags), m.TimeZone, string(m.Status), m.UpdatedAt,
		store.NullString(m.Locale))
	if err != nil {
		return conflictOr(err, "update member")
	}
	return nil
}

// conflictOr maps unique violations on phone or external ID to the domain
// errors, and wraps anything else with op.
func conflictOr(err error, op string) error {
	switch c, _ := store.UniqueViolation(err); c {
	case "members_phone_key":
		return ErrPhoneTaken
	case "members_external_id_key":
		return ErrExternalTaken
	}
	return fmt.Errorf("%s: %w", op, err)
}

func nowUTC(now func() time.Time) time.Time { return now().UTC().Truncate(time.Microsecond) }
