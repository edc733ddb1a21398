package funnel

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestFold_SeeksWhateverTheStatistics: the fold reads its chunk of pending
// events in order from an index, stopping at its LIMIT, and the two
// statements it runs per 500 people (read their rollup rows, delete their
// state rows) look each person up in an index, even when the tables' statistics
// were taken while they were nearly empty and the tables have grown a
// hundredfold since, as in a long fold that autovacuum has not caught up
// with. On PostgreSQL such a plan once filtered every state row of the
// funnel against the 500 people, another hashed the people and scanned
// the whole rollup (0.3-0.9 s a statement at 1M events), and the pending
// events were read by a scan of the whole table and a sort (7-14 s a chunk
// at 10M).
func TestFold_SeeksWhateverTheStatistics(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := NewService(db, nil)
		grow := func(people int) {
			t.Helper()
			for _, q := range []string{
				`INSERT INTO events (event_id, type, occurred_at, received_at, channel, source, member_id, campaign, properties)
				SELECT 'e' || g, 'sms_delivered', ` + storetest.SeriesTime(db) + `, ` + storetest.SeriesTime(db) + `, 'sms', 'perk', 'p' || g, 'c1', '{}' FROM ` + storetest.Series(db, people),
				`INSERT INTO funnel_rollup (person, day, type, campaign, channel, store_id, n, first_us, first_id, last_us, last_id)
				SELECT 'p' || g, g % 30, 'sms_delivered', 'c1', 'sms', '', 1, g, g, g, g FROM ` + storetest.Series(db, people),
				`INSERT INTO funnel_state (funnel, day, person, key, entry_us, last_us, prev_us, reached, span_us)
				SELECT 1, g % 30, 'p' || g, '', g, g, NULL, 0, 0 FROM ` + storetest.Series(db, people),
			} {
				if _, err := db.W.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
		}
		grow(50)
		if _, err := db.W.ExecContext(ctx, `ANALYZE funnel_rollup`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.W.ExecContext(ctx, `ANALYZE funnel_state`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.W.ExecContext(ctx, `DELETE FROM funnel_rollup; DELETE FROM funnel_state; DELETE FROM events`); err != nil {
			t.Fatal(err)
		}
		grow(20_000)
		people := make([]string, stateChunk)
		for i := range people {
			people[i] = fmt.Sprintf("p%d", i*37+1)
		}
		for _, tc := range []struct {
			name, query string
			ordered     bool // run inside store.Dialect.InIndexOrder
			args        []any
			want        []string // each in the plan
			not         []string // none in the plan
		}{
			{"pending events", s.pendingQuery(2_000), true, s.pendingArgs(cursor{id: 100}, 1<<62),
				pick(db, []string{"Index Scan using", "tx_id_idx"}, []string{"SEARCH events USING INTEGER PRIMARY KEY (rowid>? AND rowid<?)"}),
				pick(db, []string{"Seq Scan", "Sort", "Bitmap", "JIT"}, []string{"TEMP B-TREE"})},
			{"rollup rows", s.rollupOfPeople(), false, []any{db.Dialect.TextListArg(people)},
				pick(db, []string{"Index Scan using funnel_rollup_pkey"}, []string{"SEARCH funnel_rollup USING PRIMARY KEY (person=?)"}),
				pick(db, []string{"Seq Scan on funnel_rollup", "Hash"}, []string{"SCAN funnel_rollup"})},
			{"state rows deleted", s.deleteStateOfPeople(), false, []any{1, db.Dialect.TextListArg(people)},
				pick(db, []string{"Tid Scan on funnel_state", "Index Scan using funnel_state_person_idx"}, []string{"funnel_state_person_idx (funnel=? AND person=?)"}),
				pick(db, []string{"Seq Scan on funnel_state", "Hash", "Filter"}, []string{"SCAN funnel_state"})},
		} {
			t.Run(tc.name, func(t *testing.T) {
				explain := storetest.Explain
				if tc.ordered {
					explain = storetest.ExplainInIndexOrder
				}
				plan := explain(t, db, tc.query, tc.args...)
				for _, w := range tc.want {
					if !strings.Contains(plan, w) {
						t.Errorf("plan has no %q:\n%s", w, plan)
					}
				}
				for _, n := range tc.not {
					if strings.Contains(plan, n) {
						t.Errorf("plan has %q:\n%s", n, plan)
					}
				}
			})
		}
	})
}

func pick(db *store.DB, postgres, sqlite []string) []string {
	if db.Dialect == store.Postgres {
		return postgres
	}
	return sqlite
}
