package report_test

import (
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/report"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestPlans_ReportQueriesSeekTheirIndex: the campaign report's message
// counts and the dynamic audience's size are answered from an index alone
// (migration 0055), without a table row per message or member, and the
// message series, which read the messages only for the partial hours at the
// ends of their range (the rest from sms_tally), seek that range (0058), so
// an edge reads the messages of that hour, not all of the campaign's.
// SQLite only: its planner's choice does not depend on statistics;
// PostgreSQL's index-only scans also depend on the visibility map, which
// VACUUM keeps.
func TestPlans_ReportQueriesSeekTheirIndex(t *testing.T) {
	db := storetest.SQLite(t)
	for _, q := range report.ReportPlans {
		t.Run(q.Name, func(t *testing.T) {
			plan := storetest.QueryPlan(t, db, q.SQL(db.Dialect), q.Args...)
			if got := strings.Join(plan, "; "); !strings.Contains(got, q.Want) {
				t.Errorf("plan %q, want %q", got, q.Want)
			}
		})
	}
}
