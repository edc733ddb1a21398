package funnel

import (
	"context"
	"database/sql"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestTracked_GivesTheStreamsFigures: for tracked funnels (some tracked
// before their events were folded, kept by the fold; some after, computed
// for everyone at once), with and without a breakdown, column filters,
// short and long windows, ranges from midnight and from inside a day's
// burst, the report from the per-person state equals the report from the
// stream in every figure, and the counts equal the brute-force reference.
// Some people must be read from the stream (step-1 events on both sides of
// from in from's day) and most must not.
func TestTracked_GivesTheStreamsFigures(t *testing.T) {
	storetest.EachIsolated(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := NewService(db, nil)
		pos := BuyPipeline("c1", 48*time.Hour)
		pos.Name, pos.Steps[3].Where = "pos", map[string]string{"channel": "pos"}
		byCampaign := Definition{Name: "by-campaign", Window: Duration(6 * time.Hour), Breakdown: "campaign",
			Steps: []Step{{Types: []string{event.SMSDelivered}}, {Types: []string{event.LinkClicked, event.CardViewed}},
				{Types: []string{event.CartUpdated, event.BasketCommitted}}}}
		byChannel := Definition{Name: "by-channel", Window: Duration(24 * time.Hour), Breakdown: "channel",
			Steps: []Step{{Types: []string{event.CartUpdated}}, {Types: []string{event.CartUpdated}}, {Types: []string{event.OrderPlaced, event.BasketCommitted}}}}
		midnight := t0.Truncate(24 * time.Hour)
		cases := []struct {
			name         string
			def          Definition
			from, to     time.Time
			trackedFirst bool // tracked before the events are folded
			reference    bool // the reference knows campaign filters and breakdowns only
		}{
			{"buy pipeline, 48h", BuyPipeline("c1", 48*time.Hour), t0.Add(24 * time.Hour), t0.Add(8 * 24 * time.Hour), true, true},
			{"buy pipeline, 30m, whole days", BuyPipeline("c2", 30*time.Minute), midnight, midnight.Add(10 * 24 * time.Hour), false, true},
			{"from inside a burst", BuyPipeline("c2", 7*24*time.Hour), t0.Add(2*24*time.Hour + 2*time.Hour), t0.Add(6*24*time.Hour + 90*time.Minute), true, true},
			{"purchase at a till only", pos, t0, t0.Add(10 * 24 * time.Hour), false, false},
			{"by campaign", byCampaign, t0.Add(time.Hour), t0.Add(9 * 24 * time.Hour), true, true},
			{"by channel, a step met twice", byChannel, t0.Add(3 * time.Hour), t0.Add(10 * 24 * time.Hour), false, false},
		}
		for _, tc := range cases {
			if err := tc.def.Validate(); err != nil {
				t.Fatal(err)
			}
			if tc.trackedFirst {
				if added, err := s.Track(ctx, tc.def); err != nil || !added {
					t.Fatal(added, err)
				}
			}
		}
		people := denseWorld(t, db, 300)
		for p, evs := range world(t, db, 200) {
			people[p] = evs
		}
		if _, err := s.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		split, entered := 0, 0
		for _, tc := range cases {
			if added, err := s.Track(ctx, tc.def); err != nil || added == tc.trackedFirst {
				t.Fatalf("%s: tracked again: added %v, %v", tc.name, added, err)
			}
			t.Run(tc.name, func(t *testing.T) {
				want, err := s.runStream(ctx, tc.def, tc.from, tc.to)
				if err != nil {
					t.Fatal(err)
				}
				got, n, err := s.runTracked(ctx, tc.def, tc.from, tc.to)
				if err != nil || got == nil {
					t.Fatal(got, err)
				}
				if !reflect.DeepEqual(*got, want) {
					t.Errorf("state %+v\nstream %+v", got.Groups, want.Groups)
				}
				if tc.reference {
					ref := reference(tc.def, tc.from, tc.to, people)
					for _, g := range got.Groups {
						if fmt.Sprint(countsOf(g)) != fmt.Sprint(ref[g.Key]) {
							t.Errorf("group %q: state %v, reference %v", g.Key, countsOf(g), ref[g.Key])
						}
					}
				}
				if len(got.Groups) == 0 || got.Groups[0].Steps[0].Count == 0 || got.Groups[0].Steps[len(tc.def.Steps)-1].Count == 0 {
					t.Errorf("the world is too thin to test anything: %+v", got.Groups)
				}
				split += n
				for _, g := range got.Groups {
					entered += g.Steps[0].Count
				}
			})
		}
		t.Logf("%d of %d entries read from the stream", split, entered)
		if split == 0 || split*10 > entered {
			t.Errorf("%d of %d entries read from the stream: want some, and far fewer than all", split, entered)
		}
	})
}

// TestTrack_RefusesPropertyFilters: a funnel filtering on properties is
// read from the stream; tracking it is refused, naming the steps.
func TestTrack_RefusesPropertyFilters(t *testing.T) {
	storetest.EachIsolated(t, func(t *testing.T, db *store.DB) {
		def := Definition{Name: "sku", Window: Duration(time.Hour), Steps: []Step{
			{Types: []string{event.ProductViewed}, Where: map[string]string{"properties.sku": "coffee"}}, {Types: []string{event.OrderPlaced}}}}
		if _, err := NewService(db, nil).Track(context.Background(), def); !containsField(err, "steps") {
			t.Errorf("Track: %v, want an error on steps", err)
		}
	})
}

// stateRows lists every funnel_state row in key order.
func stateRows(t *testing.T, db *store.DB) []string {
	t.Helper()
	rows, err := db.R.Query(`SELECT funnel, day, person, key, entry_us, last_us, prev_us, reached, span_us
		FROM funnel_state ORDER BY funnel, day, person, key`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var f, day, entry, last, reached, span int64
		var person, key string
		var prev sql.NullInt64
		if err := rows.Scan(&f, &day, &person, &key, &entry, &last, &prev, &reached, &span); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(f, day, person, key, entry, last, prev, reached, span))
	}
	return out
}

