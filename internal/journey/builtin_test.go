package journey

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestBuiltin_AbandonmentJourneyIsInstalledLiveOnceAndThenLeftAlone: the
// first start installs and launches it; later starts change nothing, and
// a journey the operator stopped stays stopped.
func TestBuiltin_AbandonmentJourneyIsInstalledLiveOnceAndThenLeftAlone(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		steps := []struct {
			say        string
			before     func()
			installed  string
			wantStatus string
		}{
			{say: "first start", installed: "[cart-abandonment]", wantStatus: Live},
			{say: "second start", installed: "[]", wantStatus: Live},
			{say: "after the operator stopped it", before: func() {
				if _, err := f.journeys.Stop(ctx, AbandonmentJourney); err != nil {
					t.Fatal(err)
				}
			}, installed: "[]", wantStatus: Stopped},
		}
		for _, st := range steps {
			if st.before != nil {
				st.before()
			}
			names, err := f.journeys.InstallBuiltin(ctx)
			if err != nil {
				t.Fatalf("%s: %v", st.say, err)
			}
			if got := fmt.Sprint(names); got != st.installed && !(st.installed == "[]" && len(names) == 0) {
				t.Errorf("%s: installed %s, want %s", st.say, got, st.installed)
			}
			j, err := f.journeys.Get(ctx, AbandonmentJourney)
			if err != nil || j.Status != st.wantStatus || j.Version != 1 {
				t.Errorf("%s: %+v %v, want version 1 %s", st.say, j, err, st.wantStatus)
			}
		}
	})
}

// TestBuiltin_AbandonedCartsAreRemindedAndRecoveryIsCountedAgainstTheHoldout:
// a treated member's cart abandoned 2 h after it was filled gets the
// reminder at once; a holdout member's gets none; both buy, and the
// counts show the recovery of each side.
func TestBuiltin_AbandonedCartsAreRemindedAndRecoveryIsCountedAgainstTheHoldout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		if _, err := f.journeys.InstallBuiltin(ctx); err != nil {
			t.Fatal(err)
		}
		// Members are drawn into the holdout by a hash of their id, which
		// enrolment makes: enrol until there is one of each.
		var treated, held string
		for i := 0; i < 200 && (treated == "" || held == ""); i++ {
			m := f.member(i, member.Profile{FirstName: "Ann"})
			switch {
			case InHoldout(AbandonmentJourney, m, 10) && held == "":
				held = m
			case !InHoldout(AbandonmentJourney, m, 10) && treated == "":
				treated = m
			}
		}
		if treated == "" || held == "" {
			t.Fatal("no member of each side in 200")
		}
		f.poll()
		f.event(treated, "cart_updated", `{"items":[{"sku":"COF-250","quantity":1,"price":350}]}`)
		f.event(held, "cart_updated", `{"items":[{"sku":"COF-250","quantity":1,"price":350}]}`)
		f.advance(119 * time.Minute)
		if got := f.texts(treated); len(got) != 0 {
			t.Fatalf("texted before the cart was abandoned: %q", got)
		}
		f.advance(time.Minute)
		f.poll() // the cart_abandoned raised by the last tick enrols
		got := f.texts(treated)
		if len(got) != 1 || !strings.Contains(got[0], "your basket is still waiting") || !strings.Contains(got[0], "https://perk.test/c/") {
			t.Fatalf("treated member's texts %q, want the reminder with the card link", got)
		}
		if got := f.texts(held); len(got) != 0 {
			t.Errorf("holdout member texted %q", got)
		}
		f.advance(time.Hour)
		f.event(treated, "basket_committed", `{}`)
		f.event(held, "basket_committed", `{}`)
		f.poll()
		f.poll()
		r, err := f.journeys.Counts(ctx, AbandonmentJourney)
		if err != nil {
			t.Fatal(err)
		}
		if r.Treated.Entered != 1 || r.Treated.Converted != 1 || r.Holdout.Entered != 1 || r.Holdout.Converted != 1 || r.Uplift == nil {
			t.Errorf("counts treated %+v holdout %+v uplift %v, want each 1 of 1", r.Treated, r.Holdout, r.Uplift)
		}
		if len(r.Steps) != 1 || r.Steps[0].Passed != 1 || r.Steps[0].Summary == "" || fmt.Sprint(r.Versions) != "[{1 1 0 1}]" {
			t.Errorf("steps %+v versions %+v", r.Steps, r.Versions)
		}
	})
}

// TestStep_DescribeSaysWhatItDoesAndWhereItGoes: the one line a page and
// the CLI show for a step.
func TestStep_DescribeSaysWhatItDoesAndWhereItGoes(t *testing.T) {
	for _, tc := range []struct {
		step Step
		want string
	}{
		{Step{Wait: dur(2 * time.Hour)}, "wait 2h"},
		{Step{Wait: dur(90 * time.Minute), Next: "done"}, "wait 1h30m; then → done"},
		{Step{Wait: dur(7 * 24 * time.Hour)}, "wait 7d"},
		{Step{Wait: dur(30 * time.Second)}, "wait 30s"},
		{Step{WaitUntil: "09:30"}, "wait until 09:30 on the member's clock"},
		{Step{WaitFor: &WaitFor{Filter: Filter{Event: "order_placed", Where: map[string]string{"channel": "web"}}, Timeout: dur(24 * time.Hour), OnEvent: "done"}},
			"wait for order_placed (channel=web) up to 1d: on the event → done, on timeout → next"},
		{Step{Branch: &Branch{If: Condition{EventSeen: "order_placed"}, Then: "done"}}, "if seen order_placed since entering → done, else → next"},
		{Step{Branch: &Branch{If: Condition{Tag: "vip"}, Else: "tag"}}, "if tagged vip → next, else → tag"},
		{Step{Branch: &Branch{If: Condition{Attribute: "tier", Equals: "gold"}}}, `if tier is "gold" → next, else → next`},
		{Step{SMS: "Hi {{.FirstName}}"}, `text "Hi {{.FirstName}}"`},
		{Step{Tag: &TagChange{Add: []string{"a"}, Remove: []string{"b"}}}, "tag +a -b"},
		{Step{Webhook: "coffee.carted"}, "webhook coffee.carted"},
		{Step{Exit: true}, "exit"},
		{Step{}, "invalid step"},
	} {
		if got := tc.step.Describe(); got != tc.want {
			t.Errorf("Describe() = %q, want %q", got, tc.want)
		}
	}
}
