package webhook_test

import (
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/webhook"
)

// TestClaim_ReadsTheOldestDueRowsInOrderWithoutSortingTheBacklog specifies
// the claim's plan on SQLite, whose planner needs no statistics to choose:
// the oldest due rows come from the due index in next_at order (no sort of
// every due row to keep a few), and the rows to update are found by id.
// A claim that sorted the backlog cost more the further the dispatcher fell
// behind, which is when it must be cheapest.
func TestClaim_ReadsTheOldestDueRowsInOrderWithoutSortingTheBacklog(t *testing.T) {
	db := storetest.SQLite(t)
	for _, c := range []struct {
		name string
		skip []string
	}{
		{"every endpoint", nil},
		{"endpoints at their limit left out", []string{"whe_1", "whe_2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			query, args := webhook.ClaimQuery(t0, 32, c.skip)
			plan := storetest.QueryPlan(t, db, query, args...)
			text := strings.Join(plan, "\n")
			for _, want := range []string{"USING INDEX webhook_deliveries_due_idx (next_at<?)", "USING INDEX sqlite_autoindex_webhook_deliveries_1 (id=?)"} {
				if !strings.Contains(text, want) {
					t.Errorf("plan lacks %q:\n%s", want, text)
				}
			}
			if strings.Contains(text, "TEMP B-TREE") {
				t.Errorf("plan sorts the due rows:\n%s", text)
			}
		})
	}
}
