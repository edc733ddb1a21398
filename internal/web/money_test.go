package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/money"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/web"
)

// The dashboard and the card show money with the programme currency's
// symbol and decimals, and the campaign form reads amounts in them.
func TestPages_ShowMoneyInTheProgrammeCurrency(t *testing.T) {
	for _, tt := range []struct {
		currency string
		value    string // typed in the campaign form: 1205 minor units
		sales    string // a basket of 5000 minor units less the offer
		off      string
	}{
		{"GBP", "12.05", "£37.95", "£12.05"},
		{"JPY", "1205", "¥3795", "¥1205"},
		{"KWD", "1.205", "KWD 3.795", "KWD 1.205"},
	} {
		t.Run(tt.currency, func(t *testing.T) {
			db := storetest.SQLite(t)
			e := newEnv(t, db, func(o *web.Options) { o.Currency = money.MustCurrency(tt.currency) })
			manager := e.signIn(auth.RoleManager)
			res, body := e.form(manager, "/manage/campaigns", url.Values{"name": {"Bread"}, "benefits[0].kind": {"amount_off"}, "benefits[0].amount": {tt.value},
				"audience.kind": {"all"}, "start": {time.Now().UTC().Add(-time.Hour).Format("2006-01-02T15:04")}, "end": {"2099-01-01"}})
			cid := strings.TrimPrefix(res.Header.Get("Location"), "/manage/campaigns/")
			if res.StatusCode != http.StatusSeeOther || cid == "" {
				t.Fatalf("create a campaign: %d %s", res.StatusCode, body)
			}
			if _, err := e.campaigns.Launch(t.Context(), cid); err != nil {
				t.Fatal(err)
			}
			enr, err := e.members.Enrol(t.Context(), member.EnrolRequest{Profile: member.Profile{Phone: "07700 900002"}, Channel: member.ChannelAPI, Consent: true})
			if err != nil {
				t.Fatal(err)
			}
			st, out, _ := e.do("POST", "/v1/checkout/commit", auth.RolePOS, map[string]any{"store": "S001", "terminal": "T1",
				"member": enr.Member.Code, "currency": tt.currency, "transaction_id": "T-1",
				"items": []map[string]any{{"line": 1, "sku": "LOAF", "quantity": 2, "unit_price": 2500}}})
			if st != 200 || !strings.Contains(string(out), `"total_discount":1205`) {
				t.Fatalf("commit: %d %s", st, out)
			}

			for _, page := range []struct {
				path  string
				wants []string
			}{
				{"/manage/", []string{"(" + tt.sales + ")", "(" + tt.off + " off)"}},
				{"/manage/campaigns/" + cid, []string{tt.off + "</span> discount given", tt.sales + "</span> revenue"}},
			} {
				res, body := e.get(manager, page.path)
				for _, want := range page.wants {
					if res.StatusCode != 200 || !strings.Contains(body, want) {
						t.Errorf("%s: %d, lacks %q", page.path, res.StatusCode, want)
					}
				}
			}
			res, body = e.get(e.browser(), "/c/"+enr.CardToken)
			if want := tt.off + " off"; res.StatusCode != 200 || !strings.Contains(body, want) {
				t.Errorf("card: %d, lacks %q", res.StatusCode, want)
			}
		})
	}
}

// A form amount with more decimals than the currency has is refused.
func TestCampaignForm_RefusesDecimalsTheCurrencyHasNot(t *testing.T) {
	db := storetest.SQLite(t)
	e := newEnv(t, db, func(o *web.Options) { o.Currency = money.MustCurrency("JPY") })
	res, body := e.form(e.signIn(auth.RoleManager), "/manage/campaigns", url.Values{"name": {"Bread"}, "benefits[0].kind": {"amount_off"},
		"benefits[0].amount": {"12.05"}, "audience.kind": {"all"}, "start": {"2030-01-01"}, "end": {"2030-02-01"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "must be an amount such as 499") {
		t.Errorf("12.05 yen: %d", res.StatusCode)
	}
}
