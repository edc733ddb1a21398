package journey

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/testenv"
	"github.com/perk-platform/perk/internal/webhook"
)

// t0 is the tests' "now": Saturday 5 Dec 2026, 10:00 UTC (10:00 in London).
var t0 = time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)

type fixture struct {
	t         *testing.T
	db        *store.DB
	clock     *testenv.Clock
	members   *member.Service
	campaigns *campaign.Service
	webhooks  *webhook.Service
	journeys  *Service
	seq       int
}

func newFixture(t *testing.T, db *store.DB) *fixture {
	t.Helper()
	c := testenv.NewClock(t0)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	f := &fixture{t: t, db: db, clock: c,
		members:   member.NewService(db, member.Options{Region: "GB", PublicURL: "https://perk.test", Programme: "Test", Now: c.Now, Log: log}),
		campaigns: campaign.NewService(db, campaign.Options{PublicURL: "https://perk.test", Programme: "Test", Now: c.Now, Log: log}),
		webhooks:  webhook.NewService(db, webhook.Options{Now: c.Now, Log: log, AllowPrivate: true}),
	}
	f.journeys = f.service()
	return f
}

// service is a journey service on the fixture's database and clock: a
// second one is a second instance (or the first after a restart).
func (f *fixture) service() *Service {
	return NewService(f.db, Options{Now: f.clock.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Offers: f.campaigns, Webhooks: f.webhooks, PublicURL: "https://perk.test", Programme: "Test"})
}

// member enrols a consenting member with the number +4477009000NN.
func (f *fixture) member(i int, p member.Profile) string {
	f.t.Helper()
	p.Phone = fmt.Sprintf("+4477009%05d", i)
	e, err := f.members.Enrol(context.Background(), member.EnrolRequest{Profile: p, Channel: member.ChannelAPI, Consent: true})
	if err != nil {
		f.t.Fatal(err)
	}
	return e.Member.ID
}

// event records an event of the member's at the clock's time.
func (f *fixture) event(memberID, typ, props string) {
	f.t.Helper()
	f.seq++
	if props == "" {
		props = "{}"
	}
	e := event.Event{EventID: fmt.Sprintf("test-%d", f.seq), Type: typ, Time: f.clock.Now(), Channel: event.Web,
		Source: event.SourceAPI, MemberID: memberID, Properties: []byte(props)}
	err := f.db.Tx(context.Background(), func(tx *sql.Tx) error { return event.Record(context.Background(), tx, f.db.Dialect, e) })
	if err != nil {
		f.t.Fatal(err)
	}
}

// apply applies and launches def.
func (f *fixture) apply(def Definition) *Journey {
	f.t.Helper()
	a, err := f.journeys.Apply(context.Background(), def)
	if err != nil {
		f.t.Fatalf("apply: %v", err)
	}
	if a.Journey.Status != Live {
		j, err := f.journeys.Launch(context.Background(), def.Name)
		if err != nil {
			f.t.Fatalf("launch: %v", err)
		}
		return j
	}
	return a.Journey
}

// poll runs one tick of the runner.
func (f *fixture) poll() {
	f.t.Helper()
	if err := f.journeys.Poll(context.Background()); err != nil {
		f.t.Fatalf("poll: %v", err)
	}
}

// advance moves the clock and polls.
func (f *fixture) advance(d time.Duration) {
	f.t.Helper()
	f.clock.Advance(d)
	f.poll()
}

// state is an enrolment's state, step index and exit reason, read back from
// the table; "" when the member has none in the journey.
func (f *fixture) state(journey, memberID string) string {
	f.t.Helper()
	var state, reason string
	var step int
	err := f.db.R.QueryRow(`SELECT state, step, exit_reason FROM journey_enrolments WHERE journey = $1 AND member_id = $2
		ORDER BY entered_at DESC, id DESC LIMIT 1`, journey, memberID).Scan(&state, &step, &reason)
	if err == sql.ErrNoRows {
		return ""
	}
	if err != nil {
		f.t.Fatal(err)
	}
	if state == stateActive {
		return fmt.Sprintf("active@%d", step)
	}
	return "ended:" + reason
}

// texts lists the bodies queued for the member, oldest first.
func (f *fixture) texts(memberID string) []string {
	f.t.Helper()
	rows, err := f.db.R.Query(`SELECT body FROM sms_outbox WHERE member_id = $1 AND purpose LIKE 'journey:%' ORDER BY created_at, id`, memberID)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var b string
		rows.Scan(&b)
		out = append(out, b)
	}
	return out
}

// path lists the steps the member ran with their outcomes, in order.
func (f *fixture) path(journey, memberID string) []string {
	f.t.Helper()
	rows, err := f.db.R.Query(`SELECT l.step, l.outcome FROM journey_steps l JOIN journey_enrolments e ON e.id = l.enrolment_id
		WHERE e.journey = $1 AND e.member_id = $2 ORDER BY e.entered_at, e.id, l.n`, journey, memberID)
	if err != nil {
		f.t.Fatal(err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var s, o string
		rows.Scan(&s, &o)
		out = append(out, s+":"+o)
	}
	return out
}

func (f *fixture) count(q string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.db.R.QueryRow(q, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
	return n
}

func dur(d time.Duration) Duration { return Duration(d) }
