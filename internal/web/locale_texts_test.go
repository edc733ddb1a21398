package web_test

import (
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/barcode"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/sms/texts"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/web"
)

// TestAPI_MemberLocale: the API takes a member's locale on create and
// update, shows it, and refuses one that is not a BCP 47 locale.
func TestAPI_MemberLocale(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		for _, tc := range []struct {
			name, method, path, body string
			status                   int
			want                     string // in the body: the locale shown, or the error
		}{
			{"create in French", "POST", "/v1/members", `{"phone":"07400123456","locale":"FR-ca"}`, 201, `"locale":"fr-CA"`},
			{"create with a made-up locale", "POST", "/v1/members", `{"phone":"07400123457","locale":"elvish"}`, 422, `"code":"locale_invalid"`},
			{"patch to English", "PATCH", "/v1/members/07400123456", `{"locale":"en"}`, 200, `"locale":"en"`},
			{"patch to no language", "PATCH", "/v1/members/07400123456", `{"locale":"und"}`, 422, `"field":"locale"`},
			{"patch back to the programme's", "PATCH", "/v1/members/07400123456", `{"locale":""}`, 200, `"status"`},
		} {
			status, out, _ := e.do(tc.method, tc.path, auth.RoleAdmin, tc.body)
			if status != tc.status || !strings.Contains(string(out), tc.want) {
				t.Errorf("%s: %d %s, want %d with %s", tc.name, status, out, tc.status, tc.want)
			}
		}
		if m, _ := e.members.ByPhone(t.Context(), "07400123456"); m.Locale != "" {
			t.Errorf("locale after removing it: %q", m.Locale)
		}
		var body string
		db.R.QueryRow(`SELECT body FROM sms_outbox WHERE purpose = 'welcome'`).Scan(&body)
		if !strings.HasPrefix(body, "Bienvenue chez Test Rewards !") {
			t.Errorf("welcome to a member created in fr-CA: %q", body)
		}
	})
}

// TestJoin_TakesTheProgrammeLocale: a shopper who signs up on the page of a
// French programme is a French member, and gets the French welcome.
func TestJoin_TakesTheProgrammeLocale(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		cat, err := texts.Load(texts.Options{Locale: "fr", Programme: "Perk Récompenses", Log: log})
		if err != nil {
			t.Fatal(err)
		}
		ms := member.NewService(db, member.Options{Region: "FR", PublicURL: "http://perk.test", Log: log, Texts: cat})
		jobs := member.NewJobs(ms)
		ctx, cancel := context.WithCancel(context.Background())
		srv := httptest.NewServer(web.New(ctx, db, ms, jobs, auth.NewService(db, nil), web.Options{Programme: "Perk Récompenses",
			ConsentWording: "Oui", Symbology: barcode.Code128, UploadDir: t.TempDir(), JoinPerMinute: 100, Log: log}).Handler())
		t.Cleanup(func() { srv.Close(); cancel() })

		status, page := postForm(t, &env{t: t, url: srv.URL}, "/join", url.Values{"phone": {"06 12 34 56 78"}, "consent": {"yes"}}, nil)
		if status != 200 {
			t.Fatalf("sign-up = %d %.300s", status, page)
		}
		m, err := ms.ByPhone(t.Context(), "+33612345678")
		if err != nil || m.Locale != "fr" {
			t.Fatalf("member from /join: %+v, %v; want locale fr", m, err)
		}
		var body string
		db.R.QueryRow(`SELECT body FROM sms_outbox WHERE member_id = $1 AND purpose = 'welcome'`, m.ID).Scan(&body)
		if !strings.HasPrefix(body, "Bienvenue chez Perk Récompenses ! Votre code membre est "+string(m.Code)) {
			t.Errorf("welcome: %q", body)
		}
	})
}
