package member_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/sms/texts"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestLocale_EveryPathValidatesAndStoresIt: enrolment, update and import
// take a BCP 47 locale, store it canonical, and refuse one that is not.
func TestLocale_EveryPathValidatesAndStoresIt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, _ := newService(t, db)
		ctx := context.Background()
		for _, tc := range []struct {
			in, want string // want "" with wantErr: refused
			wantErr  bool
		}{
			{in: "FR-ca", want: "fr-CA"},
			{in: "en_GB", want: "en-GB"},
			{in: "", want: ""},
			{in: "klingon", wantErr: true},
			{in: "xx", wantErr: true},
			{in: "und", wantErr: true},
		} {
			e, err := s.Enrol(ctx, member.EnrolRequest{Profile: member.Profile{Phone: "07400 123456", Locale: tc.in},
				Channel: member.ChannelAPI})
			if tc.wantErr {
				var p *problem.Error
				if !errors.As(err, &p) || p.Code != "locale_invalid" || p.Field != "locale" {
					t.Errorf("Enrol with locale %q: %v, want locale_invalid on field locale", tc.in, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("Enrol with locale %q: %v", tc.in, err)
			}
			if got, _ := s.Get(ctx, e.Member.ID); got.Locale != tc.want {
				t.Errorf("locale %q stored as %q, want %q", tc.in, got.Locale, tc.want)
			}
			if err := s.Erase(ctx, e.Member.ID); err != nil {
				t.Fatal(err)
			}
			if got, _ := s.Get(ctx, e.Member.ID); got.Locale != "" {
				t.Errorf("erased member keeps locale %q", got.Locale)
			}
		}

		m := enrol(t, s, member.EnrolRequest{Profile: member.Profile{Phone: "07400 123457"}}).Member
		for _, tc := range []struct {
			patch, want string
			wantErr     bool
		}{{"fr", "fr", false}, {"not a locale", "fr", true}, {"", "", false}} {
			p := tc.patch
			_, err := s.Update(ctx, m.ID, member.Patch{Locale: &p})
			if tc.wantErr != (err != nil) {
				t.Errorf("patch locale %q: %v", tc.patch, err)
			}
			if got, _ := s.Get(ctx, m.ID); got.Locale != tc.want {
				t.Errorf("after patch %q: locale %q, want %q", tc.patch, got.Locale, tc.want)
			}
		}

		file := filepath.Join(t.TempDir(), "members.csv")
		os.WriteFile(file, []byte("phone,first_name,language,sms_consent\n07400123460,Chloé,fr,yes\n07400123461,Ann,,yes\n07400123462,Zed,nope,yes\n"), 0o644)
		st, errs := runImport(t, s, file)
		if st.Created != 2 || st.Rejected != 1 || !strings.Contains(errs, "4,language,") {
			t.Errorf("import: %+v, errors:\n%s", st, errs)
		}
		for ph, want := range map[string]struct{ locale, welcome string }{
			"+447400123460": {"fr", "Bienvenue chez Test Rewards !"},
			"+447400123461": {"", "Welcome to Test Rewards!"},
		} {
			got, err := s.ByPhone(ctx, ph)
			if err != nil || got.Locale != want.locale {
				t.Fatalf("imported %s: locale %q, %v; want %q", ph, got.Locale, err, want.locale)
			}
			var body string
			db.R.QueryRow(`SELECT body FROM sms_outbox WHERE member_id = $1 AND purpose = 'welcome'`, got.ID).Scan(&body)
			if !strings.HasPrefix(body, want.welcome) {
				t.Errorf("welcome by file to locale %q: %q, want it to start %q", want.locale, body, want.welcome)
			}
		}
	})
}

// TestTexts_AFrenchMemberGetsFrenchTransactionalTexts: the welcome, the
// opt-in confirmation, the code and the card, in the member's locale.
func TestTexts_AFrenchMemberGetsFrenchTransactionalTexts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		c := &clock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		cat, err := texts.Load(texts.Options{Locale: "en", Programme: "Test Rewards", Log: log})
		if err != nil {
			t.Fatal(err)
		}
		s := member.NewService(db, member.Options{Region: "GB", PublicURL: "https://perk.test", Now: c.Now, Log: log, Texts: cat})
		ctx := context.Background()
		fr := enrol(t, s, member.EnrolRequest{Profile: member.Profile{Phone: "07400 123456", Locale: "fr"}, Consent: true, DoubleOptIn: true})
		en := enrol(t, s, member.EnrolRequest{Profile: member.Profile{Phone: "07400 123457"}, Consent: true, DoubleOptIn: true})
		c.Advance(time.Hour) // past the card resend gap
		for _, m := range []*member.Enrolment{fr, en} {
			if err := s.ResendCode(ctx, m.Member.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := s.SendCard(ctx, m.Member.ID); err != nil {
				t.Fatal(err)
			}
		}
		card := "https://perk.test/c/"
		for _, tc := range []struct {
			m       *member.Enrolment
			purpose string
			want    string
		}{
			{fr, "welcome", "Bienvenue chez Test Rewards ! Votre code membre est " + string(fr.Member.Code) + ". Votre carte : " + card + fr.CardToken + " Répondez STOP"},
			{fr, "confirm_optin", "Test Rewards : répondez YES ou ouvrez https://perk.test/join/confirm/"},
			{fr, "code", "Test Rewards : votre code membre est " + string(fr.Member.Code) + ". Votre carte : " + card + fr.CardToken},
			{fr, "card", "Votre code membre Test Rewards est " + string(fr.Member.Code) + ". Votre carte : " + card + fr.CardToken},
			{en, "welcome", "Welcome to Test Rewards! Your member code is " + string(en.Member.Code)},
			{en, "confirm_optin", "Test Rewards: reply YES or tap https://perk.test/join/confirm/"},
			{en, "code", "Test Rewards: your member code is " + string(en.Member.Code)},
			{en, "card", "Your Test Rewards member code is " + string(en.Member.Code)},
		} {
			var body string
			if err := db.R.QueryRow(`SELECT body FROM sms_outbox WHERE member_id = $1 AND purpose = $2`, tc.m.Member.ID, tc.purpose).Scan(&body); err != nil {
				t.Fatalf("%s to %s: %v", tc.purpose, tc.m.Member.Locale, err)
			}
			if !strings.HasPrefix(body, tc.want) {
				t.Errorf("%s to locale %q:\n%q\nwant it to start\n%q", tc.purpose, tc.m.Member.Locale, body, tc.want)
			}
		}
	})
}
