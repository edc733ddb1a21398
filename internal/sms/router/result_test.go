package router_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestRouter_ResultSaysWhatWasQueuedAndForWhom: Handle's result is what
// perk sms inject prints and /sim answers, so it must say whether a message
// to the sender was queued, whoever queued it (the router's own reply, the
// enrolment's welcome, the member service's code), and the sender's member
// id, also when the message is what made them a member.
func TestRouter_ResultSaysWhatWasQueuedAndForWhom(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		const zoe, stranger = "+447700900301", "+447700900302"
		for _, c := range []struct {
			from, body string
			replied    bool
			member     bool // the result names the sender's member id
		}{
			{zoe, "JOIN Zoe", true, true},   // a new member: the welcome is queued
			{zoe, "JOIN Zoe", true, true},   // already a member: the code again
			{zoe, "CODE", true, true},       // the code again
			{zoe, "HELP", true, true},       // the router's own reply
			{stranger, "CODE", true, false}, // not a member: told how to join
			{zoe, "blah", true, true},       // not understood: answered once a day
			{zoe, "blah blah", false, true}, // and not again
			{zoe, "STOP", true, true},       // opted out, confirmed
			{zoe, "JOIN", true, true},       // back again: welcome or code
			{stranger, "YES", true, false},  // nothing pending: not understood, answered
		} {
			t.Run(c.body, func(t *testing.T) {
				before := e.clk.t
				e.clk.t = e.clk.t.Add(time.Second)
				res, err := e.r.Handle(context.Background(), sms.Inbound{From: c.from, To: "80800", Body: c.body})
				if err != nil {
					t.Fatal(err)
				}
				var queued int
				if err := db.R.QueryRow(`SELECT COUNT(*) FROM sms_outbox WHERE to_phone = $1 AND created_at > $2`, c.from, before).Scan(&queued); err != nil {
					t.Fatal(err)
				}
				if res.Replied != (queued > 0) || res.Replied != c.replied {
					t.Errorf("%s %q: Replied = %v with %d queued, want %v", c.from, c.body, res.Replied, queued, c.replied)
				}
				var id sql.NullString
				db.R.QueryRow(`SELECT id FROM members WHERE phone = $1`, c.from).Scan(&id)
				if res.MemberID != id.String || (res.MemberID != "") != c.member {
					t.Errorf("%s %q: MemberID = %q, member is %q", c.from, c.body, res.MemberID, id.String)
				}
			})
		}
	})
}
