package sms_test

import (
	"context"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/sms/policy"
	"github.com/perk-platform/perk/internal/sms/sim"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

func addMember(t *testing.T, db *store.DB, id, status, zone string) {
	t.Helper()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	if _, err := db.W.Exec(`INSERT INTO members (id, code, phone, timezone, channel, status, enrolled_at, updated_at)
		VALUES ($1, $2, $3, $4, 'api', $5, $6, $6)`, id, id+"-code", "+44"+id, zone, status, now); err != nil {
		t.Fatal(err)
	}
}

func TestContactPolicy_HoldsDefersAndCaps(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q, c := setup(t, db) // 10:00 UTC
		p, err := policy.New(policy.DefaultConfig())
		if err != nil {
			t.Fatal(err)
		}
		s := sms.NewSender(q, sim.New(c.Now), sms.NewContactPolicy(db, p, nil), quiet, c.Now)
		addMember(t, db, "active", "active", "Europe/London")
		addMember(t, db, "stopped", "opted_out", "Europe/London")
		addMember(t, db, "la", "active", "America/Los_Angeles")
		add := func(id, member string, at time.Time) {
			if _, err := db.W.Exec(`INSERT INTO sms_outbox (id, member_id, to_phone, body, kind, purpose, created_at, send_after)
				VALUES ($1, $2, '+447400000000', 'offer', 'marketing', 'campaign', $3, $4)`, id, member, at, at.Add(-time.Hour)); err != nil {
				t.Fatal(err)
			}
		}
		for i := 0; i < 4; i++ {
			add("a"+string(rune('0'+i)), "active", c.t.Add(time.Duration(i)*time.Millisecond))
		}
		add("s0", "stopped", c.t)
		add("la0", "la", c.t) // 02:00 in Los Angeles
		if _, err := s.Once(ctx); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			id, status, reason string
			sendAfter          time.Time
		}{
			{"a0", sms.StatusSent, "", time.Time{}},
			{"a1", sms.StatusSent, "", time.Time{}},
			{"a2", sms.StatusSent, "", time.Time{}},
			{"a3", sms.StatusQueued, "capped", c.t.Add(7 * 24 * time.Hour)}, // 4th in 7 days: when the 1st leaves the window
			{"s0", sms.StatusHeld, "opted_out", time.Time{}},
			{"la0", sms.StatusQueued, "quiet_hours", time.Date(2026, 11, 23, 16, 0, 0, 0, time.UTC)}, // 08:00 PST
		}
		for _, tt := range tests {
			st, _, _, held := state(t, db, tt.id)
			var after *time.Time
			db.R.QueryRow(`SELECT send_after FROM sms_outbox WHERE id = $1`, tt.id).Scan(&after)
			if st != tt.status || held != tt.reason {
				t.Errorf("%s: %s %q, want %s %q", tt.id, st, held, tt.status, tt.reason)
			}
			if !tt.sendAfter.IsZero() && (after == nil || !after.Equal(tt.sendAfter)) {
				t.Errorf("%s: send_after %v, want %v", tt.id, after, tt.sendAfter)
			}
		}
	})
}
