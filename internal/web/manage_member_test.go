package web_test

import (
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/money"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/web"
)

// TestMemberPage_HistoryNamesCampaignsAndShowsMoneyWithItsSymbol: a
// member's history names the campaign of a redemption and of its
// announcement, linked to the campaign's page, and shows amounts as the
// programme's currency writes them.
func TestMemberPage_HistoryNamesCampaignsAndShowsMoneyWithItsSymbol(t *testing.T) {
	for _, tt := range []struct {
		currency            string
		unitPrice           int64
		bought, saved, name string
	}{
		{"GBP", 1000, "Bought £18.00", "saved £2.00", "Coffee & cake"},
		{"JPY", 1000, "Bought ¥1800", "saved ¥200", "Coffee & cake"},
	} {
		t.Run(tt.currency, func(t *testing.T) {
			e := newEnv(t, storetest.SQLite(t), func(o *web.Options) { o.Currency = money.MustCurrency(tt.currency) })
			ctx := t.Context()
			enr, err := e.members.Enrol(ctx, member.EnrolRequest{Profile: member.Profile{Phone: "07700 900002"}, Channel: member.ChannelAPI, Consent: true})
			if err != nil {
				t.Fatal(err)
			}
			c, err := e.campaigns.Create(ctx, campaign.Spec{Name: tt.name, Start: time.Now().UTC().Add(-time.Hour).Format(time.RFC3339), End: "2099-01-01",
				Audience: campaign.Audience{Kind: campaign.AudienceAll}, Message: "10% off: {{.CardURL}}",
				Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 10}}})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.campaigns.Launch(ctx, c.ID); err != nil {
				t.Fatal(err)
			}
			st, out, _ := e.do("POST", "/v1/checkout/commit", auth.RolePOS, map[string]any{"member": enr.Member.Code, "currency": tt.currency,
				"transaction_id": "T-1", "items": []map[string]any{{"line": 1, "sku": "LOAF", "quantity": 2, "unit_price": tt.unitPrice}}})
			if st != http.StatusOK {
				t.Fatalf("commit: %d %s", st, out)
			}
			res, page := e.get(e.signIn(auth.RoleReporting), "/manage/members/"+enr.Member.ID)
			link := `<a class="campaign" href="/manage/campaigns/` + c.ID + `">` + html.EscapeString(tt.name) + `</a>`
			for _, want := range []string{link, tt.bought, tt.saved} {
				if res.StatusCode != http.StatusOK || !strings.Contains(page, want) {
					t.Errorf("%d, lacks %s", res.StatusCode, want)
				}
			}
			if n := strings.Count(page, link); n != 2 {
				t.Errorf("the campaign is linked %d times, want 2 (its announcement and its redemption)", n)
			}
			if strings.Contains(page, ">"+c.ID+"<") {
				t.Errorf("the page shows the campaign's id as text")
			}
		})
	}
}
