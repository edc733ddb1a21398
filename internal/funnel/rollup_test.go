package funnel

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// denseWorld writes people who act in bursts: a few days each, several
// events of the funnel's types a day, so many rollup rows fold three
// events or more and entries and steps fall inside them, the case where
// the rollup alone cannot answer. Times are distinct whole seconds per
// person, as world's are.
func denseWorld(t testing.TB, db *store.DB, people int) map[string][]event.Event {
	t.Helper()
	r := rand.New(rand.NewPCG(3, 5))
	types := []string{event.SMSDelivered, event.SMSDelivered, event.LinkClicked, event.CardViewed, event.CartUpdated,
		event.CartUpdated, event.BasketCommitted, event.OrderPlaced}
	out := map[string][]event.Event{}
	var all []event.Event
	for p := 0; p < people; p++ {
		member, anon, person := fmt.Sprintf("mem_d%04d", p), "", ""
		person = member
		if p%4 == 3 {
			member, anon, person = "", fmt.Sprintf("anon_d%04d", p), "anon:"+fmt.Sprintf("anon_d%04d", p)
		}
		used := map[int]bool{}
		for range 1 + r.IntN(3) {
			day := r.IntN(10)
			for range 2 + r.IntN(8) {
				sec := day*24*3600 + r.IntN(6*3600)
				for used[sec] {
					sec++
				}
				used[sec] = true
				ev := event.Event{EventID: fmt.Sprintf("d%d-%d", p, len(used)), Type: types[r.IntN(len(types))],
					Time: t0.Add(time.Duration(sec) * time.Second), MemberID: member, AnonymousID: anon,
					Channel: []event.Channel{event.Web, event.App, event.POS}[r.IntN(3)]}
				if ev.Type == event.SMSDelivered || ev.Type == event.LinkClicked {
					ev.Campaign, ev.Channel = []string{"c1", "c2"}[r.IntN(2)], event.SMS
				}
				all = append(all, ev)
				out[person] = append(out[person], ev)
			}
		}
	}
	record(t, db, all...)
	for _, evs := range out {
		sort.Slice(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
	}
	return out
}

func record(t testing.TB, db *store.DB, evs ...event.Event) {
	t.Helper()
	ctx := context.Background()
	if err := db.Tx(ctx, func(tx *sql.Tx) error { return event.Record(ctx, tx, db.Dialect, evs...) }); err != nil {
		t.Fatal(err)
	}
}

// TestRollup_GivesTheStreamsFigures: for funnels with and without a
// breakdown, column filters, short and long windows and ranges that start
// inside a day's burst, the report from the rollup equals the report from
// the stream in every figure (counts, conversions, drop-off, median), and
// the counts equal the brute-force reference. Some people must be read
// from the stream (their answer lies inside a row) and most must not.
func TestRollup_GivesTheStreamsFigures(t *testing.T) {
	storetest.EachIsolated(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		people := denseWorld(t, db, 300)
		for p, evs := range world(t, db, 200) {
			people[p] = evs
		}
		s := NewService(db, nil)
		if _, err := s.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		pos := BuyPipeline("c1", 48*time.Hour)
		pos.Name, pos.Steps[3].Where = "pos", map[string]string{"channel": "pos"}
		byCampaign := Definition{Name: "by-campaign", Window: Duration(6 * time.Hour), Breakdown: "campaign",
			Steps: []Step{{Types: []string{event.SMSDelivered}}, {Types: []string{event.LinkClicked, event.CardViewed}},
				{Types: []string{event.CartUpdated, event.BasketCommitted}}}}
		byChannel := Definition{Name: "by-channel", Window: Duration(24 * time.Hour), Breakdown: "channel",
			Steps: []Step{{Types: []string{event.CartUpdated}}, {Types: []string{event.CartUpdated}}, {Types: []string{event.OrderPlaced, event.BasketCommitted}}}}
		cases := []struct {
			name      string
			def       Definition
			from, to  time.Time
			reference bool // the reference knows campaign filters and breakdowns only
		}{
			{"buy pipeline, 48h", BuyPipeline("c1", 48*time.Hour), t0.Add(24 * time.Hour), t0.Add(8 * 24 * time.Hour), true},
			{"buy pipeline, 30m", BuyPipeline("c2", 30*time.Minute), t0, t0.Add(10 * 24 * time.Hour), true},
			{"from inside a burst", BuyPipeline("c2", 7*24*time.Hour), t0.Add(2*24*time.Hour + 2*time.Hour), t0.Add(6*24*time.Hour + 90*time.Minute), true},
			{"purchase at a till only", pos, t0, t0.Add(10 * 24 * time.Hour), false},
			{"by campaign", byCampaign, t0.Add(time.Hour), t0.Add(9 * 24 * time.Hour), true},
			{"by channel, a step met twice", byChannel, t0.Add(3 * time.Hour), t0.Add(10 * 24 * time.Hour), false},
		}
		fellBack, entered := 0, 0
		for _, tc := range cases {
			if err := tc.def.Validate(); err != nil {
				t.Fatal(err)
			}
			t.Run(tc.name, func(t *testing.T) {
				want, err := s.runStream(ctx, tc.def, tc.from, tc.to)
				if err != nil {
					t.Fatal(err)
				}
				got, n, err := s.runRollup(ctx, tc.def, tc.from, tc.to)
				if err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(got, want) {
					t.Errorf("rollup %+v\nstream %+v", got.Groups, want.Groups)
				}
				if tc.reference {
					ref := reference(tc.def, tc.from, tc.to, people)
					for _, g := range got.Groups {
						if fmt.Sprint(countsOf(g)) != fmt.Sprint(ref[g.Key]) {
							t.Errorf("group %q: rollup %v, reference %v", g.Key, countsOf(g), ref[g.Key])
						}
					}
				}
				if len(got.Groups) == 0 || got.Groups[0].Steps[0].Count == 0 || got.Groups[0].Steps[len(tc.def.Steps)-1].Count == 0 {
					t.Errorf("the world is too thin to test anything: %+v", got.Groups)
				}
				fellBack += n
				for _, g := range got.Groups {
					entered += g.Steps[0].Count
				}
			})
		}
		t.Logf("%d of %d entries read from the stream", fellBack, entered)
		if fellBack == 0 || fellBack*4 > entered {
			t.Errorf("%d of %d entries read from the stream: want some, and far fewer than all", fellBack, entered)
		}
	})
}

