package variance_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/journey"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/variance"
)

// TestJourneyView_NewJourneyWithATargetFlagsAStalledStageRed: a journey
// with no past and no comparable journey is not judged until the operator
// sets a target; with one (six entries an hour, every entrant reminded two
// hours after entering) it is judged against it, each stage saying its norm
// is the target: on target every stage is ok, a reminder that stops
// running turns its step red with the correction stop, and entries that
// stop turn entered red.
func TestJourneyView_NewJourneyWithATargetFlagsAStalledStageRed(t *testing.T) {
	for _, tc := range []struct {
		name          string
		target        bool
		remindStopsAt int // the window's hour from which no reminder runs; -1 never
		entriesStopAt int // the window's hour from which no one enters; -1 never
		want          map[variance.Stage]variance.Level
	}{
		{"no target: not judged", false, -1, -1, map[variance.Stage]variance.Level{}},
		{"on target", true, -1, -1, map[variance.Stage]variance.Level{variance.Entered: variance.OK, variance.StepStage("remind"): variance.OK}},
		{"the reminder stops at hour 30", true, 30, -1,
			map[variance.Stage]variance.Level{variance.Entered: variance.OK, variance.StepStage("remind"): variance.Red}},
		{"entries stop at hour 40", true, -1, 40,
			map[variance.Stage]variance.Level{variance.Entered: variance.Red, variance.StepStage("remind"): variance.OK}},
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
				// Only the window: the journey is new.
				windowStart := now.Truncate(time.Hour).Add(-variance.JourneyWindow * time.Hour)
				n := 0
				for h := range variance.JourneyWindow {
					if tc.entriesStopAt >= 0 && h >= tc.entriesStopAt {
						break
					}
					for k := range 6 {
						n++
						id := fmt.Sprintf("enr%05d", n)
						at := windowStart.Add(time.Duration(h)*time.Hour + time.Duration(k*9)*time.Minute)
						exec(`INSERT INTO journey_enrolments (id, journey, version, member_id, state, trigger_seq, entered_at)
							VALUES ($1, 'carts', 1, $2, 'active', 0, $3)`, id, fmt.Sprint("m", n), at)
						remind := at.Add(2 * time.Hour)
						stopped := tc.remindStopsAt >= 0 && !remind.Before(windowStart.Add(time.Duration(tc.remindStopsAt)*time.Hour))
						if remind.Before(now.Truncate(time.Hour)) && !stopped {
							exec(`INSERT INTO journey_steps (enrolment_id, n, journey, version, step, kind, outcome, at) VALUES ($1, 1, 'carts', 1, 'remind', 'sms', 'queued', $2)`, id, remind)
						}
					}
				}
				if err := tx.Commit(); err != nil {
					t.Fatal(err)
				}
				v := variance.NewService(db, campaign.NewService(db, campaign.Options{Now: clk.Now}), variance.Options{Now: clk.Now, Log: log, Journeys: js})
				if tc.target {
					// Six an hour: 432 over the window; every entrant
					// reminded within the two hours after the entry hour.
					if err := v.SetJourneyTarget(ctx, "carts", variance.Entered, []variance.TargetPoint{{Hour: variance.JourneyWindow - 1, Cumulative: 6 * variance.JourneyWindow}}); err != nil {
						t.Fatal(err)
					}
					if err := v.SetJourneyTarget(ctx, "carts", variance.StepStage("remind"), []variance.TargetPoint{{Hour: 1, Cumulative: 0}, {Hour: 2, Cumulative: 1}}); err != nil {
						t.Fatal(err)
					}
				}
				view, err := v.JourneyView(ctx, "carts")
				if err != nil {
					t.Fatal(err)
				}
				wantSource := variance.SourceNone
				if tc.target {
					wantSource = variance.SourceTarget
				}
				if view.Source != wantSource || len(view.Basis) != 0 {
					t.Fatalf("norm from %s %v, want %s and no basis", view.Source, view.Basis, wantSource)
				}
				levels := map[variance.Stage]variance.Level{}
				for _, st := range view.Stages {
					levels[st.Stage] = st.Worst
				}
				if fmt.Sprint(levels) != fmt.Sprint(tc.want) {
					t.Fatalf("levels %v, want %v", levels, tc.want)
				}
				for st := range tc.want {
					if view.Norms[st] != variance.SourceTarget {
						t.Errorf("stage %s: norm from %q, want target", st, view.Norms[st])
					}
				}
				if len(view.Norms) != len(tc.want) {
					t.Errorf("norms %v: want only the stages with a target", view.Norms)
				}
				for st, l := range tc.want {
					if l != variance.Red {
						continue
					}
					var flagged bool
					for _, f := range view.Findings {
						flagged = flagged || (f.Stage == st && len(f.Corrections) == 1 && f.Corrections[0] == "stop")
					}
					if !flagged {
						t.Errorf("findings %+v: want %s flagged with the correction stop", view.Findings, st)
					}
				}
			})
		})
	}
}

