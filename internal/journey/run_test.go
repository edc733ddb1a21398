package journey

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/webhook"
)

// reminder is the abandonment journey in small: a web cart, two hours,
// a text, a tag.
func reminder() Definition {
	return Definition{
		Name:    "cart-reminder",
		Trigger: Filter{Event: "cart_updated", Where: map[string]string{"properties.currency": "GBP"}},
		Steps: []Step{
			{ID: "pause", Wait: dur(2 * time.Hour)},
			{ID: "text", SMS: "Hi {{.FirstName}}, your basket is waiting: {{.CardURL}}"},
			{ID: "tag", Tag: &TagChange{Add: []string{"reminded"}}},
		},
	}
}

func TestRun_WaitThenTextThenTag(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ann := f.member(1, member.Profile{FirstName: "Ann"})
		bob := f.member(2, member.Profile{FirstName: "Bob"})
		f.apply(reminder())

		f.event(ann, "cart_updated", `{"currency":"GBP"}`)
		f.event(bob, "cart_updated", `{"currency":"EUR"}`) // the filter leaves Bob out
		f.poll()
		if got := f.state("cart-reminder", ann); got != "active@0" {
			t.Fatalf("Ann after her cart: %s, want waiting at step 0", got)
		}
		if got := f.state("cart-reminder", bob); got != "" {
			t.Fatalf("Bob's EUR cart enrolled him: %s", got)
		}
		f.advance(2*time.Hour - time.Second)
		if got := f.texts(ann); len(got) != 0 {
			t.Fatalf("a text before the two hours: %q", got)
		}
		f.advance(time.Second)
		texts := f.texts(ann)
		if len(texts) != 1 || !strings.HasPrefix(texts[0], "Hi Ann, your basket is waiting: https://perk.test/c/") {
			t.Fatalf("Ann's texts after two hours: %q", texts)
		}
		if n := f.count(`SELECT COUNT(*) FROM sms_outbox WHERE member_id = $1 AND kind = 'marketing'`, ann); n != 1 {
			t.Fatalf("the journey's text is not queued as marketing (through the contact policy): %d", n)
		}
		m, err := f.members.Get(context.Background(), ann)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(m.Tags, "reminded") {
			t.Fatalf("Ann's tags: %v, want reminded", m.Tags)
		}
		if got := f.state("cart-reminder", ann); got != "ended:completed" {
			t.Fatalf("Ann at the end: %s", got)
		}
		if got := strings.Join(f.path("cart-reminder", ann), " "); got != "pause:waited text:queued tag:changed" {
			t.Fatalf("Ann's path: %s", got)
		}
		// More ticks change nothing: every step fired once.
		f.advance(24 * time.Hour)
		if got := f.texts(ann); len(got) != 1 {
			t.Fatalf("texts after more ticks: %d", len(got))
		}
	})
}

func TestRun_WaitForAnEventOrItsTimeout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		def := Definition{
			Name:    "browse",
			Trigger: Filter{Event: "app_opened"},
			Steps: []Step{
				{ID: "look", WaitFor: &WaitFor{Filter: Filter{Event: "product_viewed", Where: map[string]string{"properties.sku": "COF"}},
					Timeout: dur(time.Hour), OnEvent: "thanks"}},
				{ID: "nudge", SMS: "Still looking for coffee?", Next: "done"},
				{ID: "thanks", SMS: "Coffee, good choice."},
				{ID: "done", Exit: true},
			},
		}
		f.apply(def)
		ann, bob, cy := f.member(1, member.Profile{}), f.member(2, member.Profile{}), f.member(3, member.Profile{})
		for _, m := range []string{ann, bob, cy} {
			f.event(m, "app_opened", "")
		}
		f.poll()
		f.clock.Advance(10 * time.Minute)
		f.event(ann, "product_viewed", `{"sku":"COF"}`)
		f.event(cy, "product_viewed", `{"sku":"TEA"}`) // not what the step waits for
		f.poll()
		if got := f.texts(ann); len(got) != 1 || got[0] != "Coffee, good choice." {
			t.Fatalf("Ann viewed coffee: texts %q", got)
		}
		if got := f.texts(bob); len(got) != 0 {
			t.Fatalf("Bob texted before his timeout: %q", got)
		}
		f.advance(50 * time.Minute)
		for _, m := range []string{bob, cy} {
			if got := f.texts(m); len(got) != 1 || got[0] != "Still looking for coffee?" {
				t.Fatalf("%s timed out: texts %q", m, got)
			}
		}
		if got := strings.Join(f.path("browse", ann), " "); got != "look:event thanks:queued done:exit" {
			t.Fatalf("Ann's path: %s", got)
		}
		if got := strings.Join(f.path("browse", bob), " "); got != "look:timeout nudge:queued done:exit" {
			t.Fatalf("Bob's path: %s", got)
		}
		// A product view after the timeout wakes no one.
		f.event(bob, "product_viewed", `{"sku":"COF"}`)
		f.advance(time.Minute)
		if got := f.texts(bob); len(got) != 1 {
			t.Fatalf("Bob after the wait ended: %q", got)
		}
	})
}

