package member_test

import (
	"bytes"
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/tabular"
)

// importText imports a CSV held in a string with opt, returning the stats
// and the errors file.
func importText(t *testing.T, s *member.Service, csv string, opt member.ImportOptions) (member.ImportStats, string) {
	t.Helper()
	var errs bytes.Buffer
	ew := tabular.NewErrorWriter(&errs)
	opt.OnError, opt.BatchSize = ew.Write, 2
	st, err := s.Import(context.Background(), strings.NewReader(csv), opt)
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if err := ew.Flush(); err != nil {
		t.Fatal(err)
	}
	return st, errs.String()
}

// TestImport_NeverMovesACRMIdSilently: a file can add a CRM id to a member
// who has none, but never move one to another member or give a CRM id's
// member another phone unless asked; the rejected row names the member it
// disagrees with, and the first row's member keeps its CRM id.
func TestImport_NeverMovesACRMIdSilently(t *testing.T) {
	for _, c := range []struct {
		name, before string // before: a file imported first
		file         string
		updatePhones bool
		errors       string // the errors file after the header
		ext          map[string]string
	}{
		{"the same phone with two CRM ids", "", "phone,external_id\n07400100001,CRM-1\n07400100001,CRM-6\n", false,
			"3,external_id,the phone belongs to the member with external_id CRM-1; a CRM id is not moved by a file (change it on that member: PATCH /v1/members/ext:CRM-1)\n",
			map[string]string{"CRM-1": "+447400100001", "CRM-6": ""}},
		{"a CRM id added to a member without one", "phone\n07400100001\n", "phone,external_id\n07400100001,CRM-9\n", false, "",
			map[string]string{"CRM-9": "+447400100001"}},
		{"the same CRM id with two phones", "", "phone,external_id\n07400100001,CRM-1\n07400100002,CRM-1\n", false,
			"3,phone,external_id CRM-1 belongs to the member with phone +44 74** ***001; changing a member's phone by file needs --update-phones\n",
			map[string]string{"CRM-1": "+447400100001"}},
		{"a phone change asked for", "", "phone,external_id\n07400100001,CRM-1\n07400100002,CRM-1\n", true, "",
			map[string]string{"CRM-1": "+447400100002"}},
		{"a CRM id and a phone of two members", "", "phone,external_id\n07400100001,CRM-1\n07400100002,CRM-2\n07400100002,CRM-1\n", false,
			"4,external_id,external_id CRM-1 is another member than the one with this phone (external_id CRM-2)\n",
			map[string]string{"CRM-1": "+447400100001", "CRM-2": "+447400100002"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				s, _ := newService(t, db)
				if c.before != "" {
					importText(t, s, c.before, member.ImportOptions{})
				}
				_, errs := importText(t, s, c.file, member.ImportOptions{UpdatePhones: c.updatePhones})
				if got := strings.TrimPrefix(errs, "row,column,reason\n"); got != c.errors {
					t.Errorf("errors file:\n%s\nwant:\n%s", got, c.errors)
				}
				for ext, phone := range c.ext {
					m, err := s.Lookup(ctx, "ext:"+ext)
					switch {
					case phone == "" && !errors.Is(err, member.ErrNotFound):
						t.Errorf("ext:%s = %v, %v; want no member", ext, m, err)
					case phone != "" && (err != nil || string(m.Phone) != phone):
						t.Errorf("ext:%s = %v, %v; want the member with %s", ext, m, err, phone)
					}
				}
			})
		})
	}
}

// TestImport_WelcomesNewMembersWhoConsented: members who join by file get
// the same welcome as any other sign-up, with a card link that opens their
// card; not those who did not consent, not members already known, and not
// anyone when the import is a silent migration.
func TestImport_WelcomesNewMembersWhoConsented(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := newService(t, db)
		file := "phone,first_name,consent\n07400100001,Ann,yes\n07400100002,Bob,no\n07400100003,Cy,yes\n07400100004,Di,yes\n"
		importText(t, s, file, member.ImportOptions{})
		importText(t, s, file, member.ImportOptions{}) // known now: no second welcome
		importText(t, s, "phone,consent\n07400100005,yes\n", member.ImportOptions{NoWelcome: true})
		rows, err := db.R.Query(`SELECT m.first_name, o.body FROM sms_outbox o JOIN members m ON m.id = o.member_id
			WHERE o.purpose = 'welcome' ORDER BY m.phone`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var got []string
		for rows.Next() {
			var name, body string
			if err := rows.Scan(&name, &body); err != nil {
				t.Fatal(err)
			}
			got = append(got, name)
			token := regexp.MustCompile(`/c/(\S+)`).FindStringSubmatch(body)
			if token == nil {
				t.Fatalf("%s's welcome has no card link: %q", name, body)
			}
			if m, err := s.ByCardToken(ctx, token[1]); err != nil || m.FirstName != name {
				t.Errorf("%s's card link opens %v, %v", name, m, err)
			}
			if m, _ := s.Lookup(ctx, "07400 10000"+map[string]string{"Ann": "1", "Cy": "3", "Di": "4"}[name]); m == nil || !strings.Contains(body, string(m.Code)) {
				t.Errorf("%s's welcome %q lacks the member code", name, body)
			}
		}
		if strings.Join(got, ",") != "Ann,Cy,Di" {
			t.Errorf("welcomed %v, want Ann, Cy and Di once each", got)
		}
	})
}