// TestRollup_FollowsMergesAndLateEvents: an anonymous shopper's events
// folded under their anonymous id move to the member when the id is tied
// (the person counts once, with their earlier steps); an event that
// arrives late, dated in a range already reported, changes the report; in
// each state the rollup's report equals the stream's, from the rollup's
// rows and from a tracked funnel's per-person state alike.
func TestRollup_FollowsMergesAndLateEvents(t *testing.T) {
	for _, tracked := range []bool{false, true} {
		t.Run(map[bool]string{false: "rollup rows", true: "tracked"}[tracked], func(t *testing.T) { followsMergesAndLateEvents(t, tracked) })
	}
}

func followsMergesAndLateEvents(t *testing.T, tracked bool) {
	storetest.EachIsolated(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := NewService(db, nil)
		at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
		def := Definition{Name: "web", Window: Duration(24 * time.Hour), Steps: []Step{
			{Types: []string{event.ProductViewed}}, {Types: []string{event.CartUpdated}}, {Types: []string{event.BasketCommitted}}}}
		if err := def.Validate(); err != nil {
			t.Fatal(err)
		}
		if tracked {
			if _, err := s.Track(ctx, def); err != nil {
				t.Fatal(err)
			}
		}
		check := func(step string, want []int, rows int) {
			t.Helper()
			stream, err := s.runStream(ctx, def, t0, at(48*60))
			if err != nil {
				t.Fatal(err)
			}
			if r, _, err := s.runTracked(ctx, def, t0, at(48*60)); err != nil || (r != nil) != tracked {
				t.Fatalf("%s: from the state %v, %v; want one: %v", step, r, err, tracked)
			}
			r, err := s.Run(ctx, def, t0, at(48*60))
			if err != nil {
				t.Fatal(err)
			}
			if got := countsOf(r.Groups[0]); fmt.Sprint(got) != fmt.Sprint(want) || !reflect.DeepEqual(r, stream) {
				t.Errorf("%s: rollup %v (%+v), want %v, stream %+v", step, got, r.Groups, want, stream.Groups)
			}
			var anon, total int
			if err := db.R.QueryRow(`SELECT COUNT(*), COALESCE(SUM(CASE WHEN person LIKE 'anon:%' THEN 1 ELSE 0 END), 0) FROM funnel_rollup`).Scan(&total, &anon); err != nil {
				t.Fatal(err)
			}
			if total != rows {
				t.Errorf("%s: %d rollup rows (%d anonymous), want %d", step, total, anon, rows)
			}
		}
		// A browser views and carts coffee; Ann, already a member, buys at a till.
		record(t, db,
			event.Event{EventID: "a1", Type: event.ProductViewed, Time: at(10), AnonymousID: "browser", Channel: event.Web},
			event.Event{EventID: "a2", Type: event.CartUpdated, Time: at(20), AnonymousID: "browser", Channel: event.Web},
			event.Event{EventID: "m1", Type: event.BasketCommitted, Time: at(90), MemberID: "mem_ann", Channel: event.POS})
		check("anonymous", []int{1, 1, 0}, 3)
		// The browser opens Ann's card page: it becomes Ann, who now went all the way.
		record(t, db, event.Event{EventID: "m2", Type: event.CardViewed, Time: at(100), AnonymousID: "browser", MemberID: "mem_ann", Channel: event.Card})
		check("merged", []int{1, 1, 1}, 5) // viewed, carted, basket, card, the merge itself
		// A till's basket from the morning arrives late: Ann carted again before it, so nothing moves...
		record(t, db, event.Event{EventID: "m3", Type: event.CartUpdated, Time: at(15), MemberID: "mem_ann", Channel: event.Web})
		check("late cart", []int{1, 1, 1}, 5) // folded into the morning's cart row
		// ...but a late product view of Bob's, and his basket, enter him.
		record(t, db,
			event.Event{EventID: "b1", Type: event.BasketCommitted, Time: at(40 * 60), MemberID: "mem_bob", Channel: event.POS},
			event.Event{EventID: "b2", Type: event.ProductViewed, Time: at(5), MemberID: "mem_bob", Channel: event.Web})
		check("late view", []int{2, 1, 1}, 7)
	})
}