func TestRun_BranchesOnTagAttributeAndEventSeen(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		for _, c := range []struct {
			name string
			cond Condition
			then func(m string) // what makes the condition hold for m
			not  func(m string)
		}{
			{"tag", Condition{Tag: "vip"}, nil, nil},
			{"attribute", Condition{Attribute: "tier", Equals: "gold"}, nil, nil},
			{"event-seen", Condition{EventSeen: "page_viewed"},
				func(m string) { f.event(m, "page_viewed", "") }, nil},
		} {
			t.Run(c.name, func(t *testing.T) {
				name := "branch-" + c.name
				f.apply(Definition{Name: name, Trigger: Filter{Event: "go-" + c.name}, Steps: []Step{
					{ID: "pause", Wait: dur(time.Minute)},
					{ID: "test", Branch: &Branch{If: c.cond, Else: "no"}},
					{ID: "yes", SMS: "yes", Next: "end"},
					{ID: "no", SMS: "no"},
					{ID: "end", Exit: true},
				}})
				yes := f.member(10+len(name), member.Profile{Tags: []string{"vip"}, Attributes: map[string]string{"tier": "gold"}})
				no := f.member(40+len(name), member.Profile{Tags: []string{"regular"}, Attributes: map[string]string{"tier": "silver"}})
				f.event(yes, "go-"+c.name, "")
				f.event(no, "go-"+c.name, "")
				f.poll()
				if c.then != nil {
					c.then(yes)
				}
				f.advance(time.Minute)
				if got := f.texts(yes); !slices.Equal(got, []string{"yes"}) {
					t.Errorf("the member for whom it holds got %q", got)
				}
				if got := f.texts(no); !slices.Equal(got, []string{"no"}) {
					t.Errorf("the member for whom it does not got %q", got)
				}
			})
		}
	})
}

func TestRun_GoalExitsAndConvertsAgainstTheHoldout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		def := reminder()
		def.Goal = &Goal{Filter: Filter{Event: "basket_committed"}, Within: dur(48 * time.Hour)}
		def.Holdout = 50
		f.apply(def)
		var treated, held []string
		for i := 0; len(treated) < 3 || len(held) < 3; i++ {
			m := f.member(100+i, member.Profile{})
			if InHoldout(def.Name, m, def.Holdout) {
				held = append(held, m)
			} else {
				treated = append(treated, m)
			}
			f.event(m, "cart_updated", `{"currency":"GBP"}`)
		}
		f.poll()
		// One treated member buys before the reminder: out, converted, no text.
		f.clock.Advance(time.Hour)
		f.event(treated[0], "basket_committed", "")
		f.event(held[0], "basket_committed", "")
		f.advance(time.Hour)
		if got := f.texts(treated[0]); len(got) != 0 {
			t.Fatalf("a member who bought was still reminded: %q", got)
		}
		if got := f.state(def.Name, treated[0]); got != "ended:goal" {
			t.Fatalf("the buyer: %s", got)
		}
		for _, m := range held {
			if got := f.texts(m); len(got) != 0 {
				t.Fatalf("a holdout member got %q", got)
			}
		}
		if got := f.texts(treated[1]); len(got) != 1 {
			t.Fatalf("a treated member's reminder: %q", got)
		}
		// Another treated member buys after the reminder, within the window;
		// a third buys too late to count.
		f.clock.Advance(time.Hour)
		f.event(treated[1], "basket_committed", "")
		f.clock.Advance(47 * time.Hour)
		f.event(treated[2], "basket_committed", "")
		f.poll()
		r, err := f.journeys.Counts(context.Background(), def.Name)
		if err != nil {
			t.Fatal(err)
		}
		nt, nh := int64(len(treated)), int64(len(held))
		if r.Treated.Entered != nt || r.Treated.Converted != 2 || r.Holdout.Entered != nh || r.Holdout.Converted != 1 {
			t.Fatalf("treated %+v, holdout %+v: want %d/2 and %d/1", r.Treated, r.Holdout, nt, nh)
		}
		want := 2/float64(nt) - 1/float64(nh)
		if r.Uplift == nil || r.Uplift.Difference != want || r.Uplift.CI == nil {
			t.Fatalf("uplift %+v, want %.3f with an interval", r.Uplift, want)
		}
		// The holdout's window passed: its members have left.
		if got := f.state(def.Name, held[1]); got != "ended:holdout" {
			t.Fatalf("a holdout member after the window: %s", got)
		}
		if r.Ended[ExitGoal] != 2 {
			t.Fatalf("ended by goal: %v, want 2 (a treated and a holdout member bought while inside; the others had left)", r.Ended)
		}
	})
}

