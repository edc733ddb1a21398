package checkout

import (
	"context"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
)

// A store's zone is cached for a minute of the service's own clock, also in
// a copy on a transaction file's clock (WithClock), whose records may be
// days apart: the file's times neither keep a zone change from the tills
// past that minute nor make every record read the store row again.
func TestStoreZone_CachedOnTheServicesClock(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		c := testenv.NewClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
		if _, err := db.W.Exec(`INSERT INTO stores (id, name, timezone, created_at) VALUES ('S1', 'High Street', 'Europe/London', $1)`, c.Now()); err != nil {
			t.Fatal(err)
		}
		s := NewService(db, nil, nil, nil, Options{Now: c.Now})
		rec := c.Now().Add(-30 * 24 * time.Hour) // the file's records are older
		file := s.WithClock(func() time.Time { return rec })
		steps := []struct {
			name     string
			step     func()
			service  string // the zone the service sees
			fileZone string // the zone the copy on the file's clock sees
		}{
			{"first read", func() {}, "Europe/London", "Europe/London"},
			{"zone changed", func() {
				if _, err := db.W.Exec(`UPDATE stores SET timezone = 'America/New_York' WHERE id = 'S1'`); err != nil {
					t.Fatal(err)
				}
			}, "Europe/London", "Europe/London"},
			{"the file's records two days on", func() { rec = rec.Add(48 * time.Hour) }, "Europe/London", "Europe/London"},
			{"the service's clock a minute on", func() { c.Advance(time.Minute + time.Second) }, "America/New_York", "America/New_York"},
		}
		for _, st := range steps {
			st.step()
			// The copy is asked first: had it its own cache or clock, it
			// would read the change before the service's minute is up.
			got, err := file.storeZone(ctx, "S1")
			if err != nil {
				t.Fatal(err)
			}
			if got.String() != st.fileZone {
				t.Errorf("%s: on the file's clock: zone %s, want %s", st.name, got, st.fileZone)
			}
			if got, err = s.storeZone(ctx, "S1"); err != nil {
				t.Fatal(err)
			} else if got.String() != st.service {
				t.Errorf("%s: zone %s, want %s", st.name, got, st.service)
			}
		}
	})
}
