package report_test

import (
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/report"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestPlans_ReportQueriesReadTheIndexAlone: the campaign report's message
// counts and series, and the dynamic audience's size, are answered from an
// index without a table row per message or member (migration 0055), so
// they grow with the index entries, not with the rows' width. SQLite only:
// its planner's choice does not depend on statistics; PostgreSQL's
// index-only scans also depend on the visibility map, which VACUUM keeps.
func TestPlans_ReportQueriesReadTheIndexAlone(t *testing.T) {
	db := storetest.SQLite(t)
	for _, q := range report.IndexOnlyQueries {
		t.Run(q.Name, func(t *testing.T) {
			plan := storetest.QueryPlan(t, db, q.SQL(db.Dialect), q.Args...)
			if got := strings.Join(plan, "; "); !strings.Contains(got, "USING COVERING INDEX "+q.Index+" ") {
				t.Errorf("plan %q, want a search of the covering index %s", got, q.Index)
			}
		})
	}
}
