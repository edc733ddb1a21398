package funnel

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// world writes a fixed pseudo-random stream (seeded, so every run is the
// same): people, some anonymous, receiving texts of two campaigns and
// clicking, viewing cards, filling carts and buying, at distinct whole
// seconds per person (so "no earlier than the step before" is the same in
// stream order and in time, which the plain SQL below relies on).
func world(t testing.TB, db *store.DB, people int) map[string][]event.Event {
	t.Helper()
	r := rand.New(rand.NewPCG(7, 11))
	types := []string{event.SMSDelivered, event.LinkClicked, event.CardViewed, event.CartUpdated, event.CheckoutStarted,
		event.BasketCommitted, event.OrderPlaced, event.PageViewed}
	out := map[string][]event.Event{}
	var all []event.Event
	for p := 0; p < people; p++ {
		var member, anon, person string
		if p%5 == 4 {
			anon = fmt.Sprintf("anon%04d", p)
			person = "anon:" + anon
		} else {
			member = fmt.Sprintf("mem_%04d", p)
			person = member
		}
		n := 1 + r.IntN(12)
		used := map[int]bool{}
		for i := 0; i < n; i++ {
			sec := r.IntN(10 * 24 * 3600)
			for used[sec] {
				sec++
			}
			used[sec] = true
			ev := event.Event{
				EventID: fmt.Sprintf("w%d-%d", p, i), Type: types[r.IntN(len(types))], Time: t0.Add(time.Duration(sec) * time.Second),
				Channel: event.Web, MemberID: member, AnonymousID: anon,
			}
			if ev.Type == event.SMSDelivered || ev.Type == event.LinkClicked {
				ev.Campaign = []string{"c1", "c2"}[r.IntN(2)]
				ev.Channel = event.SMS
			}
			all = append(all, ev)
			out[person] = append(out[person], ev)
		}
	}
	err := db.Tx(context.Background(), func(tx *sql.Tx) error { return event.Record(context.Background(), tx, db.Dialect, all...) })
	if err != nil {
		t.Fatal(err)
	}
	for _, evs := range out {
		sort.Slice(evs, func(i, j int) bool { return evs[i].Time.Before(evs[j].Time) })
	}
	return out
}

// reference is a second, deliberately plain reading of the rules: for each
// person and breakdown value, the earliest entry in range, then for each
// step the earliest qualifying event by brute force over all events.
func reference(def Definition, from, to time.Time, people map[string][]event.Event) map[string][]int {
	out := map[string][]int{}
	win := time.Duration(def.Window)
	typeOK := func(s Step, e event.Event) bool {
		if !slices.Contains(s.Types, e.Type) {
			return false
		}
		if c, ok := s.Where["campaign"]; ok && e.Campaign != c {
			return false
		}
		return true
	}
	for _, evs := range people {
		keys := map[string]time.Time{}
		for _, e := range evs {
			if e.Time.Before(from) || !e.Time.Before(to) || !typeOK(def.Steps[0], e) {
				continue
			}
			k := ""
			if def.Breakdown == "campaign" {
				k = e.Campaign
			}
			if first, ok := keys[k]; !ok || e.Time.Before(first) {
				keys[k] = e.Time
			}
		}
		for k, start := range keys {
			if out[k] == nil {
				out[k] = make([]int, len(def.Steps))
			}
			out[k][0]++
			prev := start
			for s := 1; s < len(def.Steps); s++ {
				var best *time.Time
				for _, e := range evs {
					if typeOK(def.Steps[s], e) && !e.Time.Before(prev) && !e.Time.After(start.Add(win)) && (best == nil || e.Time.Before(*best)) {
						tm := e.Time
						best = &tm
					}
				}
				if best == nil {
					break
				}
				out[k][s]++
				prev = *best
			}
		}
	}
	return out
}

