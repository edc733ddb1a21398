package funnel

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestCampaign_TreatedAgainstControl: the treated enter when their text is
// delivered, the control members at the launch, every control member
// counting even with no events at all.
func TestCampaign_TreatedAgainstControl(t *testing.T) {
	storetest.EachIsolated(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		exec := func(q string, args ...any) {
			t.Helper()
			if _, err := db.W.Exec(q, args...); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		exec(`INSERT INTO campaigns (id, name, status, spec, starts_at, ends_at, created_at, updated_at, launched_at)
			VALUES ('c1', 'Coffee', 'active', '{}', $1, $2, $1, $1, $1)`, t0, t0.Add(30*24*time.Hour))
		for i, m := range []string{"mem_t1", "mem_t2", "mem_t3", "mem_k1", "mem_k2", "mem_k3"} {
			exec(`INSERT INTO members (id, code, phone, channel, status, enrolled_at, updated_at) VALUES ($1, $2, $3, 'pos', 'active', $4, $4)`,
				m, fmt.Sprint(10000000+i), fmt.Sprintf("+44770090000%d", i), t0)
			exec(`INSERT INTO campaign_members (campaign_id, member_id, control) VALUES ('c1', $1, $2)`, m, map[bool]int{true: 1}[m[4] == 'k'])
		}
		at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
		evs := []event.Event{
			// Treated: two delivered, one clicked and bought at the till.
			{EventID: "1", Type: event.SMSDelivered, Time: at(1), MemberID: "mem_t1", Campaign: "c1", Channel: event.SMS},
			{EventID: "2", Type: event.LinkClicked, Time: at(30), MemberID: "mem_t1", Campaign: "c1", Channel: event.SMS},
			{EventID: "3", Type: event.BasketCommitted, Time: at(90), MemberID: "mem_t1", Channel: event.POS},
			{EventID: "4", Type: event.SMSDelivered, Time: at(1), MemberID: "mem_t2", Campaign: "c1", Channel: event.SMS},
			// Control: one opened the card and bought, one only bought, one did nothing.
			{EventID: "5", Type: event.CardViewed, Time: at(10), MemberID: "mem_k1", Channel: event.Card},
			{EventID: "6", Type: event.BasketCommitted, Time: at(20), MemberID: "mem_k1", Channel: event.POS},
			{EventID: "7", Type: event.BasketCommitted, Time: at(20), MemberID: "mem_k2", Channel: event.POS},
			// Before the launch: not counted.
			{EventID: "8", Type: event.CardViewed, Time: at(-10), MemberID: "mem_k2", Channel: event.Card},
		}
		if err := db.Tx(ctx, func(tx *sql.Tx) error { return event.Record(ctx, tx, db.Dialect, evs...) }); err != nil {
			t.Fatal(err)
		}
		s := NewService(db, func() time.Time { return at(24 * 60) })
		r, err := s.Campaign(ctx, "c1", 7*24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string][]int{"treated": {2, 1, 1, 1}, "control": {3, 1, 1, 1}}
		for _, g := range r.Groups {
			if got := countsOf(g); len(got) != 4 || got[0] != want[g.Key][0] || got[1] != want[g.Key][1] || got[3] != want[g.Key][3] {
				t.Errorf("%s: %v, want %v", g.Key, got, want[g.Key])
			}
		}
		if len(r.Groups) != 2 || r.Groups[0].Key != "treated" || *r.Groups[0].MedianSeconds != 89*60 || *r.Groups[1].MedianSeconds != 20*60 {
			t.Errorf("report %+v", r)
		}
		if _, err := s.Campaign(ctx, "nope", time.Hour); err != ErrNotLaunched {
			t.Errorf("unknown campaign: %v", err)
		}
	})
}
