package campaign_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

type fixture struct {
	db        *store.DB
	clock     *clock
	members   *member.Service
	campaigns *campaign.Service
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	c := &clock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return &fixture{db: db, clock: c,
		members:   member.NewService(db, member.Options{Region: "GB", PublicURL: "https://perk.test", Programme: "Test", Now: c.Now, Log: log}),
		campaigns: campaign.NewService(db, campaign.Options{PublicURL: "https://perk.test", Programme: "Test", Now: c.Now, Log: log}),
	}
}

func (f *fixture) enrol(t *testing.T, i int, consent bool, p member.Profile) *member.Member {
	t.Helper()
	p.Phone = fmt.Sprintf("+4477009%05d", i)
	e, err := f.members.Enrol(context.Background(), member.EnrolRequest{Profile: p, Channel: member.ChannelAPI, Consent: consent})
	if err != nil {
		t.Fatal(err)
	}
	return e.Member
}

func spec(name string) campaign.Spec {
	return campaign.Spec{Name: name, Start: "2026-11-23", End: "2026-12-24", TimeZone: "Europe/London",
		Audience: campaign.Audience{Kind: campaign.AudienceAll},
		Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 10}}}
}

func TestSpecValidation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		for _, c := range []struct {
			name  string
			edit  func(*campaign.Spec)
			field string
		}{
			{"no name", func(s *campaign.Spec) { s.Name = "" }, "name"},
			{"end before start", func(s *campaign.Spec) { s.End = "2026-11-01" }, "end"},
			{"bad date", func(s *campaign.Spec) { s.Start = "23/11/2026" }, "start"},
			{"bad zone", func(s *campaign.Spec) { s.TimeZone = "Mars/Olympus" }, "timezone"},
			{"no audience", func(s *campaign.Spec) { s.Audience.Kind = "" }, "audience.kind"},
			{"filter without filter", func(s *campaign.Spec) { s.Audience.Kind = campaign.AudienceFilter }, "audience.filter"},
			{"bad filter date", func(s *campaign.Spec) {
				s.Audience = campaign.Audience{Kind: campaign.AudienceFilter, Filter: &campaign.Filter{EnrolledAfter: "soon"}}
			}, "audience.filter.enrolled_after"},
			{"percent over 100", func(s *campaign.Spec) { s.Benefits[0].Percent = 120 }, "benefits[0].percent"},
			{"no benefits", func(s *campaign.Spec) { s.Benefits = nil }, "benefits"},
			{"period without count", func(s *campaign.Spec) { s.Limits.Period = "week" }, "limits.per_period"},
			{"count without period", func(s *campaign.Spec) { s.Limits.PerPeriod = 1 }, "limits.period"},
			{"huge control group", func(s *campaign.Spec) { s.ControlGroup = 80 }, "control_group"},
			{"bad template", func(s *campaign.Spec) { s.Message = "Hi {{.Frist}}" }, "message"},
			{"javascript link", func(s *campaign.Spec) { s.Message = `Tap {{link "javascript:alert(document.cookie)"}}` }, "message"},
			{"data link", func(s *campaign.Spec) { s.Message = `Tap {{link "data:text/html,<b>hi</b>"}}` }, "message"},
			{"relative link", func(s *campaign.Spec) { s.Message = `Tap {{link "/c/abc"}}` }, "message"},
			{"link without host", func(s *campaign.Spec) { s.Message = `Tap {{link "https:///x"}}` }, "message"},
		} {
			t.Run(c.name, func(t *testing.T) {
				s := spec("Bad")
				c.edit(&s)
				_, err := f.campaigns.Create(context.Background(), s)
				pe, ok := err.(*problem.Error)
				if !ok || problem.KindOf(err) != problem.Invalid {
					t.Fatalf("Create = %v, want an invalid-field problem", err)
				}
				if !strings.HasPrefix(pe.Field, strings.SplitN(c.field, "[", 2)[0]) {
					t.Fatalf("field = %q (%v), want %q", pe.Field, err, c.field)
				}
			})
		}
	})
}