func TestRun_Reentry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		once := Definition{Name: "once", Trigger: Filter{Event: "app_opened"}, Steps: []Step{{ID: "hi", SMS: "once"}}}
		again := Definition{Name: "again", Trigger: Filter{Event: "app_opened"}, Reentry: ReentryAfterExit, Cooldown: dur(time.Hour),
			Steps: []Step{{ID: "pause", Wait: dur(10 * time.Minute)}, {ID: "hi", SMS: "again"}}}
		f.apply(once)
		f.apply(again)
		ann := f.member(1, member.Profile{})
		opens := func() {
			f.event(ann, "app_opened", "")
			f.poll()
		}
		opens()                     // enters both
		opens()                     // still inside "again": no second enrolment
		f.advance(10 * time.Minute) // "again" ends
		opens()                     // within the cooldown
		f.clock.Advance(time.Hour)  // past it
		opens()                     // enters "again" a second time
		f.advance(10 * time.Minute) //
		for name, want := range map[string]int{"once": 1, "again": 2} {
			if n := f.count(`SELECT COUNT(*) FROM journey_enrolments WHERE journey = $1`, name); n != want {
				t.Errorf("%s: %d enrolments, want %d", name, n, want)
			}
		}
		if got := f.texts(ann); len(got) != 3 {
			t.Errorf("texts %q, want once and again twice", got)
		}
	})
}

func TestRun_AnEditMakesAVersionAndMembersFinishOnTheirs(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		v1 := reminder()
		j := f.apply(v1)
		if j.Version != 1 {
			t.Fatalf("first version %d", j.Version)
		}
		again, err := f.journeys.Apply(ctx, v1)
		if err != nil || again.Outcome != "unchanged" || again.Journey.Version != 1 {
			t.Fatalf("applying the same journey again: %+v %v", again, err)
		}
		ann, bob := f.member(1, member.Profile{FirstName: "Ann"}), f.member(2, member.Profile{FirstName: "Bob"})
		f.event(ann, "cart_updated", `{"currency":"GBP"}`)
		f.poll()
		v2 := reminder()
		v2.Steps[1].SMS = "{{.FirstName}}, come back for your basket"
		a, err := f.journeys.Apply(ctx, v2)
		if err != nil || a.Outcome != "updated" || a.Journey.Version != 2 || a.Journey.Status != Live {
			t.Fatalf("an edit of the live journey: %+v %v", a, err)
		}
		f.event(bob, "cart_updated", `{"currency":"GBP"}`)
		f.poll()
		f.advance(2 * time.Hour)
		if got := f.texts(ann); len(got) != 1 || !strings.HasPrefix(got[0], "Hi Ann") {
			t.Fatalf("Ann entered version 1: %q", got)
		}
		if got := f.texts(bob); len(got) != 1 || got[0] != "Bob, come back for your basket" {
			t.Fatalf("Bob entered version 2: %q", got)
		}
		r, err := f.journeys.Counts(ctx, "cart-reminder")
		if err != nil {
			t.Fatal(err)
		}
		passed := map[string]int64{}
		for _, s := range r.Steps {
			passed[s.Step+"@"+string(rune('0'+s.Version))] = s.Passed
		}
		if passed["text@1"] != 1 || passed["text@2"] != 1 {
			t.Fatalf("counts per version: %v", passed)
		}
	})
}

