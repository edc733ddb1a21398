package journey

import (
	"context"
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// A segment trigger enters a member who comes to match its audience
// filter: not those who matched at launch, each once (re-entry never), on
// the pass after the change.
func TestSegment_AMemberWhoComesToMatchTheSegmentEnters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		tag := func(m string, add, remove []string) {
			t.Helper()
			if err := db.Tx(ctx, func(tx *sql.Tx) error {
				_, err := member.EditTags(ctx, tx, m, add, remove, f.clock.Now())
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		ann := f.member(1, member.Profile{FirstName: "Ann", Attributes: map[string]string{"tier": "gold"}})
		bob := f.member(2, member.Profile{FirstName: "Bob", Attributes: map[string]string{"tier": "gold"}})
		cy := f.member(3, member.Profile{FirstName: "Cy"})
		tag(ann, []string{"vip"}, nil)
		f.apply(Definition{Name: "vip-welcome", Trigger: Filter{Segment: &campaign.Filter{Tags: []string{"vip"},
			Attributes: map[string]string{"tier": "gold"}}}, Steps: []Step{{ID: "hi", SMS: "Welcome to VIP, {{.FirstName}}"}}})
		f.poll() // the launch's pass: Ann already matches, and does not enter
		tag(bob, []string{"vip"}, nil)
		tag(cy, []string{"vip"}, nil) // not gold: no match
		f.advance(30 * time.Second)
		if got := f.texts(bob); len(got) != 0 {
			t.Fatalf("Bob entered before the next pass: %q", got)
		}
		f.advance(30 * time.Second)
		for who, want := range map[string]int{ann: 0, bob: 1, cy: 0} {
			if got := f.texts(who); len(got) != want {
				t.Errorf("%s: %q, want %d texts", who, got, want)
			}
		}
		tag(bob, nil, []string{"vip"}) // Bob leaves and comes back: once per journey
		f.advance(time.Minute)
		tag(bob, []string{"vip"}, nil)
		f.advance(time.Minute)
		if got := f.texts(bob); len(got) != 1 {
			t.Errorf("Bob after leaving and coming back: %q, want one text", got)
		}
		if n := f.count(`SELECT COUNT(*) FROM journey_enrolments WHERE journey = 'vip-welcome'`); n != 1 {
			t.Errorf("%d enrolments, want Bob's", n)
		}
	})
}

func TestSegment_ValidationNamesTheField(t *testing.T) {
	seg := &campaign.Filter{Statuses: []string{"asleep"}}
	for _, c := range []struct {
		name  string
		def   Definition
		field string
	}{
		{"a segment's filter is checked", Definition{Name: "s", Trigger: Filter{Segment: seg}, Steps: []Step{{ID: "x", Exit: true}}}, "trigger.segment.statuses"},
		{"an event or a segment", Definition{Name: "s", Trigger: Filter{Event: "x", Segment: &campaign.Filter{}}, Steps: []Step{{ID: "x", Exit: true}}}, "trigger"},
		{"a goal is no segment", Definition{Name: "s", Trigger: Filter{Event: "x"}, Goal: &Goal{Filter: Filter{Event: "y", Segment: &campaign.Filter{}}},
			Steps: []Step{{ID: "x", Exit: true}}}, "goal.segment"},
	} {
		err := c.def.Validate()
		var p *problem.Error
		if !errors.As(err, &p) || p.Field != c.field {
			t.Errorf("%s: %v, want an error on %s", c.name, err, c.field)
		}
	}
}
