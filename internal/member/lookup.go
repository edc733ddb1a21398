package member

import (
	"context"
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/perk-platform/perk/internal/id"
	"github.com/perk-platform/perk/internal/phone"
	"github.com/perk-platform/perk/internal/problem"
)

// Get returns the member with the internal id.
func (s *Service) Get(ctx context.Context, memberID string) (*Member, error) {
	return getOne(ctx, s.db.Read, `id = $1`, memberID)
}

// ByCode finds a member by code. A mistyped code fails its check digit
// (ErrCodeCheckDigit as an Invalid problem) before the database is asked.
func (s *Service) ByCode(ctx context.Context, raw string) (*Member, error) {
	code, err := ParseCode(raw)
	if err != nil {
		return nil, problem.InvalidField("code", "code_invalid", err, "%v", err)
	}
	return getOne(ctx, s.db.Read, `code = $1`, string(code))
}

// ByPhone finds a member by phone number in any common format.
func (s *Service) ByPhone(ctx context.Context, raw string) (*Member, error) {
	n, err := cleanPhone("phone", raw, s.opt.Region)
	if err != nil {
		return nil, err
	}
	return getOne(ctx, s.db.Read, `phone = $1`, string(n))
}

// ByExternalID finds a member by the retailer's CRM id.
func (s *Service) ByExternalID(ctx context.Context, ext string) (*Member, error) {
	return getOne(ctx, s.db.Read, `external_id = $1`, strings.TrimSpace(ext))
}

// ByCardToken finds the member behind a card link; revoked tokens and erased
// members are not found.
func (s *Service) ByCardToken(ctx context.Context, token string) (*Member, error) {
	m, err := getOne(ctx, s.db.Read, `id = (SELECT member_id FROM card_tokens WHERE token = $1 AND revoked_at IS NULL)`, token)
	if err != nil {
		return nil, err
	}
	if m.Status == StatusErased {
		return nil, ErrNotFound
	}
	return m, nil
}

// ExternalKeyPrefix marks a member key as the retailer's CRM id: "ext:CRM-5".
// A CRM id can look like anything (a phone number, eight digits), so it is
// never guessed from its shape.
const ExternalKeyPrefix = "ext:"

// Lookup finds a member by whatever identifies them at a till or in an API
// path: an internal id ("mem_..."), an 8-digit code, a phone number, or the
// CRM id after "ext:". A string of exactly eight digits is a code, never a
// phone: no mobile number anywhere is eight digits with its country code.
func (s *Service) Lookup(ctx context.Context, key string) (*Member, error) {
	key = strings.TrimSpace(key)
	switch {
	case strings.HasPrefix(key, ExternalKeyPrefix):
		ext := strings.TrimSpace(strings.TrimPrefix(key, ExternalKeyPrefix))
		if ext == "" {
			return nil, problem.InvalidField("member", "external_id_empty", nil, "ext: must be followed by the CRM id")
		}
		return s.ByExternalID(ctx, ext)
	case id.HasPrefix(key, "mem"):
		return s.Get(ctx, key)
	case isCodeShaped(key):
		return s.ByCode(ctx, key)
	default:
		return s.ByPhone(ctx, key)
	}
}

func isCodeShaped(s string) bool {
	digits := 0
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == ' ' || r == '-':
		default:
			return false
		}
	}
	return digits == CodeLen
}

// ListQuery selects a page of members.
type ListQuery struct {
	Query  string // code, phone, external id, or the start of a name or e-mail
	Status Status // filter, optional
	Cursor string // from the previous page's NextCursor
	Limit  int    // 1..500, default 50
}

// Page is one page of members in id order (roughly enrolment order).
type Page struct {
	Members    []*Member `json:"members"`
	NextCursor string    `json:"next_cursor,omitempty"`
}

// List returns members matching q, a page at a time. Cursors are opaque to
// callers and stable under concurrent enrolments (keyset pagination by id).
func (s *Service) List(ctx context.Context, q ListQuery) (*Page, error) {
	if q.Limit == 0 {
		q.Limit = 50
	}
	if q.Limit < 1 || q.Limit > 500 {
		return nil, problem.InvalidField("limit", "limit_invalid", nil, "must be between 1 and 500")
	}
	after := ""
	if q.Cursor != "" {
		b, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		if err != nil || !id.HasPrefix(string(b), "mem") {
			return nil, problem.InvalidField("cursor", "cursor_invalid", nil, "is not a cursor from a previous page")
		}
		after = string(b)
	}
	where := []string{`id > $1`}
	args := []any{after}
	add := func(cond string, arg any) {
		args = append(args, arg)
		where = append(where, fmt.Sprintf(cond, len(args)))
	}
	switch q.Status {
	case "":
	case StatusActive, StatusPending, StatusOptedOut, StatusErased:
		add(`status = $%d`, string(q.Status))
	default:
		return nil, problem.InvalidField("status", "status_invalid", nil, "must be active, pending, opted_out or erased")
	}
	if term := strings.TrimSpace(q.Query); term != "" {
		switch {
		case isCodeShaped(term):
			add(`code = $%d`, strings.NewReplacer(" ", "", "-", "").Replace(term))
		default:
			if n, err := phone.Parse(term, s.opt.Region); err == nil {
				add(`phone = $%d`, string(n))
				break
			}
			args = append(args, strings.ToLower(term), likePrefix(strings.ToLower(term)))
			a, b := len(args)-1, len(args)
			where = append(where, fmt.Sprintf(`(external_id = $%d OR LOWER(first_name) LIKE $%d ESCAPE '\'
				OR LOWER(last_name) LIKE $%d ESCAPE '\' OR LOWER(email) LIKE $%d ESCAPE '\')`, a, b, b, b))
		}
	}
	args = append(args, q.Limit+1)
	query := `SELECT ` + memberColumns + ` FROM members WHERE ` + strings.Join(where, " AND ") +
		fmt.Sprintf(` ORDER BY id LIMIT $%d`, len(args))
	rows, err := s.db.R.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	defer rows.Close()
	page := &Page{Members: []*Member{}}
	for rows.Next() {
		m, err := scanMember(rows)
		if err != nil {
			return nil, fmt.Errorf("list members: %w", err)
		}
		page.Members = append(page.Members, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list members: %w", err)
	}
	if len(page.Members) > q.Limit {
		page.Members = page.Members[:q.Limit]
		page.NextCursor = base64.RawURLEncoding.EncodeToString([]byte(page.Members[q.Limit-1].ID))
	}
	return page, nil
}

// likePrefix escapes LIKE wildcards in s and appends '%'.
func likePrefix(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s) + "%"
}
