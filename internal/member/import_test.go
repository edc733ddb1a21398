package member_test

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/tabular"
)

var update = flag.Bool("update", false, "rewrite golden files")

func runImport(t *testing.T, s *member.Service, file string) (member.ImportStats, string) {
	t.Helper()
	f, err := os.Open(file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var errs bytes.Buffer
	ew := tabular.NewErrorWriter(&errs)
	st, err := s.Import(context.Background(), f, member.ImportOptions{Source: "crm-test", BatchSize: 4, OnError: ew.Write})
	if err != nil {
		t.Fatalf("Import: %v", err)
	}
	if err := ew.Flush(); err != nil {
		t.Fatal(err)
	}
	return st, errs.String()
}

func TestImport_UpsertsReportsBadRowsAndIsIdempotent(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := newService(t, db)
		st, errs := runImport(t, s, "testdata/members.csv")
		want := member.ImportStats{Rows: 12, Created: 3, Updated: 1, Unchanged: 0, Rejected: 8}
		if st != want {
			t.Errorf("first import %+v, want %+v", st, want)
		}
		golden := filepath.Join("testdata", "members.errors.csv")
		if *update {
			os.WriteFile(golden, []byte(errs), 0o644)
		}
		if g, _ := os.ReadFile(golden); string(g) != errs {
			t.Errorf("errors file:\n%s\nwant (golden %s):\n%s", errs, golden, g)
		}

		ann, err := s.ByExternalID(ctx, "C1")
		if err != nil {
			t.Fatal(err)
		}
		// Row 10 matched Ann by phone and changed only the non-blank surname.
		if ann.LastName != "Lee-Smith" || ann.Email != "ann@example.com" || ann.Attributes["loyalty_tier"] != "gold" ||
			ann.Status != member.StatusActive || ann.Channel != member.ChannelImport || ann.Source != "crm-test" {
			t.Errorf("Ann = %+v", ann)
		}
		if strings.Join(ann.Tags, ",") != "coffee,vip" || ann.Birthday != "1990-04-01" || ann.HomeStore != "S001" {
			t.Errorf("Ann's tags/birthday/store = %v %s %s", ann.Tags, ann.Birthday, ann.HomeStore)
		}
		bob, _ := s.ByExternalID(ctx, "C2")
		if bob.LastName != "O'Neil; Jr" || bob.Status != member.StatusOptedOut {
			t.Errorf("Bob = %+v", bob)
		}
		// A quoted name spanning two lines parses, but a newline has no place in a name.
		if _, err := s.ByExternalID(ctx, "C10"); !errors.Is(err, member.ErrNotFound) {
			t.Errorf("row with a multi-line name was stored: %v", err)
		}
		if n := countRows(t, db, `SELECT COUNT(*) FROM consents WHERE method = 'import' AND action = 'granted'`); n != 1 {
			t.Errorf("%d import consents, want 1 (Ann only)", n)
		}
		if n := countRows(t, db, `SELECT COUNT(*) FROM sms_outbox WHERE purpose = 'welcome' AND member_id = '`+ann.ID+`'`); n != 1 {
			t.Errorf("Ann, new and consenting, was sent %d welcomes, want 1", n)
		}
		if n := countRows(t, db, `SELECT COUNT(*) FROM sms_outbox`); n != 1 {
			t.Errorf("the import queued %d messages, want Ann's welcome only", n)
		}

		again, errs2 := runImport(t, s, "testdata/members.csv")
		// Row 2's surname Lee changes Ann back, then row 10 makes her Lee-Smith
		// again: a file replays in order, and ends in the same state.
		want2 := member.ImportStats{Rows: 12, Created: 0, Updated: 2, Unchanged: 2, Rejected: 8}
		if again != want2 || errs2 != errs {
			t.Errorf("second import %+v, want %+v; errors equal: %v", again, want2, errs2 == errs)
		}
		if n := countRows(t, db, `SELECT COUNT(*) FROM members`); n != 3 {
			t.Errorf("%d members after two imports, want 3", n)
		}
		if n := countRows(t, db, `SELECT COUNT(*) FROM sms_outbox`); n != 1 {
			t.Errorf("%d messages after two imports, want still 1: a member is welcomed once", n)
		}
	})
}

func TestImport_ConsentNoWithdrawsButYesNeverResubscribes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		s, _ := newService(t, db)
		active := enrol(t, s, member.EnrolRequest{Profile: member.Profile{Phone: "07400100001"}, Consent: true}).Member
		stopped := enrol(t, s, member.EnrolRequest{Profile: member.Profile{Phone: "07400100002"}, Consent: true}).Member
		if _, err := s.OptOut(ctx, stopped.ID, member.Origin{Method: member.ChannelSMS, Source: "STOP"}); err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), "c.csv")
		os.WriteFile(file, []byte("phone,consent\n07400100001,no\n07400100002,yes\n"), 0o644)
		st, _ := runImport(t, s, file)
		if st.Updated != 1 || st.Unchanged != 1 {
			t.Fatalf("stats %+v", st)
		}
		a, _ := s.Get(ctx, active.ID)
		b, _ := s.Get(ctx, stopped.ID)
		if a.Status != member.StatusOptedOut || b.Status != member.StatusOptedOut {
			t.Fatalf("statuses %s %s, want both opted out", a.Status, b.Status)
		}
	})
}

func TestImport_RefusesAFileWithoutAPhoneColumn(t *testing.T) {
	db := storetest.SQLite(t)
	s, _ := newService(t, db)
	_, err := s.Import(context.Background(), strings.NewReader("name,email\nAnn,a@b.co\n"), member.ImportOptions{})
	if err == nil || !strings.Contains(err.Error(), "no phone column") {
		t.Fatalf("err = %v", err)
	}
}