// A campaign that promises free content cannot launch from an empty pool:
// every shopper it tells would find "(none left)" at the till.
func TestLaunch_AFreeContentCampaignNeedsCodesInItsPool(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		s := spec("Free song")
		s.Benefits = append(s.Benefits, engine.Benefit{Kind: engine.FreeContent, Pool: "songs", Description: "A free song"})
		c, err := f.campaigns.Create(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.campaigns.Launch(ctx, c.ID)
		var p *problem.Error
		if !errors.As(err, &p) || p.Code != "content_pool_empty" || p.Field != "benefits[1].pool" {
			t.Fatalf("launch with an empty pool = %v, want content_pool_empty on benefits[1].pool", err)
		}
		if got, _ := f.campaigns.Get(ctx, c.ID); got.Status != campaign.Draft {
			t.Fatalf("after the refused launch: %s, want draft", got.Status)
		}
		if _, err := f.campaigns.AddContent(ctx, "songs", []string{"SONG-1"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.campaigns.Launch(ctx, c.ID); err != nil {
			t.Fatalf("launch with a code in the pool: %v", err)
		}
	})
}

func TestLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		s := spec("Winter")
		s.Start = "2026-12-01T09:00" // London time
		c, err := f.campaigns.Create(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if c.Status != campaign.Draft || !c.Start.Equal(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)) {
			t.Fatalf("created %s starting %s", c.Status, c.Start)
		}
		if _, err := f.campaigns.Create(ctx, s); problem.KindOf(err) != problem.Conflict {
			t.Fatalf("duplicate name: %v", err)
		}
		l, err := f.campaigns.Launch(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		if l.Campaign.Status != campaign.Scheduled {
			t.Fatalf("launched before its start: %s", l.Campaign.Status)
		}
		if _, err := f.campaigns.Launch(ctx, c.ID); problem.KindOf(err) != problem.Conflict {
			t.Fatalf("second launch: %v", err)
		}
		f.clock.t = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		if got, _ := f.campaigns.Get(ctx, c.ID); got.Status != campaign.Active {
			t.Fatalf("at its start: %s", got.Status)
		}
		if p, err := f.campaigns.Pause(ctx, c.ID); err != nil || p.Status != campaign.Paused {
			t.Fatalf("pause: %v %v", p, err)
		}
		if r, err := f.campaigns.Resume(ctx, c.ID); err != nil || r.Status != campaign.Active {
			t.Fatalf("resume: %v %v", r, err)
		}
		// Launched: the audience is fixed, the end may move.
		s2 := s
		s2.Audience = campaign.Audience{Kind: campaign.AudienceList}
		if _, err := f.campaigns.Update(ctx, c.ID, s2, 0); err == nil {
			t.Fatal("audience changed after launch")
		}
		s3 := s
		s3.End = "2027-01-10"
		u, err := f.campaigns.Update(ctx, c.ID, s3, 0)
		if err != nil || u.End.Format("2006-01-02") != "2027-01-10" {
			t.Fatalf("extend: %v %v", u, err)
		}
		if _, err := f.campaigns.Update(ctx, c.ID, s3, 1); problem.KindOf(err) != problem.Conflict {
			t.Fatalf("stale version accepted: %v", err)
		}
		if err := f.campaigns.Delete(ctx, c.ID); problem.KindOf(err) != problem.Conflict {
			t.Fatalf("deleted a launched campaign: %v", err)
		}
		f.clock.t = time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)
		if got, _ := f.campaigns.Get(ctx, c.ID); got.Status != campaign.Ended {
			t.Fatalf("after its end: %s", got.Status)
		}
	})
}

