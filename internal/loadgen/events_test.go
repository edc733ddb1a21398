package loadgen

import (
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/event"
)

// The generated batches are what the real decoder accepts whole: a batch the
// server would partly reject would measure rejection, not ingestion. Event ids
// never repeat across workers and requests, or the server would skip resends.
func TestEvents_BatchesAreValidAndNeverResend(t *testing.T) {
	now := time.Date(2026, 12, 5, 10, 0, 30, 0, time.UTC)
	r := &runner{opts: Options{Scenario: ScenarioEvents, Events: EventsOptions{Seed: 3, RunID: "t1", People: 50, now: func() time.Time { return now }}}}
	if err := r.opts.Events.fill(); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	types := map[string]int{}
	people := map[string]bool{}
	for w := range 3 {
		gen := r.eventsWorker(w)
		for range 4 {
			in, rejected, err := event.Decode(gen.body(), now)
			if err != nil || len(rejected) > 0 {
				t.Fatalf("worker %d: %v, rejected %+v", w, err, rejected)
			}
			if len(in) != 1000 {
				t.Fatalf("worker %d: %d events a batch, want 1000", w, len(in))
			}
			for _, x := range in {
				e := x.Event
				if seen[e.EventID] {
					t.Fatalf("event id %s sent twice", e.EventID)
				}
				seen[e.EventID] = true
				types[e.Type]++
				people[e.AnonymousID] = true
				if e.Time.After(now) || e.Time.Before(now.Add(-time.Minute)) {
					t.Fatalf("event at %v, want within the minute before %v", e.Time, now)
				}
			}
		}
	}
	for typ, share := range map[string]float64{"page_viewed": 0.60, "product_viewed": 0.25, "cart_updated": 0.15} {
		if got := float64(types[typ]) / float64(len(seen)); got < share-0.03 || got > share+0.03 {
			t.Errorf("%s is %.2f of the events, want about %.2f", typ, got, share)
		}
	}
	if len(people) != 50 || !strings.HasPrefix(firstKey(people), "bench-") {
		t.Errorf("%d shoppers, want the 50 of People", len(people))
	}
}

func firstKey(m map[string]bool) string {
	for k := range m {
		return k
	}
	return ""
}
