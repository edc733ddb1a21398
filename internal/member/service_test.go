package member_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// clock is a settable test clock.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time          { return c.t }
func (c *clock) Advance(d time.Duration) { c.t = c.t.Add(d) }

func newService(t *testing.T, db *store.DB) (*member.Service, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	return member.NewService(db, member.Options{
		Region: "GB", PublicURL: "https://perk.test", Programme: "Test Rewards", ConsentVersion: "v1",
		Now: c.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
	}), c
}

func enrol(t *testing.T, s *member.Service, req member.EnrolRequest) *member.Enrolment {
	t.Helper()
	if req.Channel == "" {
		req.Channel = member.ChannelAPI
	}
	e, err := s.Enrol(context.Background(), req)
	if err != nil {
		t.Fatalf("Enrol(%+v): %v", req.Profile, err)
	}
	return e
}

func countRows(t *testing.T, db *store.DB, query string, args ...any) int {
	t.Helper()
	var n int
	if err := db.R.QueryRowContext(context.Background(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestEnrol_CreatesMemberWithCodeTokenConsentAndWelcome(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, _ := newService(t, db)
		e := enrol(t, s, member.EnrolRequest{
			Profile: member.Profile{Phone: "07400 123456", FirstName: " Ann ", Email: "Ann@Example.COM",
				Attributes: map[string]string{"Loyalty Tier": "gold"}, Tags: []string{"VIP", "vip", "coffee"}},
			Consent: true, Source: "spring-poster",
		})
		m := e.Member
		if !e.Created || m.Phone != "+447400123456" || m.FirstName != "Ann" || m.Email != "Ann@example.com" {
			t.Fatalf("unexpected member %+v", m)
		}
		if _, err := member.ParseCode(string(m.Code)); err != nil {
			t.Fatalf("code %q: %v", m.Code, err)
		}
		if m.Status != member.StatusActive || m.TimeZone == "" || m.Attributes["loyalty_tier"] != "gold" {
			t.Fatalf("status/timezone/attributes wrong: %+v", m)
		}
		if len(m.Tags) != 2 || m.Tags[0] != "coffee" || m.Tags[1] != "vip" {
			t.Fatalf("tags = %v, want [coffee vip]", m.Tags)
		}
		if len(e.CardToken) < 26 {
			t.Fatalf("card token %q is too short for 128 bits", e.CardToken)
		}
		got, err := s.Get(context.Background(), m.ID)
		if err != nil || got.Code != m.Code || got.Attributes["loyalty_tier"] != "gold" {
			t.Fatalf("Get = %+v, %v", got, err)
		}
		cs, _ := s.Consents(context.Background(), m.ID)
		if len(cs) != 1 || cs[0].Action != "granted" || cs[0].Source != "spring-poster" || cs[0].WordingVersion != "v1" {
			t.Fatalf("consents = %+v", cs)
		}
		if n := countRows(t, db, `SELECT COUNT(*) FROM sms_outbox WHERE member_id = $1 AND purpose = 'welcome' AND body LIKE $2`,
			m.ID, "%"+string(m.Code)+"%https://perk.test/c/"+e.CardToken+"%"); n != 1 {
			t.Fatalf("%d welcome messages with code and card link, want 1", n)
		}
	})
}

func TestEnrol_SamePhoneInAnyFormatReturnsTheExistingMember(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, _ := newService(t, db)
		first := enrol(t, s, member.EnrolRequest{Profile: member.Profile{Phone: "07400123456"}, Consent: true})
		again := enrol(t, s, member.EnrolRequest{Profile: member.Profile{Phone: "+44 7400 123456", FirstName: "Other"}, Consent: true})
		if again.Created || again.Member.ID != first.Member.ID || again.Member.FirstName != "" {
			t.Fatalf("second enrolment = %+v, want the first member unchanged", again.Member)
		}
		if again.CardToken != first.CardToken {
			t.Fatal("re-enrolment should hand back the same card link")
		}
		if n := countRows(t, db, `SELECT COUNT(*) FROM sms_outbox WHERE purpose = 'welcome'`); n != 1 {
			t.Fatalf("%d welcome messages, want 1", n)
		}
	})
}

