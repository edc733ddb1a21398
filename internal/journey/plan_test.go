package journey

import (
	"context"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestNextEvents_ReadsTheBacklogInIdOrderWhateverTheStatistics: the
// journeys' reader takes its next batch of events from the id index in
// order and stops at the batch, even when the statistics of events were
// taken at 50 rows and the table has grown to 20,000 since (a bulk write
// autovacuum has not caught up with). Without store.Dialect.InIndexOrder
// PostgreSQL reads every event past the cursor by a bitmap scan and sorts
// them for each batch of 1,000.
func TestNextEvents_ReadsTheBacklogInIdOrderWhateverTheStatistics(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		at := storetest.SeriesTime(db)
		grow := func(n int) {
			t.Helper()
			if _, err := db.W.ExecContext(ctx, `INSERT INTO events (event_id, type, occurred_at, received_at, channel, source, member_id, properties)
				SELECT 'e' || g, 'page_viewed', `+at+`, `+at+`, 'web', 'api', 'm' || (g % 100), '{}' FROM `+storetest.Series(db, n)); err != nil {
				t.Fatal(err)
			}
		}
		grow(50)
		if _, err := db.W.ExecContext(ctx, `ANALYZE events`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.W.ExecContext(ctx, `DELETE FROM events`); err != nil {
			t.Fatal(err)
		}
		grow(20_000)
		plan := storetest.ExplainInIndexOrder(t, db, nextEventsQuery, 100, readBatch)
		want, not := []string{"Index Scan"}, []string{"Seq Scan", "Sort", "Bitmap", "JIT"}
		if db.Dialect != store.Postgres {
			want, not = []string{"SEARCH events USING INTEGER PRIMARY KEY (rowid>?)"}, []string{"TEMP B-TREE"}
		}
		for _, w := range want {
			if !strings.Contains(plan, w) {
				t.Errorf("plan has no %q:\n%s", w, plan)
			}
		}
		for _, n := range not {
			if strings.Contains(plan, n) {
				t.Errorf("plan has %q:\n%s", n, plan)
			}
		}
	})
}
