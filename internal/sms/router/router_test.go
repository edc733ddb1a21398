package router_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/sms/router"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

type env struct {
	t       *testing.T
	db      *store.DB
	members *member.Service
	r       *router.Router
	clk     *clock
	wakes   int
}

func newEnv(t *testing.T, db *store.DB) *env {
	e := &env{t: t, db: db, clk: &clock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e.members = member.NewService(db, member.Options{Region: "GB", PublicURL: "https://perk.test", Programme: "Test Rewards",
		Now: e.clk.Now, Log: log})
	var err error
	e.r, err = router.New(db, e.members, router.Options{Programme: "Test Rewards", HelpContact: "0800 000 000",
		Frequency: "Up to 3 msgs/week", Now: e.clk.Now, Log: log, Wake: func() { e.wakes++ }})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// text sends an inbound SMS and returns the bodies of the replies it queued.
func (e *env) text(from, body string) []string {
	e.t.Helper()
	before := e.clk.t
	e.clk.t = e.clk.t.Add(time.Second)
	if _, err := e.r.Handle(context.Background(), sms.Inbound{From: from, To: "80800", Body: body}); err != nil {
		e.t.Fatalf("Handle(%q): %v", body, err)
	}
	var out []string
	for _, q := range e.outboxSince(before) {
		out = append(out, q.body)
	}
	return out
}

func one(t *testing.T, replies []string, wants ...string) {
	t.Helper()
	if len(replies) != 1 {
		t.Fatalf("replies %q, want exactly one", replies)
	}
	for _, w := range wants {
		if !strings.Contains(replies[0], w) {
			t.Fatalf("reply %q lacks %q", replies[0], w)
		}
	}
}

func TestRouter_AMembersLifeBySMS(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		const ann = "+447400123456"

		one(t, e.text(ann, "Join Ann Lee"), "Welcome to Test Rewards", "https://perk.test/c/")
		m, err := e.members.ByPhone(ctx, ann)
		if err != nil || m.Channel != member.ChannelSMS || m.FirstName != "Ann" || m.LastName != "Lee" || m.Status != member.StatusActive {
			t.Fatalf("member after JOIN: %+v, %v", m, err)
		}
		one(t, e.text(ann, "JOIN"), "your member code is "+string(m.Code))
		one(t, e.text(ann, "card please"), "your member code is "+string(m.Code))

		// Marketing queued before the STOP must never go out.
		sms.Enqueue(ctx, db.W, sms.Outbound{MemberID: m.ID, To: ann, Body: "20% off", Kind: sms.Marketing, Purpose: "campaign"}, e.clk.t)
		one(t, e.text(ann, "Stop!!"), "unsubscribed", "START")
		m, _ = e.members.Get(ctx, m.ID)
		var held string
		db.R.QueryRow(`SELECT status || '/' || held_reason FROM sms_outbox WHERE purpose = 'campaign'`).Scan(&held)
		if m.Status != member.StatusOptedOut || held != "held/opted_out" {
			t.Fatalf("after STOP: member %s, queued marketing %s", m.Status, held)
		}
		one(t, e.text(ann, "start"), "subscribed again", "STOP")
		if m, _ = e.members.Get(ctx, m.ID); m.Status != member.StatusActive {
			t.Fatalf("after START: %s", m.Status)
		}
		one(t, e.text(ann, "HELP"), "Test Rewards", "0800 000 000", "Up to 3 msgs/week", "Msg&data rates may apply", "STOP")

		var inbox, unknown int
		db.R.QueryRow(`SELECT COUNT(*), SUM(CASE WHEN keyword = '' THEN 1 ELSE 0 END) FROM sms_inbox WHERE member_id = $1`, m.ID).Scan(&inbox, &unknown)
		if inbox != 5 || unknown != 0 { // the first JOIN came from a non-member
			t.Fatalf("inbox rows for Ann: %d (unknown %d)", inbox, unknown)
		}
	})
}

func TestRouter_StrangersAndUnknownMessages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		const bob = "+447400123457"
		one(t, e.text(bob, "UNSUBSCRIBE"), "unsubscribed") // a STOP is confirmed even to a non-member
		one(t, e.text(bob, "CODE"), "not a member yet", "JOIN")
		one(t, e.text(bob, "hello?"), "did not understand", "JOIN", "STOP")
		if got := e.text(bob, "anyone there?"); len(got) != 0 {
			t.Fatalf("second unknown reply the same day: %q", got)
		}
		e.clk.t = e.clk.t.Add(25 * time.Hour)
		one(t, e.text(bob, "hello again"), "did not understand")
		var stored int
		db.R.QueryRow(`SELECT COUNT(*) FROM sms_inbox WHERE keyword = '' AND from_phone = $1`, bob).Scan(&stored)
		if stored != 3 {
			t.Fatalf("%d unknown messages kept for the operator, want 3", stored)
		}
		if got := e.text("12", "JOIN"); len(got) != 0 {
			t.Fatalf("replied to an unusable number: %q", got)
		}
		if e.wakes == 0 {
			t.Fatal("the sender was never woken")
		}
	})
}

func TestRouter_YESConfirmsADoubleOptIn(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		en, err := e.members.Enrol(ctx, member.EnrolRequest{Profile: member.Profile{Phone: "07400123458"},
			Channel: member.ChannelWeb, Consent: true, DoubleOptIn: true})
		if err != nil {
			t.Fatal(err)
		}
		one(t, e.text("+447400123458", "yes"), "thank you")
		if m, _ := e.members.Get(ctx, en.Member.ID); m.Status != member.StatusActive {
			t.Fatalf("after YES: %s", m.Status)
		}
	})
}

func TestRouter_OperatorKeywordFileInFrench(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		file := t.TempDir() + "/keywords.json"
		os.WriteFile(file, []byte(`{"aliases": {"STOP": ["ARRET", "ARRÊT"], "join": ["INSCRIPTION"]},
			"replies": {"stop_confirm": "{{.Programme}} : vous êtes désinscrit. START pour revenir."}}`), 0o644)
		cfg, err := router.LoadConfig(file)
		if err != nil {
			t.Fatal(err)
		}
		opt := router.Options{Programme: "Test Rewards", Now: e.clk.Now}
		if err := cfg.Apply(&opt); err != nil {
			t.Fatal(err)
		}
		if e.r, err = router.New(db, e.members, opt); err != nil {
			t.Fatal(err)
		}
		one(t, e.text("+33612345678", "inscription Chloé"), "Welcome")
		one(t, e.text("+33612345678", "Arrêt"), "Test Rewards : vous êtes désinscrit")
	})
}

func TestRouter_RefusesBadReplyTemplates(t *testing.T) {
	db := storetest.SQLite(t)
	ms := member.NewService(db, member.Options{Region: "GB"})
	for _, replies := range []map[string]string{{"help": "{{.Nope}}"}, {"halp": "typo in the purpose"}, {"help": "{{"}} {
		if _, err := router.New(db, ms, router.Options{Replies: replies}); err == nil {
			t.Errorf("router.New accepted replies %v", replies)
		}
	}
	if _, err := router.LoadConfig(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("missing keyword file accepted")
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"alias": {}}`), 0o644)
	if _, err := router.LoadConfig(bad); err == nil || !strings.Contains(err.Error(), "alias") {
		t.Errorf("unknown field in keyword file: %v", err)
	}
}
