package variance_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/journey"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/variance"
)

// TestJourneyView_StepThatStopsIsRed: a journey whose four past weeks
// entered members who all ran its reminder step two hours after entering
// and of whom a tenth converted is judged over the last three days from
// those weeks: with the same entries and the reminder running, every stage
// is within its norm; when the reminder stops running at hour 30 of the
// window its step is red with the correction "stop", and the entries are
// not.
func TestJourneyView_StepThatStopsIsRed(t *testing.T) {
	for _, tc := range []struct {
		name      string
		stopsAt   int // the window's hour from which the reminder no longer runs; -1 never
		wantStep  variance.Level
		wantAlert bool
	}{
		{"the reminder runs", -1, variance.OK, false},
		{"the reminder stops at hour 30", 30, variance.Red, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				now := time.Date(2026, 11, 30, 12, 30, 0, 0, time.UTC)
				clk := &clock{t: now}
				log := slog.New(slog.NewTextHandler(io.Discard, nil))
				js := journey.NewService(db, journey.Options{Now: clk.Now, Log: log})
				def := journey.Definition{Name: "carts", Trigger: journey.Filter{Event: "cart_abandoned"},
					Steps: []journey.Step{{ID: "wait", Wait: journey.Duration(2 * time.Hour)}, {ID: "remind", SMS: "Your cart is waiting"}}}
				if _, err := js.Apply(ctx, def); err != nil {
					t.Fatal(err)
				}
				if _, err := js.Launch(ctx, "carts"); err != nil {
					t.Fatal(err)
				}
				tx, err := db.W.Begin()
				if err != nil {
					t.Fatal(err)
				}
				exec := func(q string, args ...any) {
					t.Helper()
					if _, err := tx.ExecContext(ctx, q, args...); err != nil {
						t.Fatal(err)
					}
				}
				// Six members enter every hour; each runs "wait" at once and
				// "remind" two hours later; every tenth converts after 5 hours.
				windowStart := now.Truncate(time.Hour).Add(-variance.JourneyWindow * time.Hour)
				n := 0
				for week := 4; week >= 0; week-- {
					from := windowStart.Add(-time.Duration(week) * 7 * 24 * time.Hour)
					for h := range variance.JourneyWindow {
						for k := range 6 {
							n++
							id := fmt.Sprintf("enr%05d", n)
							at := from.Add(time.Duration(h)*time.Hour + time.Duration(k*9)*time.Minute)
							var converted any
							if n%10 == 0 && at.Add(5*time.Hour).Before(now) {
								converted = at.Add(5 * time.Hour)
							}
							exec(`INSERT INTO journey_enrolments (id, journey, version, member_id, state, trigger_seq, entered_at, converted_at)
								VALUES ($1, 'carts', 1, $2, 'active', 0, $3, $4)`, id, fmt.Sprint("m", n), at, converted)
							exec(`INSERT INTO journey_steps (enrolment_id, n, journey, version, step, kind, outcome, at) VALUES ($1, 0, 'carts', 1, 'wait', 'wait', 'done', $2)`, id, at)
							remind := at.Add(2 * time.Hour)
							stopped := week == 0 && tc.stopsAt >= 0 && !remind.Before(windowStart.Add(time.Duration(tc.stopsAt)*time.Hour))
							if remind.Before(now.Truncate(time.Hour)) && !stopped {
								exec(`INSERT INTO journey_steps (enrolment_id, n, journey, version, step, kind, outcome, at) VALUES ($1, 1, 'carts', 1, 'remind', 'sms', 'queued', $2)`, id, remind)
							}
						}
					}
				}
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
				v := variance.NewService(db, campaign.NewService(db, campaign.Options{Now: clk.Now}), variance.Options{Now: clk.Now, Log: log, Journeys: js})
				view, err := v.JourneyView(ctx, "carts")
				if err != nil {
					t.Fatal(err)
				}
				if view.Source != variance.SourceHistory || len(view.Basis) != variance.JourneyCohortWeeks {
					t.Fatalf("norm from %s %v, want the %d past weeks", view.Source, view.Basis, variance.JourneyCohortWeeks)
				}
				levels := map[variance.Stage]variance.Level{}
				for _, st := range view.Stages {
					levels[st.Stage] = st.Worst
				}
				if len(levels) != 6 || levels[variance.Entered] != variance.OK || levels[variance.Conversions] != variance.OK ||
					levels[variance.StepStage("wait")] != variance.OK || levels[variance.StepStage("remind")] != tc.wantStep {
					t.Fatalf("levels %v, want entries, conversions and wait ok and remind %s", levels, tc.wantStep)
				}
				var found bool
				for _, f := range view.Findings {
					if f.Stage == variance.StepStage("remind") && len(f.Corrections) == 1 && f.Corrections[0] == "stop" {
						found = true
					}
				}
				if found != tc.wantAlert {
					t.Fatalf("findings %+v: remind flagged with stop %v, want %v", view.Findings, found, tc.wantAlert)
				}
				// The monitor raises the alert once, with its event; a
				// second pass raises nothing.
				raised, err := v.CheckJourney(ctx, "carts")
				if err != nil {
					t.Fatal(err)
				}
				if again, err := v.CheckJourney(ctx, "carts"); err != nil || len(again) != 0 {
					t.Fatalf("second pass raised %+v %v", again, err)
				}
				var events int
				if err := db.R.QueryRow(`SELECT COUNT(*) FROM events WHERE type = 'journey_variance'`).Scan(&events); err != nil {
					t.Fatal(err)
				}
				open, err := v.JourneyAlerts(ctx, "carts")
				if err != nil {
					t.Fatal(err)
				}
				all, err := v.AllOpenAlerts(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if tc.wantAlert {
					if len(all) != 1 || all[0].Journey != "carts" {
						t.Fatalf("the overview's alerts %+v, want the journey's", all)
					}
					if len(raised) != 1 || raised[0].Stage != variance.StepStage("remind") || raised[0].Level != "red" || events != 1 || len(open) != 1 {
						t.Fatalf("raised %+v, %d events, open %+v: want one red alert on remind", raised, events, open)
					}
				} else if len(raised) != 0 || events != 0 || len(open) != 0 {
					t.Fatalf("raised %+v, %d events, open %+v: want none", raised, events, open)
				}
			})
		})
	}
}

