package journey

import (
	"errors"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/problem"
)

// valid is a journey using every kind of step, which Validate accepts.
func valid() Definition {
	return Definition{
		Name:    "cart-reminder",
		Trigger: Filter{Event: "cart_updated", Where: map[string]string{"channel": "web"}},
		Goal:    &Goal{Filter: Filter{Event: "basket_committed"}},
		Holdout: 10,
		Steps: []Step{
			{ID: "pause", Wait: dur(2 * time.Hour)},
			{ID: "morning", WaitUntil: "09:00"},
			{ID: "look", WaitFor: &WaitFor{Filter: Filter{Event: "page_viewed"}, Timeout: dur(time.Hour), OnEvent: "vip"}},
			{ID: "vip", Branch: &Branch{If: Condition{Tag: "vip"}, Else: "text"}},
			{ID: "offer", Offer: &campaign.PersonalOffer{Description: "10% off", Start: "2026-12-01", End: "2027-01-01",
				Benefit: engine.Benefit{Kind: engine.PercentOff, Percent: 10}}, Next: "tag"},
			{ID: "text", SMS: "Hi {{.FirstName}}, your basket is waiting: {{.CardURL}}"},
			{ID: "tag", Tag: &TagChange{Add: []string{"reminded"}}},
			{ID: "crm", Webhook: "cart.reminded"},
			{ID: "done", Exit: true},
		},
	}
}

func TestValidate_NamesTheOffendingField(t *testing.T) {
	if d := valid(); d.Validate() != nil {
		t.Fatalf("the valid journey: %v", d.Validate())
	}
	for _, c := range []struct {
		name  string
		edit  func(*Definition)
		field string
	}{
		{"bad name", func(d *Definition) { d.Name = "Cart Reminder" }, "name"},
		{"no trigger", func(d *Definition) { d.Trigger.Event = "" }, "trigger.event"},
		{"unknown filter", func(d *Definition) { d.Trigger.Where = map[string]string{"colour": "red"} }, "trigger.where"},
		{"event and campaign launch", func(d *Definition) { d.Trigger.CampaignLaunch = "spring-sale" }, "trigger"},
		{"segment and campaign launch", func(d *Definition) {
			d.Trigger = Filter{CampaignLaunch: "spring-sale", Segment: &campaign.Filter{Tags: []string{"vip"}}}
		}, "trigger"},
		{"campaign launch padded", func(d *Definition) { d.Trigger = Filter{CampaignLaunch: " spring-sale"} }, "trigger.campaign_launch"},
		{"campaign launch as goal", func(d *Definition) { d.Goal.CampaignLaunch = "spring-sale" }, "goal.campaign_launch"},
		{"campaign launch awaited", func(d *Definition) { d.Steps[2].WaitFor.CampaignLaunch = "spring-sale" }, "steps[2].wait_for.campaign_launch"},
		{"bad reentry", func(d *Definition) { d.Reentry = "sometimes" }, "reentry"},
		{"cooldown without reentry", func(d *Definition) { d.Cooldown = dur(time.Hour) }, "cooldown"},
		{"goal without event", func(d *Definition) { d.Goal.Event = "" }, "goal.event"},
		{"holdout over 50", func(d *Definition) { d.Holdout = 60 }, "holdout"},
		{"holdout without goal", func(d *Definition) { d.Goal = nil }, "holdout"},
		{"no steps", func(d *Definition) { d.Steps = nil }, "steps"},
		{"step without id", func(d *Definition) { d.Steps[0].ID = "" }, "steps[0].id"},
		{"duplicate id", func(d *Definition) { d.Steps[1].ID = "pause" }, "steps[1].id"},
		{"two kinds", func(d *Definition) { d.Steps[0].SMS = "hi" }, "steps[0]"},
		{"no kind", func(d *Definition) { d.Steps[0].Wait = 0 }, "steps[0]"},
		{"negative wait", func(d *Definition) { d.Steps[0].Wait = dur(-time.Hour) }, "steps[0].wait"},
		{"bad local time", func(d *Definition) { d.Steps[1].WaitUntil = "9am" }, "steps[1].wait_until"},
		{"wait for nothing", func(d *Definition) { d.Steps[2].WaitFor.Event = "" }, "steps[2].wait_for.event"},
		{"wait without timeout", func(d *Definition) { d.Steps[2].WaitFor.Timeout = 0 }, "steps[2].wait_for.timeout"},
		{"jump to nowhere", func(d *Definition) { d.Steps[2].WaitFor.OnEvent = "nowhere" }, "steps[2].wait_for.on_event"},
		{"jump backwards", func(d *Definition) { d.Steps[3].Branch.Else = "pause" }, "steps[3].branch.else"},
		{"jump to itself", func(d *Definition) { d.Steps[6].Next = "tag" }, "steps[6].next"},
		{"branch next", func(d *Definition) { d.Steps[3].Next = "tag" }, "steps[3].next"},
		{"empty condition", func(d *Definition) { d.Steps[3].Branch.If = Condition{} }, "steps[3].branch.if"},
		{"two conditions", func(d *Definition) { d.Steps[3].Branch.If.EventSeen = "page_viewed" }, "steps[3].branch.if"},
		{"equals without attribute", func(d *Definition) { d.Steps[3].Branch.If.Equals = "gold" }, "steps[3].branch.if.equals"},
		{"bad template", func(d *Definition) { d.Steps[5].SMS = "Hi {{.Frist}}" }, "steps[5].sms"},
		{"offer without description", func(d *Definition) { d.Steps[4].Offer.Description = "" }, "steps[4].offer.description"},
		{"offer over 100%", func(d *Definition) { d.Steps[4].Offer.Benefit.Percent = 120 }, "steps[4].offer.benefits[0].percent"},
		{"empty tag step", func(d *Definition) { d.Steps[6].Tag = &TagChange{} }, "steps[6].tag"},
		{"bad webhook name", func(d *Definition) { d.Steps[7].Webhook = "Cart Reminded!" }, "steps[7].webhook"},
	} {
		t.Run(c.name, func(t *testing.T) {
			d := valid()
			c.edit(&d)
			err := d.Validate()
			var p *problem.Error
			if !errors.As(err, &p) || p.Field != c.field || problem.KindOf(err) != problem.Invalid {
				t.Fatalf("Validate = %v (field %q), want an invalid-field problem on %q", err, fieldOf(err), c.field)
			}
		})
	}
}

