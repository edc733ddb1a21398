package sms_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

func setup(t *testing.T, db *store.DB) (*sms.Queue, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
	return sms.NewQueue(db, c.Now, time.Minute, 3), c
}

func enqueue(t *testing.T, db *store.DB, id string, at time.Time) {
	t.Helper()
	if _, err := db.W.Exec(`INSERT INTO sms_outbox (id, to_phone, body, kind, purpose, created_at, send_after)
		VALUES ($1, '+447400123456', 'hello', 'transactional', 'test', $2, $3)`, id, at, at.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
}

func state(t *testing.T, db *store.DB, id string) (status string, attempts int, lastErr, held string) {
	t.Helper()
	if err := db.R.QueryRow(`SELECT status, attempts, last_error, held_reason FROM sms_outbox WHERE id = $1`, id).
		Scan(&status, &attempts, &lastErr, &held); err != nil {
		t.Fatal(err)
	}
	return
}

func TestQueue_ClaimIsExclusiveAndOldestFirst(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q, c := setup(t, db)
		enqueue(t, db, "m2", c.t.Add(-time.Second))
		enqueue(t, db, "m1", c.t.Add(-2*time.Second))
		got, err := q.Claim(ctx, 10)
		if err != nil || len(got) != 2 || got[0].ID != "m1" || got[1].ID != "m2" || got[0].To != "+447400123456" {
			t.Fatalf("Claim = %+v, %v", got, err)
		}
		again, _ := q.Claim(ctx, 10)
		if len(again) != 0 {
			t.Fatalf("claimed twice: %+v", again)
		}
		if err := q.Sent(ctx, got[0], "smsc-1", 1); err != nil {
			t.Fatal(err)
		}
		if st, attempts, _, _ := state(t, db, "m1"); st != sms.StatusSent || attempts != 1 {
			t.Fatalf("after Sent: %s %d", st, attempts)
		}
	})
}

func TestQueue_ACrashedSendersMessagesComeBackAfterTheLease(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q, c := setup(t, db)
		enqueue(t, db, "m1", c.t)
		first, _ := q.Claim(ctx, 1) // this sender "dies" without settling
		c.t = c.t.Add(59 * time.Second)
		if got, _ := q.Claim(ctx, 1); len(got) != 0 {
			t.Fatal("reclaimed before the lease ran out")
		}
		c.t = c.t.Add(2 * time.Second)
		second, _ := q.Claim(ctx, 1)
		if len(second) != 1 {
			t.Fatal("not reclaimed after the lease")
		}
		// The first sender wakes up late: its outcome must not overwrite the new claim.
		if err := q.Sent(ctx, first[0], "late", 1); !errors.Is(err, sms.ErrLeaseLost) {
			t.Fatalf("stale settle: %v", err)
		}
		if err := q.Sent(ctx, second[0], "smsc-2", 2); err != nil {
			t.Fatal(err)
		}
		var gw string
		db.R.QueryRow(`SELECT gateway_message_id FROM sms_outbox WHERE id = 'm1'`).Scan(&gw)
		if gw != "smsc-2" {
			t.Fatalf("gateway id %q", gw)
		}
	})
}

func TestQueue_RetryBacksOffThenFails(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q, c := setup(t, db)
		enqueue(t, db, "m1", c.t)
		boom := errors.New("ESME_RTHROTTLED")
		for attempt := 1; attempt <= 3; attempt++ {
			got, _ := q.Claim(ctx, 1)
			if len(got) != 1 {
				t.Fatalf("attempt %d: nothing to claim", attempt)
			}
			again, err := q.Retry(ctx, got[0], boom)
			if err != nil {
				t.Fatal(err)
			}
			if want := attempt < 3; again != want {
				t.Fatalf("attempt %d: retry = %v", attempt, again)
			}
			if again {
				if got, _ := q.Claim(ctx, 1); len(got) != 0 {
					t.Fatalf("attempt %d: claimable before its back-off", attempt)
				}
				c.t = c.t.Add(sms.Backoff(attempt))
			}
		}
		st, attempts, lastErr, _ := state(t, db, "m1")
		if st != sms.StatusFailed || attempts != 3 || lastErr == "" {
			t.Fatalf("final state %s attempts %d err %q", st, attempts, lastErr)
		}
	})
}

func TestQueue_DeferAndHoldKeepTheReason(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q, c := setup(t, db)
		enqueue(t, db, "quiet", c.t)
		enqueue(t, db, "stopped", c.t.Add(time.Millisecond))
		got, _ := q.Claim(ctx, 2)
		if err := q.Defer(ctx, got[0], "quiet_hours", c.t.Add(10*time.Hour)); err != nil {
			t.Fatal(err)
		}
		if err := q.Hold(ctx, got[1], "opted_out"); err != nil {
			t.Fatal(err)
		}
		if st, attempts, _, held := state(t, db, "quiet"); st != sms.StatusQueued || attempts != 0 || held != "quiet_hours" {
			t.Fatalf("deferred: %s %d %s", st, attempts, held)
		}
		if st, _, _, held := state(t, db, "stopped"); st != sms.StatusHeld || held != "opted_out" {
			t.Fatalf("held: %s %s", st, held)
		}
		c.t = c.t.Add(10 * time.Hour)
		if got, _ := q.Claim(ctx, 5); len(got) != 1 || got[0].ID != "quiet" {
			t.Fatalf("after the deferral: %+v", got)
		}
	})
}

func TestBackoff(t *testing.T) {
	want := []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute}
	for i, w := range want {
		if got := sms.Backoff(i + 1); got != w {
			t.Errorf("Backoff(%d) = %v, want %v", i+1, got, w)
		}
	}
	if got := sms.Backoff(50); got != time.Hour {
		t.Errorf("Backoff(50) = %v, want the 1h cap", got)
	}
}

func TestReceipts_AppliedEvenWhenTheyArriveBeforeTheSubmitIsRecorded(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q, c := setup(t, db)
		enqueue(t, db, "m1", c.t)
		enqueue(t, db, "m2", c.t.Add(time.Millisecond))
		got, _ := q.Claim(ctx, 2)
		// m1: the normal order.
		q.Sent(ctx, got[0], "gw-1", 1)
		if err := q.Delivered(ctx, sms.Receipt{GatewayID: "gw-1", State: sms.Delivered, At: c.t}); err != nil {
			t.Fatal(err)
		}
		// m2: the receipt overtakes the submit response.
		if err := q.Delivered(ctx, sms.Receipt{GatewayID: "gw-2", State: sms.Undeliv, At: c.t}); err != nil {
			t.Fatal(err)
		}
		if err := q.Sent(ctx, got[1], "gw-2", 1); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]string{"m1": sms.Delivered, "m2": sms.Undeliv} {
			var st string
			db.R.QueryRow(`SELECT delivery_state FROM sms_outbox WHERE id = $1`, id).Scan(&st)
			if st != want {
				t.Errorf("%s delivery state %q, want %q", id, st, want)
			}
		}
		var waiting int
		db.R.QueryRow(`SELECT COUNT(*) FROM sms_early_receipts`).Scan(&waiting)
		if waiting != 0 {
			t.Errorf("%d receipts still waiting", waiting)
		}
	})
}