func TestEnrol_RejectsBadInputNamingTheField(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, _ := newService(t, db)
		tests := []struct {
			name  string
			p     member.Profile
			field string
		}{
			{"missing phone", member.Profile{}, "phone"},
			{"landline", member.Profile{Phone: "020 7946 0018"}, "phone"},
			{"bad e-mail", member.Profile{Phone: "07400123456", Email: "ann@"}, "email"},
			{"birthday format", member.Profile{Phone: "07400123456", Birthday: "23/11/1990"}, "birthday"},
			{"birthday in the future", member.Profile{Phone: "07400123456", Birthday: "2030-01-01"}, "birthday"},
			{"time zone", member.Profile{Phone: "07400123456", TimeZone: "Mars/Olympus"}, "timezone"},
			{"control character in name", member.Profile{Phone: "07400123456", FirstName: "A\x00nn"}, "first_name"},
		}
		for _, tt := range tests {
			_, err := s.Enrol(context.Background(), member.EnrolRequest{Profile: tt.p, Channel: member.ChannelAPI})
			var pe *problem.Error
			if !errors.As(err, &pe) || pe.Kind != problem.Invalid || pe.Field != tt.field {
				t.Errorf("%s: err = %v, want Invalid on %s", tt.name, err, tt.field)
			}
		}
		if n := countRows(t, db, `SELECT COUNT(*) FROM members`); n != 0 {
			t.Fatalf("%d members after only bad input", n)
		}
	})
}

func TestEnrol_WithoutConsentIsNotMarketable(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, _ := newService(t, db)
		e := enrol(t, s, member.EnrolRequest{Profile: member.Profile{Phone: "07400123456"}})
		if e.Member.Status != member.StatusOptedOut || e.Member.Marketable() {
			t.Fatalf("status %s without consent", e.Member.Status)
		}
	})
}

func TestDoubleOptIn_PendingUntilConfirmed(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, clk := newService(t, db)
		e := enrol(t, s, member.EnrolRequest{Profile: member.Profile{Phone: "07400123456"}, Channel: member.ChannelWeb,
			Consent: true, DoubleOptIn: true})
		if e.Member.Status != member.StatusPending || e.Member.Marketable() {
			t.Fatalf("status %s, want pending", e.Member.Status)
		}
		var token string
		if err := db.R.QueryRowContext(ctx, `SELECT token FROM optin_confirmations WHERE member_id = $1`, e.Member.ID).Scan(&token); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, db, `SELECT COUNT(*) FROM sms_outbox WHERE purpose = 'confirm_optin' AND body LIKE $1`, "%/join/confirm/"+token+"%"); n != 1 {
			t.Fatalf("%d confirmation messages carrying the link", n)
		}
		if _, err := s.ConfirmOptIn(ctx, "not-a-token"); !errors.Is(err, member.ErrTokenNotFound) {
			t.Fatalf("bad token: %v", err)
		}
		clk.Advance(time.Hour)
		m, err := s.ConfirmOptIn(ctx, token)
		if err != nil || m.Status != member.StatusActive {
			t.Fatalf("ConfirmOptIn = %+v, %v", m, err)
		}
		if _, err := s.ConfirmOptIn(ctx, token); !errors.Is(err, member.ErrTokenNotFound) {
			t.Fatalf("second use of a confirmation link: %v", err)
		}
		cs, _ := s.Consents(ctx, m.ID)
		if len(cs) != 2 || cs[0].Action != "requested" || cs[1].Action != "granted" || !cs[1].At.Equal(clk.Now()) {
			t.Fatalf("consent history %+v", cs)
		}
	})
}

func TestDoubleOptIn_ByYESReplyAndExpiry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, clk := newService(t, db)
		a := enrol(t, s, member.EnrolRequest{Profile: member.Profile{Phone: "07400123456"}, Consent: true, DoubleOptIn: true})
		m, err := s.ConfirmByPhone(ctx, a.Member.Phone)
		if err != nil || m.Status != member.StatusActive {
			t.Fatalf("ConfirmByPhone = %+v, %v", m, err)
		}
		b := enrol(t, s, member.EnrolRequest{Profile: member.Profile{Phone: "07400123457"}, Consent: true, DoubleOptIn: true})
		var token string
		db.R.QueryRowContext(ctx, `SELECT token FROM optin_confirmations WHERE member_id = $1`, b.Member.ID).Scan(&token)
		clk.Advance(8 * 24 * time.Hour)
		if _, err := s.ConfirmOptIn(ctx, token); !errors.Is(err, member.ErrTokenNotFound) {
			t.Fatalf("expired link: %v", err)
		}
	})
}

func TestOptOut_IsRecordedOnceAndStopsMarketing(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := newService(t, db)
		e := enrol(t, s, member.EnrolRequest{Profile: member.Profile{Phone: "07400123456"}, Consent: true})
		for i := 0; i < 2; i++ {
			m, err := s.OptOut(ctx, e.Member.ID, member.Origin{Method: member.ChannelSMS, Source: "STOP", Address: "80800"})
			if err != nil || m.Status != member.StatusOptedOut {
				t.Fatalf("OptOut = %+v, %v", m, err)
			}
		}
		cs, _ := s.Consents(ctx, e.Member.ID)
		if len(cs) != 2 || cs[1].Action != "withdrawn" || cs[1].Method != member.ChannelSMS || cs[1].SourceAddress != "80800" ||
			cs[1].Phone != "+447400123456" {
			t.Fatalf("consent history %+v", cs)
		}
		// Signing up again with consent re-subscribes, and is recorded.
		again := enrol(t, s, member.EnrolRequest{Profile: member.Profile{Phone: "07400123456"}, Consent: true, Channel: member.ChannelWeb})
		if again.Member.Status != member.StatusActive {
			t.Fatalf("re-sign-up status %s", again.Member.Status)
		}
	})
}

