package journey

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// dryReminder is the abandonment journey a marketer tries before launch.
func dryReminder() Definition {
	return Definition{Name: "cart-reminder", Trigger: Filter{Event: event.CartUpdated},
		Goal: &Goal{Filter: Filter{Event: event.BasketCommitted}, Within: dur(72 * time.Hour)},
		Steps: []Step{
			{ID: "pause", Wait: dur(2 * time.Hour)},
			{ID: "bought-online", Branch: &Branch{If: Condition{EventSeen: event.OrderPlaced}, Then: "done"}},
			{ID: "reminder", SMS: "Hi {{.FirstName}}, your basket is waiting: {{.CardURL}}"},
			{ID: "done", Exit: true},
		}}
}

// "What would Ann have received, and when": a draft journey against
// recorded timelines, with the times and texts, and nothing written.
func TestDryRun_ShowsWhatAMemberWouldHaveReceivedAndWhenWithoutSideEffects(t *testing.T) {
	type ev struct {
		after time.Duration // from t0
		typ   string
	}
	cases := []struct {
		name   string
		events []ev
		want   []string // step@offset:outcome
		exit   string
	}{
		{"no purchase: the reminder two hours after the cart",
			[]ev{{0, event.CartUpdated}, {time.Hour, "app_opened"}},
			[]string{"pause@2h0m0s:waited", "bought-online@2h0m0s:else", "reminder@2h0m0s:queued", "done@2h0m0s:exit"}, ExitStep},
		{"bought online meanwhile: no reminder",
			[]ev{{0, event.CartUpdated}, {time.Hour, event.OrderPlaced}},
			[]string{"pause@2h0m0s:waited", "bought-online@2h0m0s:then", "done@2h0m0s:exit"}, ExitStep},
		{"bought at the till before the reminder: the goal ends it",
			[]ev{{0, event.CartUpdated}, {90 * time.Minute, event.BasketCommitted}},
			[]string{}, ExitGoal},
		{"a cart an hour ago: the reminder is still to come",
			[]ev{{9 * time.Hour, event.CartUpdated}},
			[]string{"pause@11h0m0s:due"}, ""},
		{"no cart: never enters", []ev{{0, "app_opened"}}, nil, "-"},
	}
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		if _, err := f.journeys.Apply(ctx, dryReminder()); err != nil { // a draft: not launched
			t.Fatal(err)
		}
		members := make([]string, len(cases))
		for i, c := range cases {
			members[i] = f.member(i+1, member.Profile{FirstName: "Ann"})
			for _, e := range c.events {
				f.clock.Set(t0.Add(e.after))
				f.event(members[i], e.typ, "")
			}
		}
		f.clock.Set(t0.Add(10 * time.Hour))
		tables := []string{"sms_outbox", "journey_enrolments", "journey_steps", "card_tokens", "events", "members"}
		before := map[string]int{}
		for _, tb := range tables {
			before[tb] = f.count(`SELECT COUNT(*) FROM ` + tb)
		}
		for i, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				got, err := f.journeys.DryRun(ctx, "cart-reminder", members[i], DryRunOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if c.exit == "-" {
					if len(got.Entries) != 0 {
						t.Fatalf("entered: %+v", got.Entries)
					}
					return
				}
				if len(got.Entries) != 1 {
					t.Fatalf("entries: %+v, want one", got.Entries)
				}
				en := got.Entries[0]
				steps := []string{}
				for _, s := range en.Steps {
					steps = append(steps, s.Step+"@"+s.At.Sub(t0).String()+":"+s.Outcome)
					if s.Kind == KindSMS && !strings.HasPrefix(s.Text, "Hi Ann, your basket is waiting: https://perk.test/c/") {
						t.Errorf("the reminder's text: %q", s.Text)
					}
				}
				if strings.Join(steps, " ") != strings.Join(c.want, " ") {
					t.Errorf("steps:\n got %s\nwant %s", strings.Join(steps, " "), strings.Join(c.want, " "))
				}
				if en.ExitReason != c.exit {
					t.Errorf("exit: %q, want %q", en.ExitReason, c.exit)
				}
				if (en.ConvertedAt != nil) != (c.exit == ExitGoal) {
					t.Errorf("converted at %v with exit %q", en.ConvertedAt, c.exit)
				}
			})
		}
		for _, tb := range tables {
			if n := f.count(`SELECT COUNT(*) FROM ` + tb); n != before[tb] {
				t.Errorf("the dry run wrote to %s: %d rows, were %d", tb, n, before[tb])
			}
		}
	})
}

// Re-entry in a dry run follows the journey's rule: after_exit enters again
// after the cooldown, never enters once.
func TestDryRun_FollowsTheReentryRule(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		ann := f.member(1, member.Profile{FirstName: "Ann"})
		for _, h := range []time.Duration{0, time.Hour, 30 * time.Hour} {
			f.clock.Set(t0.Add(h))
			f.event(ann, "app_opened", "")
		}
		f.clock.Set(t0.Add(48 * time.Hour))
		for _, c := range []struct {
			reentry  string
			cooldown time.Duration
			want     int
		}{{ReentryNever, 0, 1}, {ReentryAfterExit, 0, 3}, {ReentryAfterExit, 24 * time.Hour, 2}} {
			def := Definition{Name: "hi-" + strings.ReplaceAll(c.reentry, "_", "-"), Trigger: Filter{Event: "app_opened"},
				Reentry: c.reentry, Cooldown: dur(c.cooldown), Steps: []Step{{ID: "hi", SMS: "Hi"}}}
			if c.cooldown > 0 {
				def.Name += "-cool"
			}
			if _, err := f.journeys.Apply(ctx, def); err != nil {
				t.Fatal(err)
			}
			got, err := f.journeys.DryRun(ctx, def.Name, ann, DryRunOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Entries) != c.want {
				t.Errorf("%s cooldown %s: %d entries, want %d", c.reentry, c.cooldown, len(got.Entries), c.want)
			}
		}
	})
}
