package journey

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// The runner sleeps until the next timer falls due, so it must be able to
// read that time on both databases: on SQLite an aggregate's value came back
// as text, the read failed, and every timer waited for the next 1 s tick
// (a lag of half a second on average at steady state).
func TestNextDue_IsTheEarliestTimerAfterNowOnBothDatabases(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
		s := NewService(db, Options{Now: func() time.Time { return now }})
		if _, ok, err := s.nextDue(context.Background()); ok || err != nil {
			t.Fatalf("no enrolments: ok %v, %v; want none", ok, err)
		}
		for i, e := range []struct {
			state string
			next  time.Time
		}{
			{"active", now.Add(-time.Second)},            // due already: this pass's
			{"active", now.Add(1500 * time.Millisecond)}, // the next
			{"active", now.Add(3 * time.Second)},         // later
			{"ended", now.Add(500 * time.Millisecond)},   // gone
		} {
			if _, err := db.W.Exec(`INSERT INTO journey_enrolments (id, journey, version, member_id, state, next_at, entered_at, trigger_seq)
				VALUES ($1, 'j', 1, $2, $3, $4, $5, 1)`, fmt.Sprint("e", i), fmt.Sprint("m", i), e.state, e.next, now); err != nil {
				t.Fatal(err)
			}
		}
		next, ok, err := s.nextDue(context.Background())
		if err != nil || !ok || !next.Equal(now.Add(1500*time.Millisecond)) {
			t.Errorf("next due %v (ok %v, %v), want %v", next, ok, err, now.Add(1500*time.Millisecond))
		}
	})
}
