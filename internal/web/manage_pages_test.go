package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/journey"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// Every dashboard page asks for a signed-in operator with its permission
// (signed out: the sign-in form, 401; a role without it: a page saying so,
// 403), and its failures are pages too, with the status the API would give.
func TestManagePages_EachAsksItsPermissionAndAnswersFailuresWithAPage(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	manager, reporting := e.signIn(auth.RoleManager), e.signIn(auth.RoleReporting)
	res, _ := e.form(manager, "/manage/campaigns", url.Values{"name": {"Spring"}, "benefits[0].kind": {"percent_off"}, "benefits[0].percent": {"10"},
		"audience.kind": {"all"}, "start": {"2030-01-01"}, "end": {"2030-02-01"}})
	cid := strings.TrimPrefix(res.Header.Get("Location"), "/manage/campaigns/")
	if res.StatusCode != http.StatusSeeOther || cid == "" {
		t.Fatalf("create a campaign: %d", res.StatusCode)
	}
	en, err := e.members.Enrol(t.Context(), member.EnrolRequest{Profile: member.Profile{Phone: "07700 900002"}, Channel: member.ChannelAPI})
	if err != nil {
		t.Fatal(err)
	}
	mid := en.Member.ID
	campaignForm := url.Values{"name": {"Spring"}, "benefits[0].kind": {"percent_off"}, "benefits[0].percent": {"10"}, "audience.kind": {"all"},
		"start": {"2030-01-01"}, "end": {"2030-02-01"}}

	pages := []struct {
		method, path string
		form         url.Values
		write        bool // needs a write permission: reporting may not
		status       int  // for the manager
	}{
		{"GET", "/manage/", nil, false, http.StatusOK},
		{"GET", "/manage/campaigns", nil, false, http.StatusOK},
		{"GET", "/manage/campaigns/" + cid, nil, false, http.StatusOK},
		{"GET", "/manage/members", nil, false, http.StatusOK},
		{"GET", "/manage/members/" + mid, nil, false, http.StatusOK},
		{"GET", "/manage/imports", nil, false, http.StatusOK},
		{"GET", "/manage/imports/imp_none/errors.csv", nil, false, http.StatusNotFound},
		{"GET", "/manage/campaigns/new", nil, true, http.StatusOK},
		{"GET", "/manage/campaigns/" + cid + "/edit", nil, true, http.StatusOK},
		{"POST", "/manage/campaigns/" + cid + "/edit", campaignForm, true, http.StatusSeeOther},
		{"POST", "/manage/campaigns/" + cid + "/simulate", url.Values{"days": {"7"}}, true, http.StatusOK},
		{"GET", "/manage/campaigns/" + cid + "/live", nil, false, 0}, // a stream: only its refusals are tried
		{"GET", "/manage/journeys", nil, false, http.StatusOK},
		{"GET", "/manage/journeys/" + journey.AbandonmentJourney, nil, false, http.StatusNotFound}, // not installed in this harness
		{"GET", "/manage/journeys/" + journey.AbandonmentJourney + "/live", nil, false, 0},
	}
	send := func(c *http.Client, method, path string, form url.Values) (*http.Response, string) {
		if method == "POST" {
			return e.form(c, path, form)
		}
		return e.get(c, path)
	}
	for _, p := range pages {
		if res, body := send(e.browser(), p.method, p.path, p.form); res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `id="password"`) {
			t.Errorf("signed out: %s %s = %d, want 401 and the sign-in form", p.method, p.path, res.StatusCode)
		}
		if p.write {
			if res, body := send(reporting, p.method, p.path, p.form); res.StatusCode != http.StatusForbidden || !strings.Contains(body, `id="forbidden"`) {
				t.Errorf("reporting: %s %s = %d, want 403 and the page saying so", p.method, p.path, res.StatusCode)
			}
		}
		if p.status == 0 {
			continue
		}
		if res, _ := send(manager, p.method, p.path, p.form); res.StatusCode != p.status {
			t.Errorf("manager: %s %s = %d, want %d", p.method, p.path, res.StatusCode, p.status)
		}
	}

	failures := []struct {
		name, method, path string
		form               url.Values
		status             int
		says               string
	}{
		{"no such campaign", "GET", "/manage/campaigns/cmp_none", nil, http.StatusNotFound, "Not possible"},
		{"no such campaign to edit", "GET", "/manage/campaigns/cmp_none/edit", nil, http.StatusNotFound, "Not possible"},
		{"no such member", "GET", "/manage/members/mem_none", nil, http.StatusNotFound, "Not possible"},
		{"no such import's errors", "GET", "/manage/imports/imp_none/errors.csv", nil, http.StatusNotFound, "Not possible"},
		{"a broken history link", "GET", "/manage/members/" + mid + "?before=yesterday", nil, http.StatusBadRequest,
			"That page link is broken: start again from the member."},
		{"no such action", "POST", "/manage/campaigns/" + cid + "/frobnicate", url.Values{}, http.StatusNotFound, ""},
		{"a form that is not a campaign: the form again, with the field's error", "POST", "/manage/campaigns",
			url.Values{"name": {"Bad"}, "benefits[0].kind": {"percent_off"}, "benefits[0].percent": {"ten"}, "audience.kind": {"all"}}, http.StatusUnprocessableEntity,
			"must be a whole number"},
		{"a simulation the rules refuse: the campaign's page, with why", "POST", "/manage/campaigns/" + cid + "/simulate",
			url.Values{"days": {"400"}}, http.StatusUnprocessableEntity, "must be 1 to 366"},
		{"an action the campaign's state refuses: its page, with why", "POST", "/manage/campaigns/" + cid + "/resume", url.Values{},
			http.StatusConflict, "Spring"},
	}
	for _, f := range failures {
		res, body := send(manager, f.method, f.path, f.form)
		if res.StatusCode != f.status || !strings.Contains(body, f.says) {
			t.Errorf("%s: %s %s = %d, want %d saying %q\n%s", f.name, f.method, f.path, res.StatusCode, f.status, f.says, body)
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") || res.Header.Get("Content-Disposition") != "" {
			t.Errorf("%s: answered as %q (%q), want a page", f.name, ct, res.Header.Get("Content-Disposition"))
		}
	}
}