// TestSetJourneyTarget_RefusesWhatTheJourneyDoesNotHave: a target names a
// stage of the journey (its fixed stages and its steps) and points within
// the window, with each refusal naming the field at fault; a good target
// reads back in order of hour and no points clear it.
func TestSetJourneyTarget_RefusesWhatTheJourneyDoesNotHave(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clk := &clock{t: time.Date(2026, 11, 30, 12, 30, 0, 0, time.UTC)}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		js := journey.NewService(db, journey.Options{Now: clk.Now, Log: log})
		if _, err := js.Apply(ctx, journey.Definition{Name: "carts", Trigger: journey.Filter{Event: "cart_abandoned"},
			Steps: []journey.Step{{ID: "remind", SMS: "Your cart is waiting"}}}); err != nil {
			t.Fatal(err)
		}
		v := variance.NewService(db, campaign.NewService(db, campaign.Options{Now: clk.Now}), variance.Options{Now: clk.Now, Log: log, Journeys: js})
		for _, tc := range []struct {
			name      string
			journey   string
			stage     variance.Stage
			points    []variance.TargetPoint
			wantField string // "" with wantCode "": accepted
			wantCode  string
		}{
			{"a journey that does not exist", "nope", variance.Entered, nil, "", "journey_not_found"},
			{"a campaign's stage", "carts", variance.Delivered, nil, "stage", "stage_invalid"},
			{"a step the journey does not have", "carts", variance.StepStage("wait"), nil, "stage", "stage_invalid"},
			{"an hour past the window", "carts", variance.Conversions,
				[]variance.TargetPoint{{Hour: 5, Cumulative: 0.1}, {Hour: variance.JourneyWindow, Cumulative: 0.2}}, "points[1].hour", "hour_invalid"},
			{"a negative hour", "carts", variance.Conversions, []variance.TargetPoint{{Hour: -1, Cumulative: 0.1}}, "points[0].hour", "hour_invalid"},
			{"a negative count", "carts", variance.StepStage("remind"), []variance.TargetPoint{{Hour: 3, Cumulative: -0.5}}, "points[0].cumulative", "cumulative_invalid"},
			{"a step's target", "carts", variance.StepStage("remind"), []variance.TargetPoint{{Hour: 6, Cumulative: 0.9}, {Hour: 2, Cumulative: 0.5}}, "", ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := v.SetJourneyTarget(ctx, tc.journey, tc.stage, tc.points)
				if tc.wantCode == "" {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				var pe *problem.Error
				if !errors.As(err, &pe) || pe.Code != tc.wantCode || pe.Field != tc.wantField {
					t.Fatalf("error %v, want %s at %q", err, tc.wantCode, tc.wantField)
				}
			})
		}
		got, err := v.JourneyTargets(ctx, "carts")
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != "map[step:remind:[{2 0.5} {6 0.9}]]" {
			t.Fatalf("targets %v, want the step's two points in order of hour and nothing refused stored", got)
		}
		if err := v.SetJourneyTarget(ctx, "carts", variance.StepStage("remind"), nil); err != nil {
			t.Fatal(err)
		}
		if got, err := v.JourneyTargets(ctx, "carts"); err != nil || len(got) != 0 {
			t.Fatalf("targets %v %v after clearing, want none", got, err)
		}
	})
}