func TestRun_OfferAndWebhookSteps(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		ep, err := f.webhooks.Create(ctx, webhook.Spec{URL: "http://127.0.0.1:9/hook", EventTypes: []string{change.JourneyWebhook}})
		if err != nil {
			t.Fatal(err)
		}
		offer := campaign.PersonalOffer{Description: "10% off coffee", Start: "2026-12-01", End: "2027-01-01",
			Benefit: engine.Benefit{Kind: engine.PercentOff, Percent: 10}}
		f.apply(Definition{Name: "welcome-back", Trigger: Filter{Event: "app_opened"}, Steps: []Step{
			{ID: "tell-crm", Webhook: "welcome.back"},
			{ID: "gift", Offer: &offer},
			{ID: "tell", SMS: "A gift is on your card"},
		}})
		ann := f.member(1, member.Profile{})
		f.event(ann, "app_opened", "")
		f.poll()
		if got := strings.Join(f.path("welcome-back", ann), " "); got != "tell-crm:recorded gift:given tell:queued" {
			t.Fatalf("path: %s", got)
		}
		var payload string
		if err := db.R.QueryRow(`SELECT payload FROM webhook_deliveries WHERE endpoint_id = $1 AND event_type = $2`,
			ep.ID, change.JourneyWebhook).Scan(&payload); err != nil {
			t.Fatalf("the webhook's delivery: %v", err)
		}
		for _, want := range []string{`"name":"welcome.back"`, `"journey":"welcome-back"`, `"member_id":"` + ann + `"`} {
			if !strings.Contains(payload, want) {
				t.Errorf("payload %s lacks %s", payload, want)
			}
		}
		c, err := f.campaigns.ByName(ctx, offer.Spec().Name)
		if err != nil {
			t.Fatalf("the offer's campaign: %v", err)
		}
		if n := f.count(`SELECT COUNT(*) FROM campaign_members WHERE campaign_id = $1 AND member_id = $2`, c.ID, ann); n != 1 {
			t.Fatalf("Ann holds the offer %d times", n)
		}
	})
}

func TestRun_OnlyLiveJourneysAndEventsAfterLaunchEnrol(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		ann := f.member(1, member.Profile{})
		f.poll() // the cursor starts at the stream's end
		if _, err := f.journeys.Apply(ctx, reminder()); err != nil {
			t.Fatal(err)
		}
		f.event(ann, "cart_updated", `{"currency":"GBP"}`) // a draft enrols no one
		f.poll()
		if _, err := f.journeys.Launch(ctx, "cart-reminder"); err != nil {
			t.Fatal(err)
		}
		f.poll()
		if got := f.state("cart-reminder", ann); got != "" {
			t.Fatalf("an event before launch enrolled Ann: %s", got)
		}
		f.event(ann, "cart_updated", `{"currency":"GBP"}`)
		f.poll()
		if got := f.state("cart-reminder", ann); got != "active@0" {
			t.Fatalf("after launch: %s", got)
		}
		if _, err := f.journeys.Stop(ctx, "cart-reminder"); err != nil {
			t.Fatal(err)
		}
		bob := f.member(2, member.Profile{})
		f.event(bob, "cart_updated", `{"currency":"GBP"}`)
		f.advance(2 * time.Hour)
		if got := f.state("cart-reminder", bob); got != "" {
			t.Fatalf("a stopped journey enrolled Bob: %s", got)
		}
		if got := f.state("cart-reminder", ann); got != "ended:completed" {
			t.Fatalf("Ann finishes the stopped journey: %s", got)
		}
	})
}

// A step fires once: a runner whose lease ran out and was taken over cannot
// commit its step, and a second instance reading the stream does not enrol
// anyone twice.
func TestRun_AStepFiresOnceAcrossRunners(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.apply(Definition{Name: "hello", Trigger: Filter{Event: "app_opened"}, Steps: []Step{{ID: "hi", SMS: "hello"}}})
		other := f.service()
		ann := f.member(1, member.Profile{})
		f.event(ann, "app_opened", "")
		if n, err := f.journeys.ReadEvents(ctx); err != nil || n == 0 {
			t.Fatalf("first reader: %d %v", n, err)
		}
		if n, err := other.ReadEvents(ctx); err != nil || n != 0 {
			t.Fatalf("the second reader read %d events again (%v)", n, err)
		}
		var eid string
		if err := db.R.QueryRow(`SELECT id FROM journey_enrolments WHERE member_id = $1`, ann).Scan(&eid); err != nil {
			t.Fatal(err)
		}
		// The first runner claims, then stalls past its lease; the second
		// claims and advances; the first wakes up and tries.
		if _, err := db.W.Exec(`UPDATE journey_enrolments SET claim_token = 'stale', lease_until = $2 WHERE id = $1`,
			eid, f.clock.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Minute)
		if n, err := other.RunDue(ctx); err != nil || n != 1 {
			t.Fatalf("the second runner: %d %v", n, err)
		}
		if err := f.journeys.advance(ctx, eid, "stale"); err != nil {
			t.Fatalf("the stale runner: %v", err)
		}
		if got := f.texts(ann); len(got) != 1 {
			t.Fatalf("texts %q, want one", got)
		}
	})
}