func TestLaunchFixesAudienceControlGroupAndQueuesAnnouncements(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		var gold []string
		for i := range 200 {
			p := member.Profile{FirstName: fmt.Sprint("M", i), HomeStore: "S1"}
			if i%2 == 0 {
				p.Tags = []string{"gold"}
			}
			if i%4 == 0 {
				p.Attributes = map[string]string{"tier": "platinum"}
			}
			m := f.enrol(t, i, i%10 != 0, p) // every tenth did not consent to marketing
			if i%2 == 0 {
				gold = append(gold, m.ID)
			}
		}
		s := spec("Gold week")
		s.Audience = campaign.Audience{Kind: campaign.AudienceFilter, Filter: &campaign.Filter{Tags: []string{"gold"}}}
		s.ControlGroup = 20
		s.Message = "Hi {{.FirstName}}, 10% off this week with code {{.Code}}: {{.CardURL}}"
		c, err := f.campaigns.Create(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		pv, err := f.campaigns.Preview(ctx, c.ID, 5)
		if err != nil {
			t.Fatal(err)
		}
		if pv.Count != 100 || len(pv.Sample) != 5 || !strings.Contains(pv.Sample[0].Phone, "*") {
			t.Fatalf("preview = %+v", pv)
		}
		l, err := f.campaigns.Launch(ctx, c.ID)
		if err != nil {
			t.Fatal(err)
		}
		control := 0
		for _, id := range gold {
			if campaign.InControl(c.ID, id, 20) {
				control++
			}
		}
		if l.Audience != 100 || l.Control != int64(control) || control < 5 || control > 35 {
			t.Fatalf("launch = %+v, expected control %d", l, control)
		}
		var queued, toControl int
		db.R.QueryRow(`SELECT COUNT(*) FROM sms_outbox WHERE campaign_id = $1 AND kind = 'marketing'`, c.ID).Scan(&queued)
		db.R.QueryRow(`SELECT COUNT(*) FROM sms_outbox o JOIN campaign_members cm ON cm.member_id = o.member_id AND cm.campaign_id = o.campaign_id
			WHERE o.campaign_id = $1 AND cm.control = 1`, c.ID).Scan(&toControl)
		if int64(queued) != l.Announced || toControl != 0 {
			t.Fatalf("queued %d (launch said %d), %d to the control group", queued, l.Announced, toControl)
		}
		// Members without marketing consent are in the audience but not told.
		var unconsented int
		db.R.QueryRow(`SELECT COUNT(*) FROM sms_outbox o JOIN members m ON m.id = o.member_id WHERE o.campaign_id = $1 AND m.status <> 'active'`, c.ID).Scan(&unconsented)
		if unconsented != 0 || l.Announced >= l.Audience-l.Control {
			t.Fatalf("announced %d of %d treated; %d to members without consent", l.Announced, l.Audience-l.Control, unconsented)
		}
		var body string
		db.R.QueryRow(`SELECT body FROM sms_outbox WHERE campaign_id = $1 ORDER BY id LIMIT 1`, c.ID).Scan(&body)
		if !strings.HasPrefix(body, "Hi M") || !strings.Contains(body, "https://perk.test/c/") {
			t.Fatalf("announcement = %q", body)
		}
		pv, _ = f.campaigns.Preview(ctx, c.ID, 5)
		if pv.Count != 100 || pv.Control != l.Control {
			t.Fatalf("preview after launch = %+v", pv)
		}
	})
}

func TestAudienceFilters(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.enrol(t, 1, true, member.Profile{HomeStore: "S1", Tags: []string{"gold", "vip"}, Attributes: map[string]string{"tier": "A"}})
		f.clock.t = f.clock.t.Add(48 * time.Hour)
		f.enrol(t, 2, false, member.Profile{HomeStore: "S2", Tags: []string{"silver"}, Attributes: map[string]string{"tier": "B"}})
		f.enrol(t, 3, true, member.Profile{HomeStore: "S2"})
		for _, c := range []struct {
			name   string
			filter campaign.Filter
			want   int64
		}{
			{"tag", campaign.Filter{Tags: []string{"vip", "silver"}}, 2},
			{"home store", campaign.Filter{HomeStores: []string{"S2"}}, 2},
			{"attribute", campaign.Filter{Attributes: map[string]string{"tier": "B"}}, 1},
			{"status", campaign.Filter{Statuses: []string{"active"}}, 2},
			{"enrolled after", campaign.Filter{EnrolledAfter: "2026-11-24"}, 2},
			{"enrolled before", campaign.Filter{EnrolledBefore: "2026-11-24"}, 1},
			{"and", campaign.Filter{HomeStores: []string{"S2"}, Statuses: []string{"active"}}, 1},
			{"never bought", campaign.Filter{LastPurchaseBefore: "2026-11-01"}, 3},
			{"bought", campaign.Filter{BoughtSKUs: []string{"X"}}, 0},
		} {
			t.Run(c.name, func(t *testing.T) {
				s := spec("F " + c.name)
				s.Audience = campaign.Audience{Kind: campaign.AudienceFilter, Filter: &c.filter}
				cp, err := f.campaigns.Create(ctx, s)
				if err != nil {
					t.Fatal(err)
				}
				pv, err := f.campaigns.Preview(ctx, cp.ID, 10)
				if err != nil {
					t.Fatal(err)
				}
				if pv.Count != c.want {
					t.Fatalf("count = %d, want %d", pv.Count, c.want)
				}
			})
		}
	})
}

