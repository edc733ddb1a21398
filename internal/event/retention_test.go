package event

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
)

// at is a client event of an anonymous browser at time t.
func at(id string, t time.Time) string {
	return `{"event_id":"` + id + `","type":"page_viewed","time":"` + t.Format(time.RFC3339) +
		`","channel":"web","anonymous_id":"a1","properties":{"url":"/"}}`
}

func TestRetention_RemovesWholeDaysBeforeTheCutoffAndRefusesThem(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		cut := time.Date(2026, 11, 25, 0, 0, 0, 0, time.UTC) // the day 10 days before t0, from its start
		clock := testenv.NewClock(cut.Add(12 * time.Hour))
		s := NewService(db, Options{Now: clock.Now, Retention: 10 * 24 * time.Hour})
		if got := Cutoff(t0, 10*24*time.Hour); !got.Equal(cut) {
			t.Fatalf("Cutoff = %v, want %v", got, cut)
		}
		// Sent ten days ago, when none of them was too old yet.
		res := ingest(t, s, batch(
			at("old", cut.Add(-36*time.Hour)),
			at("last-second", cut.Add(-time.Second)),
			at("first-second", cut),
		))
		if res.Accepted != 3 {
			t.Fatalf("first batch = %+v", res)
		}
		clock.Set(t0)
		res = ingest(t, s, batch(at("recent", t0), at("too-old", cut.Add(-time.Minute)), at("old", cut.Add(time.Hour))))
		if res.Accepted != 1 || res.Duplicates != 1 || len(res.Rejected) != 1 || res.Rejected[0].Code != "time_too_old" || res.Rejected[0].Index != 1 {
			t.Fatalf("second batch = %+v: want recent kept, too-old refused, old (sent again with another time) a duplicate", res)
		}
		// Perk's own event on a day no partition exists for yet.
		record(t, db, Event{EventID: "perk:later", Type: CardViewed, Time: t0.AddDate(0, 0, 20), Channel: Card, MemberID: "mem_x"})

		m, err := s.Maintain(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var kept []string
		for id := range owners(t, db) {
			kept = append(kept, id)
		}
		slices.Sort(kept)
		if want := []string{"first-second", "perk:later", "recent"}; !slices.Equal(kept, want) {
			t.Errorf("kept %v, want %v", kept, want)
		}
		if db.Dialect == store.Postgres {
			if want := []string{"events_20261123", "events_20261124"}; !slices.Equal(m.Dropped, want) {
				t.Errorf("dropped %v, want %v", m.Dropped, want)
			}
			if want := []string{"events_20261206", "events_20261207", "events_20261208", "events_20261225"}; !slices.Equal(m.Created, want) {
				t.Errorf("created %v, want the days ahead (today's came with the batch) and the stray row's day", m.Created)
			}
			if n := count(t, db, `SELECT COUNT(*) FROM events_default`); n != 0 {
				t.Errorf("%d rows left in events_default", n)
			}
			if n := count(t, db, `SELECT COUNT(*) FROM events_20261225`); n != 1 {
				t.Errorf("the stray row is not in its day's partition")
			}
			if n := count(t, db, `SELECT COUNT(*) FROM event_ids WHERE occurred_at < $1`, cut); n != 0 {
				t.Errorf("%d event_ids of dropped days kept", n)
			}
		} else if m.Deleted != 2 {
			t.Errorf("deleted %d rows, want 2", m.Deleted)
		}
		// A second run finds nothing to do.
		if m, err := s.Maintain(ctx); err != nil || len(m.Created)+len(m.Dropped) != 0 || m.Deleted != 0 {
			t.Errorf("second Maintain = %+v, %v", m, err)
		}
	})
}

func TestRetention_KeepsEverythingWhenZero(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, _ := newService(t, db)
		res := ingest(t, s, batch(at("ancient", t0.AddDate(-5, 0, 0)), at("now", t0)))
		if res.Accepted != 2 {
			t.Fatalf("batch = %+v", res)
		}
		if _, err := s.Maintain(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM events`); n != 2 {
			t.Errorf("%d events, want both kept", n)
		}
	})
}
