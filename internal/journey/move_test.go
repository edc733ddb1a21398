package journey

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

func moveJourney(pause time.Duration, text string) Definition {
	return Definition{Name: "slow", Trigger: Filter{Event: "app_opened"}, Steps: []Step{
		{ID: "first", Wait: dur(time.Hour)},
		{ID: "pause", Wait: dur(pause)},
		{ID: "text", SMS: text},
	}}
}

// Members inside finish on the version they entered, unless moved: a move
// takes those at a step of the old version to a step of the new one, where
// the step starts afresh; members elsewhere, held by a runner, or in other
// versions stay where they are.
func TestMove_MembersAtAStepOfAnOldVersionGoOnOnTheNewOne(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		ann, eve, bob := f.member(1, member.Profile{}), f.member(2, member.Profile{}), f.member(3, member.Profile{})
		f.apply(moveJourney(2*time.Hour, "version one"))
		f.event(ann, "app_opened", "")
		f.event(bob, "app_opened", "")
		f.poll()
		f.clock.Advance(90 * time.Minute) // Ann and Bob wait at v1 pause; Eve enters at v1 first
		f.event(eve, "app_opened", "")
		f.poll()
		f.clock.Advance(10 * time.Minute)
		if _, err := f.journeys.Apply(ctx, moveJourney(30*time.Minute, "version two")); err != nil {
			t.Fatal(err)
		}
		// A runner holds Bob right now: he is not moved, and says so in
		// the count.
		if _, err := db.W.Exec(`UPDATE journey_enrolments SET claim_token = 'other', lease_until = $2 WHERE member_id = $1`,
			bob, f.clock.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		got, err := f.journeys.Move(ctx, "slow", Move{FromVersion: 1, FromStep: "pause", ToStep: "pause"})
		if err != nil {
			t.Fatal(err)
		}
		if got.Moved != 1 || got.ToVersion != 2 {
			t.Fatalf("moved %+v, want Ann alone to version 2", got)
		}
		if _, err := db.W.Exec(`UPDATE journey_enrolments SET claim_token = NULL, lease_until = NULL WHERE member_id = $1`, bob); err != nil {
			t.Fatal(err)
		}
		f.poll()                    // the runner's next tick starts Ann's step afresh
		f.advance(30 * time.Minute) // Ann's new wait, from the move
		if got := f.texts(ann); len(got) != 1 || got[0] != "version two" {
			t.Fatalf("Ann 30 minutes after the move: %q, want version two's text", got)
		}
		if got := strings.Join(f.path("slow", ann), " "); got != "first:waited pause:moved to v2 pause pause:waited text:queued" {
			t.Errorf("Ann's path: %s", got)
		}
		for range 12 {
			f.advance(30 * time.Minute)
		}
		for who, want := range map[string]string{eve: "version one", bob: "version one"} {
			if got := f.texts(who); len(got) != 1 || got[0] != want {
				t.Errorf("%s: %q, want %q (finished on version one)", who, got, want)
			}
		}
		r, err := f.journeys.Counts(ctx, "slow")
		if err != nil {
			t.Fatal(err)
		}
		passed := map[string]int64{}
		for _, s := range r.Steps {
			passed[strings.Join([]string{itoa(s.Version), s.Step}, " ")] = s.Passed
		}
		want := map[string]int64{"1 first": 3, "1 pause": 3, "1 text": 2, "2 first": 0, "2 pause": 1, "2 text": 1}
		for k, n := range want {
			if passed[k] != n {
				t.Errorf("passed %s: %d, want %d (all %v)", k, passed[k], n, passed)
			}
		}
	})
}

func TestMove_RefusesWhatIsNotAMove(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.apply(moveJourney(2*time.Hour, "one"))
		if _, err := f.journeys.Apply(ctx, moveJourney(time.Hour, "two")); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name      string
			journey   string
			move      Move
			wantField string
		}{
			{"no such journey", "fast", Move{FromVersion: 1, FromStep: "pause", ToStep: "pause"}, ""},
			{"no such version", "slow", Move{FromVersion: 3, FromStep: "pause", ToStep: "pause"}, "from_version"},
			{"no such step in the old version", "slow", Move{FromVersion: 1, FromStep: "nap", ToStep: "pause"}, "from_step"},
			{"no such step in the new version", "slow", Move{FromVersion: 1, FromStep: "pause", ToStep: "nap"}, "to_step"},
			{"within one version", "slow", Move{FromVersion: 2, FromStep: "first", ToStep: "text"}, "to_version"},
		}
		for _, c := range cases {
			_, err := f.journeys.Move(ctx, c.journey, c.move)
			var p *problem.Error
			switch {
			case c.wantField == "" && err != ErrNotFound:
				t.Errorf("%s: %v, want not found", c.name, err)
			case c.wantField != "" && (!asProblem(err, &p) || p.Field != c.wantField):
				t.Errorf("%s: %v, want an error on %s", c.name, err, c.wantField)
			}
		}
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

func asProblem(err error, p **problem.Error) bool { return errors.As(err, p) }
