package campaign_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestCorrections_ExtendRaiseResend: the corrections the variance view
// offers change what they say and refuse what makes no sense.
func TestCorrections_ExtendRaiseResend(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		ctx := context.Background()
		for i := range 4 {
			f.enrol(t, i, true, member.Profile{FirstName: fmt.Sprint("M", i)})
		}
		s := spec("Fix me")
		s.Limits.Budget = 10_000
		s.Message = "Hi {{.FirstName}}: 10% off"
		c, err := f.campaigns.Create(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.campaigns.ExtendEnd(ctx, c.ID, c.End.Add(time.Hour)); problem.KindOf(err) != problem.Conflict {
			t.Fatalf("extend a draft: %v", err)
		}
		if _, err := f.campaigns.Launch(ctx, c.ID); err != nil {
			t.Fatal(err)
		}

		t.Run("extend the end", func(t *testing.T) {
			if _, err := f.campaigns.ExtendEnd(ctx, c.ID, c.End); problem.KindOf(err) != problem.Invalid {
				t.Fatalf("same end: %v", err)
			}
			later := c.End.Add(72 * time.Hour)
			got, err := f.campaigns.ExtendEnd(ctx, c.ID, later)
			if err != nil || !got.End.Equal(later) {
				t.Fatalf("extend: %v %v", got, err)
			}
		})
		t.Run("raise the budget", func(t *testing.T) {
			if _, err := f.campaigns.RaiseBudget(ctx, c.ID, 10_000); problem.KindOf(err) != problem.Invalid {
				t.Fatalf("same budget: %v", err)
			}
			got, err := f.campaigns.RaiseBudget(ctx, c.ID, 25_000)
			if err != nil || got.Spec.Limits.Budget != 25_000 {
				t.Fatalf("raise: %v %v", got, err)
			}
			var stored int64
			db.R.QueryRow(`SELECT budget FROM campaigns WHERE id = $1`, c.ID).Scan(&stored)
			if stored != 25_000 {
				t.Fatalf("stored budget %d", stored)
			}
		})
		t.Run("resend to those not delivered", func(t *testing.T) {
			var ids []string
			rows, err := db.R.Query(`SELECT id FROM sms_outbox WHERE campaign_id = $1 ORDER BY id`, c.ID)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var id string
				rows.Scan(&id)
				ids = append(ids, id)
			}
			rows.Close()
			if len(ids) != 4 {
				t.Fatalf("%d announcements", len(ids))
			}
			// One delivered, one failed at the gateway, one expired, one
			// still queued: the failed and the expired are sent again.
			for i, q := range []string{`UPDATE sms_outbox SET status = 'sent', delivery_state = 'delivered' WHERE id = $1`,
				`UPDATE sms_outbox SET status = 'failed' WHERE id = $1`,
				`UPDATE sms_outbox SET status = 'sent', delivery_state = 'expired' WHERE id = $1`} {
				if _, err := db.W.Exec(q, ids[i]); err != nil {
					t.Fatal(err)
				}
			}
			n, err := f.campaigns.ResendUndelivered(ctx, c.ID)
			if err != nil || n != 2 {
				t.Fatalf("resent %d: %v", n, err)
			}
			if n, err := f.campaigns.ResendUndelivered(ctx, c.ID); err != nil || n != 0 {
				t.Fatalf("resent again %d: %v (the new ones are on their way)", n, err)
			}
			var total int
			db.R.QueryRow(`SELECT COUNT(*) FROM sms_outbox WHERE campaign_id = $1`, c.ID).Scan(&total)
			if total != 6 {
				t.Fatalf("%d messages, want 6", total)
			}
			if _, err := f.campaigns.Pause(ctx, c.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := f.campaigns.ResendUndelivered(ctx, c.ID); problem.KindOf(err) != problem.Conflict {
				t.Fatalf("resend while paused: %v", err)
			}
		})
	})
}