// plainSQL counts the buy pipeline of campaign with nothing but SQL over
// the events table: the first entry per person, then for each step the
// earliest qualifying time, in epoch seconds.
func plainSQL(t *testing.T, db *store.DB, campaign string, from, to time.Time, window time.Duration) ([]int, []int64) {
	t.Helper()
	ep := db.Dialect.EpochBucket("occurred_at", 1)
	w := int64(window / time.Second)
	next := func(prev, types string) string {
		return fmt.Sprintf(`(SELECT MIN(ep) FROM x WHERE x.person = a.person AND x.type IN (%s) AND x.ep >= a.%s AND x.ep <= a.t1 + %d)`, types, prev, w)
	}
	q := fmt.Sprintf(`WITH x AS (SELECT COALESCE(member_id, 'anon:' || anonymous_id) AS person, type, campaign, %s AS ep FROM events),
		a1 AS (SELECT person, MIN(ep) AS t1 FROM x WHERE type = 'sms_delivered' AND campaign = '%s' AND ep >= %d AND ep < %d GROUP BY person),
		a2 AS (SELECT a.person, a.t1, %s AS t2 FROM a1 a),
		a3 AS (SELECT a.person, a.t1, a.t2, %s AS t3 FROM a2 a),
		a4 AS (SELECT a.person, a.t1, a.t2, a.t3, %s AS t4 FROM a3 a)
		SELECT t2, t3, t4, t1 FROM a4`,
		ep, campaign, from.Unix(), to.Unix(),
		next("t1", `'link_clicked', 'card_viewed'`),
		next("t2", `'cart_updated', 'checkout_started', 'basket_committed'`),
		next("t3", `'order_placed', 'basket_committed'`))
	rows, err := db.R.Query(q)
	if err != nil {
		t.Fatalf("plain SQL: %v", err)
	}
	defer rows.Close()
	counts := make([]int, 4)
	var spans []int64
	for rows.Next() {
		var t2, t3, t4 sql.NullInt64
		var t1 int64
		if err := rows.Scan(&t2, &t3, &t4, &t1); err != nil {
			t.Fatal(err)
		}
		counts[0]++
		for i, v := range []sql.NullInt64{t2, t3, t4} {
			if v.Valid {
				counts[i+1]++
			}
		}
		if t4.Valid {
			spans = append(spans, t4.Int64-t1)
		}
	}
	slices.Sort(spans)
	return counts, spans
}

func countsOf(g Group) []int {
	var c []int
	for _, s := range g.Steps {
		c = append(c, s.Count)
	}
	return c
}

// TestRun_EqualsPlainSQLAndAReferenceImplementation: the service's figures
// over a stored stream equal two independent recomputations, per campaign
// and with a breakdown, on both databases.
func TestRun_EqualsPlainSQLAndAReferenceImplementation(t *testing.T) {
	storetest.EachIsolated(t, func(t *testing.T, db *store.DB) {
		people := world(t, db, 400)
		s := NewService(db, nil)
		from, to := t0.Add(24*time.Hour), t0.Add(8*24*time.Hour)
		for _, campaign := range []string{"c1", "c2"} {
			def := BuyPipeline(campaign, 48*time.Hour)
			r, err := s.Run(context.Background(), def, from, to)
			if err != nil {
				t.Fatal(err)
			}
			got := countsOf(r.Groups[0])
			ref := reference(def, from, to, people)[""]
			sqlCounts, spans := plainSQL(t, db, campaign, from, to, 48*time.Hour)
			if fmt.Sprint(got) != fmt.Sprint(ref) || fmt.Sprint(got) != fmt.Sprint(sqlCounts) {
				t.Errorf("%s: service %v, reference %v, plain SQL %v", campaign, got, ref, sqlCounts)
			}
			if got[3] == 0 || got[0] < 20 {
				t.Errorf("%s: the world is too thin to test anything: %v", campaign, got)
			}
			if m := r.Groups[0].MedianSeconds; m == nil || len(spans) == 0 || *m != spans[(len(spans)-1)/2] {
				t.Errorf("%s: median %v, plain SQL's spans %v", campaign, m, spans)
			}
		}
		def := Definition{Name: "by-campaign", Window: Duration(24 * time.Hour), Breakdown: "campaign",
			Steps: []Step{{Types: []string{event.SMSDelivered}}, {Types: []string{event.LinkClicked, event.CardViewed}},
				{Types: []string{event.OrderPlaced, event.BasketCommitted}}}}
		r, err := s.Run(context.Background(), def, from, to)
		if err != nil {
			t.Fatal(err)
		}
		ref := reference(def, from, to, people)
		var keys []string
		for _, g := range r.Groups {
			keys = append(keys, g.Key)
			if fmt.Sprint(countsOf(g)) != fmt.Sprint(ref[g.Key]) {
				t.Errorf("breakdown %s: service %v, reference %v", g.Key, countsOf(g), ref[g.Key])
			}
		}
		if strings.Join(keys, ",") != "c1,c2" || len(ref) != 2 {
			t.Errorf("keys %v, reference %v", keys, ref)
		}
	})
}
