package journey

import (
	"context"
	"testing"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// A journey's text and a campaign's announcement are one rendering: the
// same template for the same member gives the same words, card link and
// kind of message.
func TestSMS_AJourneyTextIsWrittenAsTheCampaignsAnnouncement(t *testing.T) {
	const tmpl = `Hi {{.FirstName}} {{.LastName}} ({{.Name}}), card {{.Code}}: {{.CardURL}} {{index .Attributes "tier"}} - {{.Programme}}`
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		ann := f.member(1, member.Profile{FirstName: "Ann", LastName: "Lee", Attributes: map[string]string{"tier": "gold"}})
		c, err := f.campaigns.Create(ctx, campaign.Spec{Name: "hello", Start: "2026-12-01", End: "2026-12-24", TimeZone: "Europe/London",
			Audience: campaign.Audience{Kind: campaign.AudienceAll}, Message: tmpl,
			Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 10}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.campaigns.Launch(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		f.apply(Definition{Name: "hello", Trigger: Filter{Event: "app_opened"}, Steps: []Step{{ID: "text", SMS: tmpl}}})
		f.event(ann, "app_opened", "")
		f.poll()
		var campaignBody, campaignKind string
		if err := db.R.QueryRow(`SELECT body, kind FROM sms_outbox WHERE member_id = $1 AND purpose = 'campaign'`, ann).
			Scan(&campaignBody, &campaignKind); err != nil {
			t.Fatal(err)
		}
		texts := f.texts(ann)
		if len(texts) != 1 {
			t.Fatalf("journey texts: %q", texts)
		}
		if texts[0] != campaignBody {
			t.Errorf("journey text %q\ncampaign text %q", texts[0], campaignBody)
		}
		if want := "Hi Ann Lee (Ann Lee), card "; len(campaignBody) < len(want) || campaignBody[:len(want)] != want {
			t.Errorf("campaign text %q does not start %q", campaignBody, want)
		}
		if n := f.count(`SELECT COUNT(*) FROM sms_outbox WHERE member_id = $1 AND kind = $2`, ann, campaignKind); n != 2 {
			t.Errorf("%d texts of kind %s, want both", n, campaignKind)
		}
	})
}
