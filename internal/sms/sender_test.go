package sms_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/sms/sim"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// ruleByPurpose is a contact policy that answers by the message's purpose.
type ruleByPurpose map[string]sms.Verdict

func (r ruleByPurpose) Check(_ context.Context, m sms.Message, _ time.Time, _ *sms.Batch) (sms.Verdict, error) {
	return r[m.Purpose], nil
}

// failing is a gateway that refuses every message with err.
type failing struct{ err error }

func (f failing) Name() string { return "failing" }
func (f failing) Send(context.Context, sms.Message) (sms.Submitted, error) {
	return sms.Submitted{}, f.err
}

func enqueueKind(t *testing.T, db *store.DB, id, kind, purpose string, at time.Time) {
	t.Helper()
	if _, err := db.W.Exec(`INSERT INTO sms_outbox (id, to_phone, body, kind, purpose, created_at, send_after)
		VALUES ($1, '+447400123456', 'Spring sale: 20% off!', $2, $3, $4, $5)`, id, kind, purpose, at, at.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
}

func TestSender_SendsThroughTheSimulatorAndRecordsTheReceipt(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		q, c := setup(t, db)
		gw := sim.New(c.Now)
		s := sms.NewSender(q, gw, nil, quiet, c.Now)
		enqueueKind(t, db, "m1", "transactional", "welcome", c.t)
		ctx, cancel := context.WithCancel(context.Background())
		stopped := make(chan error, 1)
		go func() { stopped <- s.Run(ctx) }()
		deadline := time.Now().Add(10 * time.Second)
		for {
			st, _, _, _ := state(t, db, "m1")
			var delivery string
			db.R.QueryRow(`SELECT delivery_state FROM sms_outbox WHERE id = 'm1'`).Scan(&delivery)
			if st == sms.StatusSent && delivery == sms.Delivered {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("not sent and delivered: %s %q", st, delivery)
			}
			time.Sleep(10 * time.Millisecond)
		}
		cancel()
		if err := <-stopped; err != nil {
			t.Fatal(err)
		}
		h := gw.History("+447400123456")
		if len(h) != 2 || h[0].Dir != sim.MT || h[0].Text != "Spring sale: 20% off!" || h[1].Dir != sim.DLR {
			t.Fatalf("simulator history %+v", h)
		}
	})
}

func TestSender_MarketingFollowsThePolicy(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		q, c := setup(t, db)
		policy := ruleByPurpose{
			"ok":      {Reason: "ok"},
			"stopped": {Hold: true, Reason: "opted_out"},
			"night":   {Until: c.t.Add(9 * time.Hour), Reason: "quiet_hours"},
		}
		gw := sim.New(c.Now)
		s := sms.NewSender(q, gw, policy, quiet, c.Now)
		for i, p := range []string{"ok", "stopped", "night"} {
			enqueueKind(t, db, p, "marketing", p, c.t.Add(time.Duration(i)*time.Millisecond))
		}
		enqueueKind(t, db, "code", "transactional", "stopped", c.t.Add(time.Second)) // transactional bypasses the policy
		if n, err := s.Once(ctx); n != 4 || err != nil {
			t.Fatalf("Once = %d, %v", n, err)
		}
		tests := []struct{ id, status, reason string }{
			{"ok", sms.StatusSent, ""}, {"stopped", sms.StatusHeld, "opted_out"},
			{"night", sms.StatusQueued, "quiet_hours"}, {"code", sms.StatusSent, ""},
		}
		for _, tt := range tests {
			if st, _, _, held := state(t, db, tt.id); st != tt.status || held != tt.reason {
				t.Errorf("%s: %s %q, want %s %q", tt.id, st, held, tt.status, tt.reason)
			}
		}
		if got := len(gw.History("")); got != 4 { // two MT and two receipts
			t.Errorf("%d simulator events, want 4", got)
		}
	})
}

func TestSender_GatewayErrors(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		tests := []struct {
			name   string
			err    error
			status string
		}{
			{"throttled is retried", fmt.Errorf("ESME_RTHROTTLED: %w", sms.ErrTemporary), sms.StatusQueued},
			{"unclassified is retried", errors.New("connection reset"), sms.StatusQueued},
			{"invalid destination fails", fmt.Errorf("ESME_RINVDSTADR: %w", sms.ErrPermanent), sms.StatusFailed},
		}
		for i, tt := range tests {
			q, c := setup(t, db)
			id := fmt.Sprintf("m%d", i)
			enqueueKind(t, db, id, "transactional", "welcome", c.t.Add(time.Duration(i)*time.Hour))
			c.t = c.t.Add(time.Duration(i) * time.Hour)
			s := sms.NewSender(q, failing{tt.err}, nil, quiet, c.Now)
			if _, err := s.Once(ctx); err != nil {
				t.Fatalf("%s: %v", tt.name, err)
			}
			if st, _, lastErr, _ := state(t, db, id); st != tt.status || lastErr == "" {
				t.Errorf("%s: %s %q", tt.name, st, lastErr)
			}
		}
	})
}