func fieldOf(err error) string {
	var p *problem.Error
	if errors.As(err, &p) {
		return p.Field
	}
	return ""
}

func TestValidate_FillsDefaults(t *testing.T) {
	d := valid()
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	if d.Reentry != ReentryNever || time.Duration(d.Goal.Within) != DefaultGoalWithin {
		t.Fatalf("reentry %q, goal within %s: want never and 7 days", d.Reentry, time.Duration(d.Goal.Within))
	}
}

func TestNextLocal_IsTheNextTimeTheMembersClockShowsIt(t *testing.T) {
	london, _ := time.LoadLocation("Europe/London")
	paris, _ := time.LoadLocation("Europe/Paris")
	for _, c := range []struct {
		name string
		now  time.Time
		loc  *time.Location
		hhmm string
		want time.Time
	}{
		{"later today", t0, london, "18:30", time.Date(2026, 12, 5, 18, 30, 0, 0, time.UTC)},
		{"passed today: tomorrow", t0, london, "09:00", time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC)},
		{"exactly now: tomorrow", t0, london, "10:00", time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)},
		{"another zone", t0, paris, "09:00", time.Date(2026, 12, 6, 8, 0, 0, 0, time.UTC)},
		{"across the spring change", time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC), london, "09:00",
			time.Date(2026, 3, 29, 8, 0, 0, 0, time.UTC)},
		{"a time the change skips", time.Date(2026, 3, 28, 12, 0, 0, 0, time.UTC), london, "01:30",
			time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := NextLocal(c.now, c.loc, c.hhmm); !got.Equal(c.want) {
				t.Fatalf("NextLocal = %s, want %s", got, c.want)
			}
		})
	}
}

func TestInHoldout_StableByMemberAndNearItsShare(t *testing.T) {
	in := 0
	for i := range 10000 {
		m := "mem_" + string(rune('a'+i%26)) + time.Duration(i).String()
		a, b := InHoldout("cart", m, 10), InHoldout("cart", m, 10)
		if a != b {
			t.Fatalf("member %s: in and out of the holdout", m)
		}
		if a {
			in++
		}
		if InHoldout("cart", m, 0) {
			t.Fatalf("a 0%% holdout holds out %s", m)
		}
	}
	if in < 900 || in > 1100 {
		t.Fatalf("a 10%% holdout took %d of 10000 members", in)
	}
}