func TestLookup_ByCodePhoneIDExternalAndToken(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := newService(t, db)
		e := enrol(t, s, member.EnrolRequest{Profile: member.Profile{Phone: "07400123456", ExternalID: "CRM-1"}})
		m := e.Member
		keys := []string{m.ID, string(m.Code), string(m.Code[:4]) + " " + string(m.Code[4:]), "07400 123456", "+447400123456", "0044 7400 123456",
			"ext:CRM-1", " ext: CRM-1 "}
		for _, k := range keys {
			got, err := s.Lookup(ctx, k)
			if err != nil || got.ID != m.ID {
				t.Errorf("Lookup(%q) = %v, %v", k, got, err)
			}
		}
		if got, err := s.ByExternalID(ctx, "CRM-1"); err != nil || got.ID != m.ID {
			t.Errorf("ByExternalID = %v, %v", got, err)
		}
		if got, err := s.ByCardToken(ctx, e.CardToken); err != nil || got.ID != m.ID {
			t.Errorf("ByCardToken = %v, %v", got, err)
		}
		// A typo in the code is caught by the check digit, not looked up.
		typo := []byte(m.Code)
		typo[7] = '0' + (typo[7]-'0'+1)%10
		if _, err := s.Lookup(ctx, string(typo)); !errors.Is(err, member.ErrCodeCheckDigit) || problem.KindOf(err) != problem.Invalid {
			t.Errorf("typo %s: %v", typo, err)
		}
		if _, err := s.Lookup(ctx, "07400 999999"); !errors.Is(err, member.ErrNotFound) {
			t.Errorf("unknown phone: %v", err)
		}
		// A CRM id is never guessed from its shape: only ext: says it is one.
		for key, want := range map[string]problem.Kind{"ext:CRM-2": problem.NotFound, "ext:": problem.Invalid, "CRM-1": problem.Invalid} {
			if _, err := s.Lookup(ctx, key); problem.KindOf(err) != want {
				t.Errorf("Lookup(%q): %v, want a %v problem", key, err, want)
			}
		}
	})
}

func TestCardToken_ReissueRevokesTheOldLink(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := newService(t, db)
		e := enrol(t, s, member.EnrolRequest{Profile: member.Profile{Phone: "07400123456"}})
		fresh, err := s.ReissueCardToken(ctx, e.Member.ID)
		if err != nil || fresh == e.CardToken {
			t.Fatalf("Reissue = %q, %v", fresh, err)
		}
		if _, err := s.ByCardToken(ctx, e.CardToken); !errors.Is(err, member.ErrNotFound) {
			t.Fatalf("old token still works: %v", err)
		}
		if got, _ := s.CardToken(ctx, e.Member.ID); got != fresh {
			t.Fatalf("CardToken = %q, want the reissued %q", got, fresh)
		}
		if err := s.RevokeCardTokens(ctx, e.Member.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ByCardToken(ctx, fresh); !errors.Is(err, member.ErrNotFound) {
			t.Fatalf("revoked token still works: %v", err)
		}
	})
}

func TestUpdate_PatchesOnlyGivenFields(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := newService(t, db)
		a := enrol(t, s, member.EnrolRequest{Profile: member.Profile{Phone: "07400123456", FirstName: "Ann", LastName: "Lee",
			Attributes: map[string]string{"tier": "gold", "pet": "cat"}}}).Member
		b := enrol(t, s, member.EnrolRequest{Profile: member.Profile{Phone: "07400123457"}}).Member
		str := func(s string) *string { return &s }
		m, err := s.Update(ctx, a.ID, member.Patch{FirstName: str("Anne"), Attributes: map[string]string{"pet": "", "Shoe Size": "5"}})
		if err != nil {
			t.Fatal(err)
		}
		if m.FirstName != "Anne" || m.LastName != "Lee" || m.Attributes["tier"] != "gold" || m.Attributes["shoe_size"] != "5" {
			t.Fatalf("after patch %+v", m)
		}
		if _, ok := m.Attributes["pet"]; ok {
			t.Fatal("empty attribute value should delete the key")
		}
		if _, err := s.Update(ctx, a.ID, member.Patch{Phone: str(string(b.Phone))}); !errors.Is(err, member.ErrPhoneTaken) {
			t.Fatalf("phone of another member: %v", err)
		}
		if _, err := s.Update(ctx, "mem_nope", member.Patch{}); !errors.Is(err, member.ErrNotFound) {
			t.Fatalf("unknown id: %v", err)
		}
	})
}