func TestUploadedList(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		a := f.enrol(t, 1, true, member.Profile{})
		f.enrol(t, 2, true, member.Profile{})
		f.enrol(t, 3, true, member.Profile{})
		s := spec("Listed")
		s.Audience = campaign.Audience{Kind: campaign.AudienceList}
		c, err := f.campaigns.Create(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		list := "code\n" + string(a.Code) + "\n07700 900002\n\nnobody\n" + string(a.Code) + "\n"
		res, err := f.campaigns.SetList(ctx, c.ID, strings.NewReader(list), func(ctx context.Context, k string) (string, error) {
			m, err := f.members.Lookup(ctx, k)
			if err != nil {
				return "", err
			}
			return m.ID, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if res.Members != 2 || res.Rows != 4 || len(res.Errors) != 1 || res.Errors[0].Row != 5 {
			t.Fatalf("list = %+v", res)
		}
		l, err := f.campaigns.Launch(ctx, c.ID)
		if err != nil || l.Audience != 2 {
			t.Fatalf("launch = %+v, %v", l, err)
		}
	})
}

// TestUploadedList_ByCRMId: a CRM's own export (a header naming the CRM id
// column, then its ids) loads as it is; elsewhere a CRM id is written
// "ext:ID"; a bare CRM id under no such header is not guessed.
func TestUploadedList_ByCRMId(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		f.enrol(t, 1, true, member.Profile{ExternalID: "CRM-1"})
		f.enrol(t, 2, true, member.Profile{ExternalID: "CRM-2"})
		b := f.enrol(t, 3, true, member.Profile{})
		resolve := func(ctx context.Context, k string) (string, error) {
			m, err := f.members.Lookup(ctx, k)
			if err != nil {
				return "", err
			}
			return m.ID, nil
		}
		for _, tc := range []struct {
			name, list string
			members    int
			errors     []campaign.ListRowError
		}{
			{"a CRM export with its header", "external_id,segment\nCRM-1,gold\nCRM-2,silver\nCRM-9,gold\n", 2,
				[]campaign.ListRowError{{Row: 4, Value: "CRM-9", Reason: "no member has this external_id"}}},
			{"crm_id header", "crm_id\nCRM-2\n", 1, nil},
			{"ext: among codes", "code\next:CRM-1\n" + string(b.Code) + "\n", 2, nil},
			{"a bare CRM id is not a phone", "CRM-1\n", 0,
				[]campaign.ListRowError{{Row: 1, Value: "CRM-1", Reason: "phone: not a phone number"}}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				s := spec("Listed " + tc.name)
				s.Audience = campaign.Audience{Kind: campaign.AudienceList}
				c, err := f.campaigns.Create(ctx, s)
				if err != nil {
					t.Fatal(err)
				}
				res, err := f.campaigns.SetList(ctx, c.ID, strings.NewReader(tc.list), resolve)
				if err != nil {
					t.Fatal(err)
				}
				if res.Members != tc.members || !slices.EqualFunc(res.Errors, tc.errors, func(a, b campaign.ListRowError) bool {
					return a.Row == b.Row && a.Value == b.Value && strings.Contains(a.Reason, b.Reason)
				}) {
					t.Errorf("list = %+v, want %d members and errors %+v", res, tc.members, tc.errors)
				}
			})
		}
	})
}