// TestRefresh_NeitherWaitsForNorSkipsAnOpenWriter: on PostgreSQL an event
// written by a transaction still open (its id smaller than one committed
// after it) does not make Refresh wait, and is not skipped: nothing after
// it is folded until it ends, then both are. (SQLite's one writer commits
// ids in order; a Refresh there queues behind the writer.)
func TestRefresh_NeitherWaitsForNorSkipsAnOpenWriter(t *testing.T) {
	db := storetest.PostgresIsolated(t)
	ctx := context.Background()
	s := NewService(db, nil)
	s.settle = 0 // fold what is final now
	open, err := db.W.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer open.Rollback()
	if err := event.Record(ctx, open, db.Dialect, event.Event{EventID: "early", Type: event.CartUpdated, Time: t0, MemberID: "mem_ann", Channel: event.Web}); err != nil {
		t.Fatal(err)
	}
	record(t, db, event.Event{EventID: "late", Type: event.CartUpdated, Time: t0.Add(time.Minute), MemberID: "mem_bob", Channel: event.Web})
	var early, late int64
	if err := open.QueryRow(`SELECT id FROM events WHERE event_id = 'early'`).Scan(&early); err != nil {
		t.Fatal(err)
	}
	if err := db.R.QueryRow(`SELECT id FROM events WHERE event_id = 'late'`).Scan(&late); err != nil {
		t.Fatal(err)
	}
	if early >= late {
		t.Fatalf("ids %d, %d: the open writer's id should be the smaller", early, late)
	}
	// The old SHARE lock would wait for the open writer: the deadline ends it.
	short, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if n, err := s.Refresh(short); err != nil || n != 0 {
		t.Fatalf("with a writer open: folded %d, %v; want 0 (the committed event waits behind it)", n, err)
	}
	if err := open.Commit(); err != nil {
		t.Fatal(err)
	}
	if n, err := s.Refresh(ctx); err != nil || n != 2 {
		t.Fatalf("after it ended: folded %d, %v; want 2", n, err)
	}
	var rows int
	if err := db.R.QueryRow(`SELECT COUNT(*) FROM funnel_rollup WHERE person IN ('mem_ann', 'mem_bob')`).Scan(&rows); err != nil || rows != 2 {
		t.Fatalf("%d rollup rows, %v; want 2", rows, err)
	}
}

// TestSave_TracksTheFunnelAndUntracksWhatItReplaces: a stored funnel is
// tracked (its reports read its state), one that replaces it under the
// same name is tracked instead and the old state is dropped, and one that
// filters on properties is not tracked.
func TestSave_TracksTheFunnelAndUntracksWhatItReplaces(t *testing.T) {
	storetest.EachIsolated(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := NewService(db, nil)
		record(t, db,
			event.Event{EventID: "1", Type: event.ProductViewed, Time: t0, MemberID: "mem_ann", Channel: event.Web},
			event.Event{EventID: "2", Type: event.OrderPlaced, Time: t0.Add(time.Hour), MemberID: "mem_ann", Channel: event.Web})
		if _, err := s.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		def := Definition{Name: "web", Window: Duration(24 * time.Hour), Steps: []Step{
			{Types: []string{event.ProductViewed}}, {Types: []string{event.OrderPlaced}}}}
		narrow := def
		narrow.Window = Duration(30 * time.Minute)
		sku := def
		sku.Name, sku.Steps = "sku", []Step{{Types: []string{event.ProductViewed}, Where: map[string]string{"properties.sku": "coffee"}}, def.Steps[1]}
		tracked := func(d Definition) bool {
			t.Helper()
			if err := d.Validate(); err != nil {
				t.Fatal(err)
			}
			r, _, err := s.runTracked(ctx, d, t0, t0.Add(24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			return r != nil
		}
		states := func() int {
			t.Helper()
			var n int
			if err := db.R.QueryRow(`SELECT COUNT(*) FROM funnel_state`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		steps := []struct {
			name             string
			save             Definition
			def, narrow, sku bool
			stateRows        int
		}{
			{"saved", def, true, false, false, 1},
			{"replaced by a narrower window", narrow, false, true, false, 1},
			{"filtering on properties", sku, false, true, false, 1},
		}
		for _, st := range steps {
			if _, err := s.Save(ctx, st.save); err != nil {
				t.Fatal(err)
			}
			if got := [3]bool{tracked(def), tracked(narrow), tracked(sku)}; got != [3]bool{st.def, st.narrow, st.sku} {
				t.Errorf("%s: tracked (def, narrow, sku) %v, want %v", st.name, got, [3]bool{st.def, st.narrow, st.sku})
			}
			if n := states(); n != st.stateRows {
				t.Errorf("%s: %d state rows, want %d", st.name, n, st.stateRows)
			}
		}
	})
}