// TestJourneyView_NewJourneyBorrowsFromComparables: a journey with no past
// of its own is judged, for the stages every journey has, against the past
// weeks of a journey with the same trigger event: its entrants converting
// as theirs did are within the norm, its entrants not converting at all
// are red; its entries and steps are not judged.
func TestJourneyView_NewJourneyBorrowsFromComparables(t *testing.T) {
	for _, tc := range []struct {
		name      string
		converts  bool
		wantLevel variance.Level
	}{
		{"converting as the comparable did", true, variance.OK},
		{"not converting", false, variance.Red},
	} {
		t.Run(tc.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				now := time.Date(2026, 11, 30, 12, 30, 0, 0, time.UTC)
				clk := &clock{t: now}
				log := slog.New(slog.NewTextHandler(io.Discard, nil))
				js := journey.NewService(db, journey.Options{Now: clk.Now, Log: log})
				for _, name := range []string{"carts", "carts-new", "welcome"} {
					trigger := "cart_abandoned"
					if name == "welcome" {
						trigger = "member_joined"
					}
					def := journey.Definition{Name: name, Trigger: journey.Filter{Event: trigger}, Steps: []journey.Step{{ID: "remind-" + name, SMS: "Hello"}}}
					if _, err := js.Apply(ctx, def); err != nil {
						t.Fatal(err)
					}
				}
				windowStart := now.Truncate(time.Hour).Add(-variance.JourneyWindow * time.Hour)
				n := 0
				enter := func(journeyName string, weeks []int, converts bool) {
					t.Helper()
					tx, err := db.W.Begin()
					if err != nil {
						t.Fatal(err)
					}
					defer func() {
						if err := tx.Commit(); err != nil {
							t.Fatal(err)
						}
					}()
					for _, week := range weeks {
						from := windowStart.Add(-time.Duration(week) * 7 * 24 * time.Hour)
						for h := range variance.JourneyWindow {
							for k := range 6 {
								n++
								at := from.Add(time.Duration(h)*time.Hour + time.Duration(k*9)*time.Minute)
								var converted any
								if converts && n%10 == 0 && at.Add(5*time.Hour).Before(now) {
									converted = at.Add(5 * time.Hour)
								}
								if _, err := tx.ExecContext(ctx, `INSERT INTO journey_enrolments (id, journey, version, member_id, state, trigger_seq, entered_at, converted_at)
									VALUES ($1, $2, 1, $3, 'active', 0, $4, $5)`, fmt.Sprintf("enr%05d", n), journeyName, fmt.Sprint("m", n), at, converted); err != nil {
									t.Fatal(err)
								}
							}
						}
					}
				}
				enter("carts", []int{4, 3, 2, 1}, true)
				// A journey of another trigger, never converting: not comparable.
				enter("welcome", []int{4, 3, 2, 1}, false)
				enter("carts-new", []int{0}, tc.converts)
				v := variance.NewService(db, campaign.NewService(db, campaign.Options{Now: clk.Now}), variance.Options{Now: clk.Now, Log: log, Journeys: js})
				view, err := v.JourneyView(ctx, "carts-new")
				if err != nil {
					t.Fatal(err)
				}
				if view.Source != variance.SourceHistory || len(view.Basis) != variance.JourneyCohortWeeks {
					t.Fatalf("norm from %s %v, want the comparable's %d weeks", view.Source, view.Basis, variance.JourneyCohortWeeks)
				}
				for _, b := range view.Basis {
					if !strings.HasPrefix(b, "carts@") {
						t.Fatalf("basis %v: want only the journey with the same trigger", view.Basis)
					}
				}
				levels := map[variance.Stage]variance.Level{}
				for _, st := range view.Stages {
					levels[st.Stage] = st.Worst
				}
				_, entered := levels[variance.Entered]
				_, step := levels[variance.StepStage("remind-carts-new")]
				if entered || step || levels[variance.Conversions] != tc.wantLevel {
					t.Fatalf("levels %v: want conversions %s, entries and steps not judged", levels, tc.wantLevel)
				}
			})
		})
	}
}
