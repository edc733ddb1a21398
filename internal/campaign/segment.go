package campaign

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
)

// CheckFilter checks an audience filter used outside a campaign (a
// journey's segment); an error names the field under prefix.
func CheckFilter(prefix string, f *Filter) error {
	err := f.validate()
	var p *problem.Error
	if errors.As(err, &p) && strings.HasPrefix(p.Field, "audience.filter") {
		c := *p
		c.Field = prefix + strings.TrimPrefix(p.Field, "audience.filter")
		return &c
	}
	return err
}

// Matching returns the ids of the members f selects now (never the
// erased): the campaigns' audience filter, one definition, for a journey's
// segment trigger. Dates in f are days in loc.
func Matching(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, d store.Dialect, f *Filter, loc *time.Location, now time.Time) (map[string]bool, error) {
	aq, err := audienceQuery(d, "", Audience{Kind: AudienceFilter, Filter: f}, loc, now)
	if err != nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT m.id FROM members m WHERE `+strings.Join(aq.where, " AND "), aq.args...)
	if err != nil {
		return nil, fmt.Errorf("segment: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("segment: %w", err)
		}
		out[id] = true
	}
	return out, rows.Err()
}
