package campaign

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/problem"
)

// ListRowError is one line of an uploaded audience list that named no member.
type ListRowError struct {
	Row    int    `json:"row"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
}

// ListResult is the outcome of an audience list upload.
type ListResult struct {
	Members int            `json:"members"` // distinct members now in the list
	Rows    int            `json:"rows"`
	Errors  []ListRowError `json:"errors"`
}

// Resolver finds a member id from a code, phone number, member id or
// external id (member.Service.Lookup fits).
type Resolver func(ctx context.Context, key string) (string, error)

// SetList replaces a draft campaign's uploaded audience with the members
// named in r, one per line (a code, phone, member id, or a CRM id written
// "ext:CRM-5"; blank lines are skipped). A header line is skipped too, and
// when it names the CRM id column (external_id, crm_id, customer_id) every
// value under it is a CRM id: a CRM export needs no prefix. Lines that name
// no member are reported with their line number and loaded nothing; the
// rest load.
func (s *Service) SetList(ctx context.Context, cid string, r io.Reader, resolve Resolver) (*ListResult, error) {
	c, err := s.Get(ctx, cid)
	if err != nil {
		return nil, err
	}
	if c.Launched() {
		return nil, ErrNotDraft
	}
	if c.Spec.Audience.Kind != AudienceList {
		return nil, problem.InvalidField("audience.kind", "not_a_list", nil, "the campaign's audience is %q, not list", c.Spec.Audience.Kind)
	}
	res := &ListResult{Errors: []ListRowError{}}
	ids := map[string]bool{}
	external := false // the header said the column holds CRM ids
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		v := strings.TrimSpace(strings.SplitN(strings.TrimPrefix(sc.Text(), "\ufeff"), ",", 2)[0])
		v = strings.Trim(v, `"`)
		if v == "" {
			continue
		}
		if n == 1 {
			if header, ext := listHeader(v); header {
				external = ext
				continue
			}
		}
		res.Rows++
		key := v
		if external {
			key = member.ExternalKeyPrefix + v
		}
		mid, err := resolve(ctx, key)
		if err != nil {
			reason := "no member has this code, phone or id"
			if external {
				reason = "no member has this external_id"
			}
			var pe *problem.Error
			if errors.As(err, &pe) && problem.KindOf(err) != problem.NotFound {
				reason = pe.Error()
			} else if problem.KindOf(err) != problem.NotFound {
				return nil, fmt.Errorf("list row %d: %w", n, err)
			}
			res.Errors = append(res.Errors, ListRowError{Row: n, Value: v, Reason: reason})
			continue
		}
		ids[mid] = true
	}
	if err := sc.Err(); err != nil {
		return nil, problem.New(problem.BadRequest, "list_unreadable", "the list could not be read: "+err.Error())
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM campaign_lists WHERE campaign_id = $1`, cid); err != nil {
			return err
		}
		for mid := range ids {
			if _, err := tx.ExecContext(ctx, `INSERT INTO campaign_lists (campaign_id, member_id) VALUES ($1, $2)`, cid, mid); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("store list: %w", err)
	}
	res.Members = len(ids)
	return res, nil
}

// listHeader reports whether v is a header's first column, and whether that
// column holds CRM ids.
func listHeader(v string) (header, external bool) {
	switch strings.ToLower(v) {
	case "code", "phone", "member", "member_id", "id", "mobile":
		return true, false
	case "external_id", "crm_id", "customer_id":
		return true, true
	}
	return false, false
}

// AddContent adds codes (or links) to a free-content pool; codes already in
// the pool are skipped. It returns how many were added.
func (s *Service) AddContent(ctx context.Context, pool string, codes []string) (int, error) {
	if strings.TrimSpace(pool) == "" {
		return 0, problem.InvalidField("pool", "required", nil, "is required")
	}
	added := 0
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		for i, c := range codes {
			c = strings.TrimSpace(c)
			if c == "" {
				continue
			}
			if len(c) > 500 {
				return problem.InvalidField(fmt.Sprintf("codes[%d]", i), "too_long", nil, "must be at most 500 characters")
			}
			r, err := tx.ExecContext(ctx, `INSERT INTO content_codes (pool, code) VALUES ($1, $2) ON CONFLICT DO NOTHING`, pool, c)
			if err != nil {
				return err
			}
			n, _ := r.RowsAffected()
			added += int(n)
		}
		return nil
	})
	return added, err
}

// ContentLeft counts the unissued codes of a pool.
func (s *Service) ContentLeft(ctx context.Context, pool string) (int64, error) {
	return contentLeft(ctx, s.db.R, pool)
}

func contentLeft(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, pool string) (int64, error) {
	var n int64
	err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM content_codes WHERE pool = $1 AND issued_at IS NULL`, pool).Scan(&n)
	return n, err
}

// checkPools refuses to launch a campaign that promises free content from a
// pool with no codes left: every shopper told of it would find "(none left)"
// at the till. A pool that runs dry later lets the sale through and is
// logged (checkout).
func checkPools(ctx context.Context, tx *sql.Tx, benefits []engine.Benefit) error {
	for i, b := range benefits {
		if b.Kind != engine.FreeContent {
			continue
		}
		left, err := contentLeft(ctx, tx, b.Pool)
		if err != nil {
			return fmt.Errorf("content pool %s: %w", b.Pool, err)
		}
		if left == 0 {
			return &problem.Error{Kind: problem.Conflict, Code: "content_pool_empty", Field: fmt.Sprintf("benefits[%d].pool", i),
				Message: fmt.Sprintf("content pool %q has no codes left: add codes (POST /v1/content-pools/%s/codes) before launching", b.Pool, b.Pool)}
		}
	}
	return nil
}