// TestRefresh_InStepsEqualsOnceAtTheEnd: the rollup folded batch by batch,
// with merges in between, is the rollup folded from scratch in one go; so
// is a tracked funnel's per-person state, and both equal the state computed
// at once when the funnel is tracked after the fact.
func TestRefresh_InStepsEqualsOnceAtTheEnd(t *testing.T) {
	storetest.EachIsolated(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := NewService(db, nil)
		def := Definition{Name: "carts", Window: Duration(48 * time.Hour), Breakdown: "channel", Steps: []Step{
			{Types: []string{event.PageViewed}}, {Types: []string{event.CartUpdated}}, {Types: []string{event.BasketCommitted}}}}
		if _, err := s.Track(ctx, def); err != nil {
			t.Fatal(err)
		}
		r := rand.New(rand.NewPCG(9, 9))
		for batch := range 12 {
			var evs []event.Event
			for i := range 40 {
				e := event.Event{EventID: fmt.Sprintf("r%d-%d", batch, i), Type: []string{event.CartUpdated, event.PageViewed, event.BasketCommitted}[r.IntN(3)],
					Time: t0.Add(time.Duration(r.IntN(5*24*3600)) * time.Second), Channel: event.Web, AnonymousID: fmt.Sprintf("a%d", r.IntN(30))}
				if r.IntN(3) == 0 {
					e.MemberID = fmt.Sprintf("mem_%d", r.IntN(10)) // ties the id, unless it already is someone's
				}
				evs = append(evs, e)
			}
			record(t, db, evs...)
			if batch%3 != 2 {
				if _, err := s.Refresh(ctx); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := s.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		steps, stepsState := rollupRows(t, db), stateRows(t, db)
		if _, err := db.W.Exec(`DELETE FROM funnel_rollup`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.W.Exec(`DELETE FROM funnel_state`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.W.Exec(`UPDATE funnel_rollup_state SET done_tx = 0, done_id = 0`); err != nil {
			t.Fatal(err)
		}
		if n, err := s.Refresh(ctx); err != nil || n == 0 {
			t.Fatal(n, err)
		}
		once, onceState := rollupRows(t, db), stateRows(t, db)
		if !reflect.DeepEqual(steps, once) || len(once) < 100 {
			t.Errorf("in steps %d rows, at once %d rows; first difference:\n%v", len(steps), len(once), firstDiff(steps, once))
		}
		if !reflect.DeepEqual(stepsState, onceState) || len(onceState) < 30 {
			t.Errorf("state in steps %d rows, at once %d rows; first difference:\n%v", len(stepsState), len(onceState), firstDiff(stepsState, onceState))
		}
		if _, err := db.W.Exec(`DELETE FROM funnel_state`); err != nil {
			t.Fatal(err)
		}
		if _, err := db.W.Exec(`DELETE FROM funnel_tracked`); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Track(ctx, def); err != nil {
			t.Fatal(err)
		}
		// Tracked anew under another id: compare all but the id.
		after := stateRows(t, db)
		for i := range after {
			after[i] = after[i][strings.Index(after[i], " "):]
		}
		for i := range onceState {
			onceState[i] = onceState[i][strings.Index(onceState[i], " "):]
		}
		if !reflect.DeepEqual(after, onceState) {
			t.Errorf("state tracked after the fold %d rows, kept by it %d rows; first difference:\n%v", len(after), len(onceState), firstDiff(after, onceState))
		}
		var merged int
		db.R.QueryRow(`SELECT COUNT(*) FROM events WHERE type = 'identity_merged'`).Scan(&merged)
		if merged == 0 {
			t.Error("no merges: the test tests nothing of them")
		}
	})
}

// TestRefresh_InChunksEqualsOneChunk: a fold split into many short
// transactions (as on SQLite, where each holds the one writer and the
// tills and event batches waiting go in between two) leaves the rollup
// and the tracked funnels' state exactly as one transaction does, rows
// folded across a chunk boundary included, and commits once per chunk.
func TestRefresh_InChunksEqualsOneChunk(t *testing.T) {
	storetest.EachIsolated(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := NewService(db, nil)
		def := Definition{Name: "buy", Window: Duration(72 * time.Hour), Breakdown: "campaign", Steps: []Step{
			{Types: []string{event.SMSDelivered}}, {Types: []string{event.LinkClicked, event.CardViewed}},
			{Types: []string{event.BasketCommitted, event.OrderPlaced}}}}
		if _, err := s.Track(ctx, def); err != nil {
			t.Fatal(err)
		}
		world := denseWorld(t, db, 40)
		total := 0
		for _, evs := range world {
			total += len(evs)
		}
		fold := func(chunk int) (rollup, state []string, commits int64) {
			t.Helper()
			for _, q := range []string{`DELETE FROM funnel_rollup`, `DELETE FROM funnel_state`,
				`UPDATE funnel_rollup_state SET done_tx = 0, done_id = 0, gen = 0`} {
				if _, err := db.W.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			s.chunk = chunk
			if n, err := s.Refresh(ctx); err != nil || n != total {
				t.Fatalf("chunks of %d: folded %d of %d events (%v)", chunk, n, total, err)
			}
			if err := db.R.QueryRowContext(ctx, `SELECT gen FROM funnel_rollup_state`).Scan(&commits); err != nil {
				t.Fatal(err)
			}
			return rollupRows(t, db), stateRows(t, db), commits
		}
		small, smallState, commits := fold(7)
		one, oneState, _ := fold(total + 1)
		if want := int64((total + 6) / 7); commits != want {
			t.Errorf("%d events in chunks of 7: %d commits, want %d", total, commits, want)
		}
		if !reflect.DeepEqual(small, one) || len(one) < 100 {
			t.Errorf("rollup in chunks %d rows, in one %d rows; first difference:\n%v", len(small), len(one), firstDiff(small, one))
		}
		if !reflect.DeepEqual(smallState, oneState) || len(oneState) < 20 {
			t.Errorf("state in chunks %d rows, in one %d rows; first difference:\n%v", len(smallState), len(oneState), firstDiff(smallState, oneState))
		}
	})
}

func rollupRows(t *testing.T, db *store.DB) []string {
	t.Helper()
	rows, err := db.R.Query(`SELECT person, day, type, campaign, channel, store_id, n, first_us, first_id, last_us, last_id
		FROM funnel_rollup ORDER BY person, day, type, campaign, channel, store_id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p, typ, c, ch, st string
		var day, n, fu, fi, lu, li int64
		if err := rows.Scan(&p, &day, &typ, &c, &ch, &st, &n, &fu, &fi, &lu, &li); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprint(p, day, typ, c, ch, st, n, fu, fi, lu, li))
	}
	return out
}

func firstDiff(a, b []string) string {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return a[i] + "\n" + b[i]
		}
	}
	return "(one is a prefix of the other)"
}

// TestRun_CachesUntilADayItReadsChanges: a report asked again comes from
// the cache while no day it reads changed; a late event inside its days or
// a merge moving rows of those days makes it computed again (and right),
// one outside them does not.
func TestRun_CachesUntilADayItReadsChanges(t *testing.T) {
	storetest.EachIsolated(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s := NewService(db, nil)
		at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
		def := Definition{Name: "web", Window: Duration(24 * time.Hour), Steps: []Step{
			{Types: []string{event.ProductViewed}}, {Types: []string{event.OrderPlaced}}}}
		record(t, db,
			event.Event{EventID: "1", Type: event.ProductViewed, Time: at(1), MemberID: "mem_ann", Channel: event.Web},
			event.Event{EventID: "2", Type: event.ProductViewed, Time: at(2), AnonymousID: "browser", Channel: event.Web},
			event.Event{EventID: "3", Type: event.OrderPlaced, Time: at(3), AnonymousID: "browser", Channel: event.Web})
		steps := []struct {
			name   string
			add    []event.Event
			cached bool
			want   []int
		}{
			{"first", nil, false, []int{2, 1}},
			{"again", nil, true, []int{2, 1}},
			{"a late order of Ann's in range", []event.Event{{EventID: "4", Type: event.OrderPlaced, Time: at(5), MemberID: "mem_ann", Channel: event.Web}}, false, []int{2, 2}},
			{"an event days after the range and window", []event.Event{{EventID: "5", Type: event.ProductViewed, Time: at(24 * 9), MemberID: "mem_bob", Channel: event.Web}}, true, []int{2, 2}},
			{"the browser becomes Ann", []event.Event{{EventID: "6", Type: event.Identified, Time: at(24 * 9), AnonymousID: "browser", MemberID: "mem_ann", Channel: event.Web}}, false, []int{1, 1}},
			{"again after the merge", nil, true, []int{1, 1}},
		}
		for _, st := range steps {
			if len(st.add) > 0 {
				record(t, db, st.add...)
			}
			hits := s.hits
			r, err := s.Run(ctx, def, t0, at(48))
			if err != nil {
				t.Fatal(err)
			}
			stream, err := s.runStream(ctx, def, t0, at(48))
			if err != nil {
				t.Fatal(err)
			}
			if got := countsOf(r.Groups[0]); fmt.Sprint(got) != fmt.Sprint(st.want) || !reflect.DeepEqual(r, stream) {
				t.Errorf("%s: %v, want %v; stream %+v", st.name, got, st.want, stream.Groups)
			}
			if cached := s.hits > hits; cached != st.cached {
				t.Errorf("%s: from the cache %v, want %v", st.name, cached, st.cached)
			}
		}
	})
}