func TestList_PaginatesAndSearches(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, clk := newService(t, db)
		var all []*member.Member
		for i, name := range []string{"Ann", "Bob", "Anita", "Carl", "Anders"} {
			clk.Advance(time.Millisecond)
			ph := "0740012345" + string(rune('0'+i))
			all = append(all, enrol(t, s, member.EnrolRequest{Profile: member.Profile{Phone: ph, FirstName: name}}).Member)
		}
		var seen []string
		cursor := ""
		for pages := 0; ; pages++ {
			p, err := s.List(ctx, member.ListQuery{Limit: 2, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range p.Members {
				seen = append(seen, m.ID)
			}
			if p.NextCursor == "" {
				break
			}
			cursor = p.NextCursor
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
		}
		if len(seen) != 5 {
			t.Fatalf("paged through %d members, want 5", len(seen))
		}
		for i := range all {
			if seen[i] != all[i].ID {
				t.Fatalf("page order %v, want enrolment order", seen)
			}
		}
		tests := []struct {
			query string
			want  int
		}{
			{"an", 3}, {"AN", 3}, {"bob", 1}, {string(all[3].Code), 1}, {"07400 123452", 1}, {"zed", 0}, {"a%", 0},
		}
		for _, tt := range tests {
			p, err := s.List(ctx, member.ListQuery{Query: tt.query})
			if err != nil || len(p.Members) != tt.want {
				t.Errorf("List(%q) = %d members, %v; want %d", tt.query, len(p.Members), err, tt.want)
			}
		}
		if _, err := s.List(ctx, member.ListQuery{Cursor: "garbage"}); problem.KindOf(err) != problem.Invalid {
			t.Errorf("bad cursor: %v", err)
		}
	})
}

func TestErase_RemovesPersonalDataKeepsTheCount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := newService(t, db)
		e := enrol(t, s, member.EnrolRequest{Profile: member.Profile{Phone: "07400123456", FirstName: "Ann", Email: "ann@example.com",
			ExternalID: "CRM-9", Attributes: map[string]string{"tier": "gold"}}, Consent: true})
		enrol(t, s, member.EnrolRequest{Profile: member.Profile{Phone: "07400123457"}})
		if _, err := db.W.Exec(`INSERT INTO sms_inbox (id, from_phone, body, keyword, member_id, received_at)
			VALUES ('mo1', '+447400123456', 'JOIN Ann', 'JOIN', $1, $2)`, e.Member.ID, time.Now().UTC()); err != nil {
			t.Fatal(err)
		}
		if err := s.Erase(ctx, e.Member.ID); err != nil {
			t.Fatal(err)
		}
		if err := s.Erase(ctx, e.Member.ID); err != nil {
			t.Fatalf("second erase: %v", err)
		}
		m, err := s.Get(ctx, e.Member.ID)
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != member.StatusErased || m.Phone != "" || m.FirstName != "" || m.Email != "" || m.ExternalID != "" ||
			len(m.Attributes) != 0 || m.Code != e.Member.Code || m.ErasedAt == nil {
			t.Fatalf("erased member %+v", m)
		}
		if n := countRows(t, db, `SELECT COUNT(*) FROM sms_outbox WHERE member_id = $1 AND (to_phone IS NOT NULL OR body <> '')`, m.ID); n != 0 {
			t.Fatalf("%d messages still hold the phone or text", n)
		}
		if _, err := s.ByCardToken(ctx, e.CardToken); !errors.Is(err, member.ErrNotFound) {
			t.Fatalf("card link of an erased member: %v", err)
		}
		if n := countRows(t, db, `SELECT COUNT(*) FROM consents WHERE member_id = $1 AND phone IS NOT NULL`, m.ID); n != 0 {
			t.Fatalf("%d consent entries still hold the number", n)
		}
		if n := countRows(t, db, `SELECT COUNT(*) FROM sms_inbox WHERE member_id = $1 AND (from_phone IS NOT NULL OR body <> '')`, m.ID); n != 0 {
			t.Fatalf("%d inbound messages still hold the number or text", n)
		}
		if n := countRows(t, db, `SELECT COUNT(*) FROM members WHERE enrolled_at IS NOT NULL`); n != 2 {
			t.Fatalf("member count %d, want 2 (aggregates keep the erased member)", n)
		}
		// The phone is free again: the same person may enrol afresh, with a new code.
		again := enrol(t, s, member.EnrolRequest{Profile: member.Profile{Phone: "07400123456"}})
		if !again.Created || again.Member.Code == e.Member.Code {
			t.Fatalf("re-enrolment after erasure: %+v", again.Member)
		}
	})
}
