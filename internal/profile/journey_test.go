package profile_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/journey"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/profile"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestJourney_TriggeredByEnteringASegment: a journey triggered by
// segment_entered with segment champions enrols the member the refresh
// made a champion, and no one else; a member who becomes a champion later
// (through the incremental pass) enrols then.
func TestJourney_TriggeredByEnteringASegment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, profile.Options{})
		js := journey.NewService(db, journey.Options{Now: w.clock.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Offers: w.campaigns, PublicURL: "https://perk.test", Programme: "Test"})
		if _, err := js.Apply(ctx, journey.Definition{Name: "welcome-champions",
			Trigger: journey.Filter{Event: profile.SegmentEntered, Where: map[string]string{"properties.segment": "champions"}},
			Steps:   []journey.Step{{ID: "bye", Exit: true}}}); err != nil {
			t.Fatal(err)
		}
		if _, err := js.Launch(ctx, "welcome-champions"); err != nil {
			t.Fatal(err)
		}
		// Member i buys i+1 times, the last on day 10+i: with five members
		// each dimension scores them 1 to 5, so only member 4 is a champion.
		var ms []*member.Member
		for i := range 5 {
			ms = append(ms, w.enrol(t, 300+i))
		}
		txn := 0
		for i, m := range ms {
			for k := 0; k <= i; k++ {
				txn++
				w.clock.Set(t0.Add(time.Duration(10+i-k) * 24 * time.Hour))
				w.commit(t, "S1", m, fmt.Sprintf("J%d", txn), item(1, "BREAD", 1, 200))
			}
		}
		w.clock.Set(t0.Add(20 * 24 * time.Hour))
		if res := w.refresh(t); res.Entered != 5 {
			t.Errorf("the first refresh placed %d members in a segment, want all 5", res.Entered)
		}
		enrolled := func() []string {
			t.Helper()
			for {
				n, err := js.ReadEvents(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					break
				}
			}
			rows, err := db.R.QueryContext(ctx, `SELECT member_id FROM journey_enrolments WHERE journey = 'welcome-champions' ORDER BY member_id`)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var ids []string
			for rows.Next() {
				var id string
				rows.Scan(&id)
				ids = append(ids, id)
			}
			return ids
		}
		if got := enrolled(); !slices.Equal(got, []string{ms[4].ID}) {
			t.Errorf("enrolled %v, want only the champion %s (%s)", got, ms[4].ID, w.get(t, ms[4]).Segment)
		}
		// Member 3 shops twice more today: as recent and as frequent as
		// member 4, scored against the refresh's quintiles, a champion.
		w.clock.Advance(time.Minute)
		w.commit(t, "S1", ms[3], "J-more-1", item(1, "BREAD", 5, 200))
		w.commit(t, "S1", ms[3], "J-more-2", item(1, "BREAD", 5, 200))
		w.drain(t)
		if p := w.get(t, ms[3]); p.Segment != profile.Champions {
			t.Fatalf("member 3 after shopping: %+v, want a champion", p)
		}
		want := []string{ms[3].ID, ms[4].ID}
		slices.Sort(want)
		if got := enrolled(); !slices.Equal(got, want) {
			t.Errorf("enrolled %v, want %v", got, want)
		}
	})
}
