package journey

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// A campaign_launch trigger enters the campaign's treated audience when it
// launches, each member once, over more than one page, and not its control
// group; an instance that stops after a page and a second that takes over
// enter nobody twice; a campaign launched before the journey went live
// enters nobody; an audience of all members enters those it announced to.
func TestCampaignLaunch_TheLaunchedAudienceEntersOnceEach(t *testing.T) {
	const members = launchPage + 200 // more than one page
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		ids := make([]string, members)
		for i := range ids {
			ids[i] = fmt.Sprintf("mem_launch%05d", i)
		}
		insertMembers(t, db, ids)
		launch := func(spec campaign.Spec) string {
			t.Helper()
			spec.Start, spec.End, spec.TimeZone = "2026-12-01", "2026-12-24", "Europe/London"
			spec.Benefits = []engine.Benefit{{Kind: engine.PercentOff, Percent: 10}}
			c, err := f.campaigns.Create(ctx, spec)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.campaigns.Launch(ctx, c.ID); err != nil {
				t.Fatal(err)
			}
			return c.ID
		}
		active := campaign.Audience{Kind: campaign.AudienceFilter, Filter: &campaign.Filter{Statuses: []string{"active"}}}
		launch(campaign.Spec{Name: "before", Audience: active})
		f.apply(Definition{Name: "early", Trigger: Filter{CampaignLaunch: "before"}, Steps: []Step{{ID: "tag", Tag: &TagChange{Add: []string{"early"}}}}})
		f.apply(Definition{Name: "spring", Trigger: Filter{CampaignLaunch: "spring-sale"}, Steps: []Step{{ID: "tag", Tag: &TagChange{Add: []string{"spring"}}}}})
		f.poll() // the campaign has not launched: nobody enters
		f.apply(Definition{Name: "all-follow-up", Trigger: Filter{CampaignLaunch: "to-all"}, Steps: []Step{{ID: "tag", Tag: &TagChange{Add: []string{"told"}}}}})
		spring := launch(campaign.Spec{Name: "spring-sale", Audience: active, ControlGroup: 10})
		launch(campaign.Spec{Name: "to-all", Audience: campaign.Audience{Kind: campaign.AudienceAll}, Message: "Hello {{.FirstName}}"})
		// By id, after that campaign launched: nobody.
		f.apply(Definition{Name: "by-id", Trigger: Filter{CampaignLaunch: spring}, Steps: []Step{{ID: "tag", Tag: &TagChange{Add: []string{"late"}}}}})

		// One instance enters a page of each launch and dies; another
		// takes over from the cursor.
		first := f.service()
		if n, err := first.CampaignLaunches(ctx); err != nil || n != 2*launchPage {
			t.Fatalf("the first page: %d, %v", n, err)
		}
		f.poll()
		f.poll()

		treated := f.count(`SELECT COUNT(*) FROM campaign_members WHERE campaign_id = $1 AND control = 0`, spring)
		control := f.count(`SELECT COUNT(*) FROM campaign_members WHERE campaign_id = $1 AND control = 1`, spring)
		if treated+control != members || control == 0 {
			t.Fatalf("the spring audience: %d treated, %d control", treated, control)
		}
		for _, c := range []struct {
			what string
			q    string
			want int
		}{
			{"spring enrolments", `SELECT COUNT(*) FROM journey_enrolments WHERE journey = 'spring'`, treated},
			{"spring members entered twice", `SELECT COUNT(*) FROM (SELECT member_id FROM journey_enrolments WHERE journey = 'spring'
				GROUP BY member_id HAVING COUNT(*) > 1) x`, 0},
			{"control members entered", `SELECT COUNT(*) FROM journey_enrolments e JOIN campaign_members c ON c.member_id = e.member_id
				AND c.campaign_id = '` + spring + `' WHERE e.journey = 'spring' AND c.control = 1`, 0},
			{"spring steps run", `SELECT COUNT(*) FROM journey_steps WHERE journey = 'spring'`, treated},
			{"spring completed", `SELECT COUNT(*) FROM journey_enrolments WHERE journey = 'spring' AND exit_reason = 'completed'`, treated},
			{"launched before the journey went live", `SELECT COUNT(*) FROM journey_enrolments WHERE journey IN ('early', 'by-id')`, 0},
			{"an audience of all: those announced to", `SELECT COUNT(*) FROM journey_enrolments WHERE journey = 'all-follow-up'`, members},
		} {
			if got := f.count(c.q); got != c.want {
				t.Errorf("%s: %d, want %d", c.what, got, c.want)
			}
		}

		// Polling again, and after a restart, enters nobody more.
		f.journeys = f.service()
		f.poll()
		if got := f.count(`SELECT COUNT(*) FROM journey_enrolments`); got != treated+members {
			t.Errorf("after a restart: %d enrolments, want %d", got, treated+members)
		}
	})
}

// Each logged step records when it was due beside when it ran: a timer's
// lag is their difference, which the scale benchmark measures. Steps run
// in the same claim share its due time.
func TestRunner_LogsWhenEachStepWasDue(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ann := f.member(1, member.Profile{FirstName: "Ann"})
		f.apply(Definition{Name: "lag", Trigger: Filter{Event: "app_opened"}, Steps: []Step{
			{ID: "hi", SMS: "Hi {{.FirstName}}"},
			{ID: "pause", Wait: dur(time.Hour)},
			{ID: "tag", Tag: &TagChange{Add: []string{"waited"}}},
		}})
		f.event(ann, "app_opened", "")
		f.advance(3 * time.Second) // the member enters, due at once, when the runner reads the event
		entered := f.clock.Now()
		f.advance(time.Hour + 4*time.Second) // the runner comes 4 s after the wait ended
		want := []struct {
			step     string
			due, ran time.Time
		}{
			{"hi", entered, entered},
			{"pause", entered.Add(time.Hour), entered.Add(time.Hour + 4*time.Second)},
			{"tag", entered.Add(time.Hour), entered.Add(time.Hour + 4*time.Second)},
		}
		rows, err := db.R.Query(`SELECT step, due_at, at FROM journey_steps ORDER BY n`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		i := 0
		for ; rows.Next(); i++ {
			var step string
			var due, ran time.Time
			if err := rows.Scan(&step, &due, &ran); err != nil {
				t.Fatal(err)
			}
			if i >= len(want) || step != want[i].step || !due.Equal(want[i].due) || !ran.Equal(want[i].ran) {
				t.Errorf("log row %d: %s due %v ran %v", i, step, due.UTC(), ran.UTC())
				continue
			}
		}
		if i != len(want) {
			t.Errorf("%d log rows, want %d", i, len(want))
		}
	})
}
