package web_test

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/referral"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

func getPage(t *testing.T, e *env, path string) (int, string) {
	t.Helper()
	res, err := http.Get(e.url + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

var cardTokenRE = regexp.MustCompile(`/c/([A-Za-z0-9_-]+)`)

// The story over HTTP: settings by API, a member's link, the join
// form with it (the code in the wrong case), the friend's purchase at the
// till (and its retry), the return, the report; bad settings and bad codes
// get clear answers and never stop a sign-up.
func TestReferrals_API_JoinFormTillAndReport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		for _, tc := range []struct {
			name   string
			body   string
			status int
			code   string
			field  string
		}{
			{"unknown qualify", `{"enabled":true,"qualify":"later","referrer":{"kind":"points","points":5}}`, 422, "qualify_invalid", "qualify"},
			{"no reward", `{"enabled":true}`, 422, "reward_required", "referrer"},
			{"points of nothing", `{"enabled":true,"friend":{"kind":"points"}}`, 422, "points_invalid", "friend.points"},
			{"unknown campaign", `{"enabled":true,"friend":{"kind":"offer","campaign":"nope","value":500}}`, 422, "campaign_invalid", "friend.campaign"},
			{"typo in a field", `{"enabled":true,"qualfy":"join"}`, 400, "", ""},
		} {
			st, body, _ := e.do("PUT", "/v1/referrals/settings", auth.RoleManager, tc.body)
			if st != tc.status {
				t.Fatalf("%s: %d %s", tc.name, st, body)
			}
			if code, field := errorOf(t, body); tc.code != "" && (code != tc.code || field != tc.field) {
				t.Errorf("%s: %s at %q, want %s at %q", tc.name, code, field, tc.code, tc.field)
			}
		}
		if st, body, _ := e.do("PUT", "/v1/referrals/settings", auth.RoleReporting, `{}`); st != http.StatusForbidden {
			t.Fatalf("reporting key saved settings: %d %s", st, body)
		}
		st, body, _ := e.do("PUT", "/v1/referrals/settings", auth.RoleManager,
			`{"enabled":true,"min_purchase":2000,"referrer":{"kind":"points","points":500},"friend":{"kind":"points","points":200}}`)
		saved := decode[referral.Settings](t, body)
		if st != 200 || saved.Qualify != referral.QualifyPurchase || saved.WithinDays != 30 {
			t.Fatalf("save: %d %s", st, body)
		}

		ann := e.enrol("07700 900101")
		st, body, _ = e.do("GET", "/v1/members/"+ann.ID+"/referrals", auth.RoleReporting, nil)
		mine := decode[referral.Mine](t, body)
		if st != 200 || len(mine.Code) != referral.CodeLen || mine.Link != "http://perk.test/join?ref="+mine.Code {
			t.Fatalf("member's referrals: %d %s", st, body)
		}

		// The friend opens the link with the code in lower case.
		st, page := getPage(t, e, "/join?ref="+strings.ToLower(mine.Code))
		if st != 200 || !strings.Contains(page, "A friend invited you") || !strings.Contains(page, `name="ref" value="`+mine.Code+`"`) {
			t.Fatalf("join with a referral: %d\n%s", st, page)
		}
		for _, bad := range []string{"K7Q", "ZZ9ZZ9"} {
			st, page := getPage(t, e, "/join?ref="+bad)
			if st != 200 || !strings.Contains(page, "invitation code in your link is not valid") || strings.Contains(page, `name="ref"`) {
				t.Fatalf("join with %s: %d\n%s", bad, st, page)
			}
		}
		st, page = postForm(t, e, "/join", url.Values{"phone": {"07700 900102"}, "consent": {"yes"}, "ref": {mine.Code}}, nil)
		if st != 200 || !strings.Contains(page, "invitation is noted") {
			t.Fatalf("join: %d\n%s", st, page)
		}
		st, page = postForm(t, e, "/join", url.Values{"phone": {"07700 900103"}, "consent": {"yes"}, "ref": {"K7Q-??"}}, nil)
		if st != 200 || !strings.Contains(page, "that is not a referral code; you are signed up all the same") {
			t.Fatalf("join with a malformed code: %d\n%s", st, page)
		}
		st, body, _ = e.do("POST", "/v1/members", auth.RoleAdmin, map[string]any{"phone": "07700 900104", "referral_code": "ZZ9ZZ9"})
		if st != http.StatusCreated || !strings.Contains(string(body), referral.ReasonUnknownCode) {
			t.Fatalf("API enrol with an unknown code: %d %s", st, body)
		}

		st, body, _ = e.do("GET", "/v1/referrals?status=pending_purchase", auth.RoleReporting, nil)
		list := decode[struct{ Referrals []referral.Referral }](t, body).Referrals
		if st != 200 || len(list) != 1 || list[0].ReferrerID != ann.ID || list[0].Reason != "pending first purchase" {
			t.Fatalf("pending referrals: %d %s", st, body)
		}
		ref := list[0]
		st, body, _ = e.do("GET", "/v1/members/"+ref.FriendID, auth.RoleAdmin, nil)
		friend := decodeMember(t, body)

		basket := map[string]any{"store": "S001", "terminal": "T1", "member": friend.Code, "currency": "GBP", "transaction_id": "F-1",
			"items": []map[string]any{{"line": 1, "sku": "COAT", "quantity": 1, "unit_price": 4000}}}
		for i := range 2 { // the till retries
			if st, body, _ := e.do("POST", "/v1/checkout/commit", auth.RolePOS, basket); st != 200 {
				t.Fatalf("commit %d: %d %s", i, st, body)
			}
		}
		st, body, _ = e.do("GET", "/v1/referrals/"+ref.ID, auth.RoleReporting, nil)
		got := decode[referral.Referral](t, body)
		if st != 200 || got.Status != referral.StatusRewarded || len(got.Rewards) != 2 || got.Cost != 700 {
			t.Fatalf("after the purchase: %d %s", st, body)
		}
		st, body, _ = e.do("GET", "/v1/members/"+ann.ID+"/ledger", auth.RoleReporting, nil)
		if st != 200 || strings.Count(string(body), "referral: you brought a friend") != 1 {
			t.Fatalf("referrer's ledger: %d %s", st, body)
		}
		ret := map[string]any{"store": "S001", "transaction_id": "F-1", "return_id": "RET-1", "items": []map[string]any{{"line": 1, "quantity": 1}}}
		if st, body, _ := e.do("POST", "/v1/checkout/return", auth.RolePOS, ret); st != 200 {
			t.Fatalf("return: %d %s", st, body)
		}
		st, body, _ = e.do("GET", "/v1/referrals/"+ref.ID, auth.RoleReporting, nil)
		if got := decode[referral.Referral](t, body); st != 200 || got.Status != referral.StatusClawedBack || got.Cost != 0 {
			t.Fatalf("after the return: %d %s", st, body)
		}

		st, body, _ = e.do("GET", "/v1/referrals/report", auth.RoleReporting, nil)
		rep := decode[referral.Report](t, body)
		if st != 200 || rep.Opened != 1 || rep.Joined != 1 || rep.Qualified != 1 || rep.ClawedBack != 1 || rep.Cost != 0 ||
			rep.Referred.Members != 1 || rep.Other.Members != 3 {
			t.Fatalf("report: %d %s", st, body)
		}
		for _, q := range []string{"?status=maybe", "?limit=0"} {
			if st, body, _ := e.do("GET", "/v1/referrals"+q, auth.RoleReporting, nil); st != 422 {
				t.Errorf("GET /v1/referrals%s: %d %s", q, st, body)
			}
		}
		if st, body, _ := e.do("GET", "/v1/referrals/ref_nope", auth.RoleReporting, nil); st != 404 {
			t.Errorf("unknown referral: %d %s", st, body)
		}
		if st, body, _ := e.do("GET", "/v1/referrals/settings", auth.RoleReporting, nil); st != 200 || !strings.Contains(string(body), `"enabled":true`) {
			t.Errorf("settings: %d %s", st, body)
		}

		// Ann's card shows her link, the share button and her referral.
		st, body, _ = e.do("GET", "/v1/members/"+ann.ID, auth.RoleAdmin, nil)
		tok := cardTokenRE.FindStringSubmatch(decodeMember(t, body).CardURL)
		st, page = getPage(t, e, "/c/"+tok[1])
		if st != 200 || !strings.Contains(page, `id="share"`) || !strings.Contains(page, mine.Link) ||
			!strings.Contains(page, referral.ReasonClawedBack) {
			t.Fatalf("card: %d\n%s", st, page)
		}
		if st, _ := postForm(t, e, "/c/"+tok[1]+"/shared", url.Values{"how": {"copy"}}, nil); st != http.StatusNoContent {
			t.Fatalf("share counted: %d", st)
		}
		st, body, _ = e.do("GET", "/v1/referrals/report", auth.RoleReporting, nil)
		if rep := decode[referral.Report](t, body); rep.Sent != 1 {
			t.Errorf("sent after a share: %d", rep.Sent)
		}
	})
}
