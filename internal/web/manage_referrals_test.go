package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// The dashboard's Referrals page: the report and the settings as YAML; a
// mistake comes back with the text as typed and the field; a reporting
// operator sees but cannot save; the member page shows the member's side.
func TestManageReferrals_ReportSettingsAndMemberPage(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	admin, reporting := e.signIn(auth.RoleAdmin), e.signIn(auth.RoleReporting)
	if res, body := e.get(reporting, "/manage/referrals"); res.StatusCode != 200 || !strings.Contains(body, `id="referral-report"`) ||
		!strings.Contains(body, "enabled: false") {
		t.Fatalf("page: %d\n%s", res.StatusCode, body)
	}
	good := "enabled: true\nqualify: join\nreferrer: {kind: points, points: 300}\n"
	if res, _ := e.form(reporting, "/manage/referrals", url.Values{"spec": {good}}); res.StatusCode != http.StatusForbidden {
		t.Fatalf("reporting saved: %d", res.StatusCode)
	}
	for _, tc := range []struct {
		spec, want string
		status     int
	}{
		{"enabled: true\nqualify: later\n", "qualify: must be", 422},
		{"enabled: true\nreferer: {kind: points}\n", "field referer not found", 422},
		{"enabled: true\nqualify: join\nfriend: {kind: points, points: 0}\n", "friend.points: must be 1 to", 422},
		{good, "Saved.", 200},
	} {
		res, body := e.form(admin, "/manage/referrals", url.Values{"spec": {tc.spec}})
		if res.StatusCode != tc.status || !strings.Contains(body, tc.want) {
			t.Errorf("save %q: %d, want %d and %q\n%s", tc.spec, res.StatusCode, tc.status, tc.want, body)
		}
		if tc.status == 422 && !strings.Contains(body, "<title>Error: Referrals") {
			t.Errorf("save %q: the title does not say Error first", tc.spec)
		}
	}
	ann := e.enrol("07700 900301")
	st, body, _ := e.do("GET", "/v1/members/"+ann.ID+"/referrals", auth.RoleAdmin, nil)
	if st != 200 {
		t.Fatalf("%d %s", st, body)
	}
	code := decode[struct{ Code string }](t, body).Code
	st, body, _ = e.do("POST", "/v1/members", auth.RoleAdmin, map[string]any{"phone": "07700 900302", "referral_code": code})
	friend := decodeMember(t, body)
	if st != 201 || !strings.Contains(string(body), `"status":"rewarded"`) {
		t.Fatalf("friend: %d %s", st, body)
	}
	if res, page := e.get(reporting, "/manage/members/"+ann.ID); res.StatusCode != 200 || !strings.Contains(page, code) ||
		!strings.Contains(page, "/manage/members/"+friend.ID) {
		t.Errorf("referrer's page: %d\n%s", res.StatusCode, page)
	}
	if res, page := e.get(reporting, "/manage/members/"+friend.ID); res.StatusCode != 200 || !strings.Contains(page, `id="referred-by"`) {
		t.Errorf("friend's page: %d\n%s", res.StatusCode, page)
	}
	if res, page := e.get(reporting, "/manage/referrals"); res.StatusCode != 200 || !strings.Contains(page, `<dd id="r-rewarded">1</dd>`) {
		t.Errorf("report after a referral: %d\n%s", res.StatusCode, page)
	}
}
