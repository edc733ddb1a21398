package webhook_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/webhook"
)

func TestDelivery_OnlyCommittedChangesAreSentSignedToSubscribers(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		rcv := newReceiver(t)
		other := newReceiver(t)
		ep := f.endpoint(rcv.URL, change.MemberCreated, change.PointsChanged)
		f.endpoint(other.URL, change.TransactionCommitted)
		f.addMember("mem_00000001", "CRM-1")
		f.addMember("mem_00000002", "")

		// A change rolled back leaves no delivery behind.
		rollback := errors.New("till cancelled")
		err := db.Tx(context.Background(), func(tx *sql.Tx) error {
			if err := f.svc.Record(context.Background(), tx, change.Event{Type: change.MemberCreated, MemberID: "mem_00000001"}); err != nil {
				return err
			}
			return rollback
		})
		if !errors.Is(err, rollback) {
			t.Fatalf("tx: %v", err)
		}
		f.record(
			change.Event{Type: change.MemberCreated, MemberID: "mem_00000001", Data: map[string]any{"channel": "api"}},
			change.Event{Type: change.PointsChanged, MemberID: "mem_00000002", Data: map[string]any{"points": 5}},
			change.Event{Type: change.SMSDelivered, MemberID: "mem_00000001"}, // nobody subscribed
		)
		if n := f.drain(); n != 2 {
			t.Fatalf("attempts = %d, want 2", n)
		}
		if got := len(other.requests()); got != 0 {
			t.Errorf("unsubscribed endpoint got %d requests", got)
		}
		reqs := rcv.requests()
		if len(reqs) != 2 {
			t.Fatalf("requests = %d, want 2", len(reqs))
		}
		wantData := map[string]map[string]any{
			change.MemberCreated: {"member_id": "mem_00000001", "external_id": "CRM-1", "channel": "api"},
			change.PointsChanged: {"member_id": "mem_00000002", "external_id": nil, "points": 5.0},
		}
		for _, r := range reqs {
			if r.timestamp != strconv.FormatInt(t0.Unix(), 10) {
				t.Errorf("webhook-timestamp = %s, want the clock's %d", r.timestamp, t0.Unix())
			}
			if err := webhook.Verify(ep.Secret, r.id, r.timestamp, r.signature, r.body, t0); err != nil {
				t.Errorf("signature: %v", err)
			}
			var p struct {
				Type      string         `json:"type"`
				Timestamp time.Time      `json:"timestamp"`
				Data      map[string]any `json:"data"`
			}
			if err := json.Unmarshal(r.body, &p); err != nil {
				t.Fatalf("payload %s: %v", r.body, err)
			}
			if !p.Timestamp.Equal(t0) {
				t.Errorf("%s timestamp = %v", p.Type, p.Timestamp)
			}
			want := wantData[p.Type]
			if len(p.Data) != len(want) {
				t.Errorf("%s data = %v, want %v", p.Type, p.Data, want)
			}
			for k, v := range want {
				if p.Data[k] != v {
					t.Errorf("%s data[%s] = %v, want %v", p.Type, k, p.Data[k], v)
				}
			}
		}
		for _, d := range f.deliveries(ep.ID) {
			if d.Status != webhook.StatusDelivered || d.Attempts != 1 || d.LastCode != 200 {
				t.Errorf("delivery %s: status %s attempts %d code %d", d.EventType, d.Status, d.Attempts, d.LastCode)
			}
		}
	})
}

func TestRetry_BacksOffExponentiallyThenDeadLettersAfterThreeDays(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		rcv := newReceiver(t)
		rcv.answer(http.StatusServiceUnavailable)
		ep := f.endpoint(rcv.URL, change.TransactionCommitted)
		f.record(change.Event{Type: change.TransactionCommitted, Data: map[string]any{"transaction_id": "T1"}})

		// Each attempt fails; the next is due Backoff(n) after it, and
		// nothing is attempted a moment before that.
		deadline := t0.Add(72 * time.Hour)
		attempts := 0
		for {
			if n := f.drain(); n != 1 {
				t.Fatalf("attempt %d: drained %d, want 1", attempts+1, n)
			}
			attempts++
			d := f.deliveries(ep.ID)[0]
			if d.Status == webhook.StatusDead {
				break
			}
			if d.Status != webhook.StatusPending || d.LastCode != 503 {
				t.Fatalf("after attempt %d: status %s code %d", attempts, d.Status, d.LastCode)
			}
			wantNext := f.clk.Now().Add(webhook.Backoff(attempts))
			if !d.NextAt.Equal(wantNext) {
				t.Fatalf("after attempt %d: next at %v, want %v", attempts, d.NextAt, wantNext)
			}
			f.clk.Set(wantNext.Add(-time.Second))
			if n := f.drain(); n != 0 {
				t.Fatalf("attempt %d came %v early", attempts+1, time.Second)
			}
			f.clk.Set(wantNext)
		}
		if last := f.clk.Now(); last.After(deadline) || last.Add(webhook.Backoff(attempts)).Before(deadline) {
			t.Errorf("dead after the attempt at %v; the deadline is %v", last, deadline)
		}
		// 10 s doubling to the 4 h cap: 11 attempts reach it in about
		// 5.7 h, then one every 4 h until 3 days.
		if attempts != 28 {
			t.Errorf("attempts = %d, want 28", attempts)
		}
		if got := len(rcv.requests()); got != attempts {
			t.Errorf("receiver saw %d requests, want %d", got, attempts)
		}
		log, err := f.svc.Attempts(context.Background(), f.deliveries(ep.ID)[0].ID)
		if err != nil || len(log) != attempts {
			t.Fatalf("attempt log: %d rows, %v", len(log), err)
		}
		for i, a := range log {
			if a.Attempt != i+1 || a.Code != 503 || a.Error != "HTTP 503" {
				t.Errorf("log[%d] = %+v", i, a)
			}
		}
		// Time passing changes nothing for a dead delivery.
		f.clk.Advance(24 * time.Hour)
		if n := f.drain(); n != 0 {
			t.Errorf("a dead delivery was attempted again")
		}
	})
}

func TestReplay_SendsADeadDeliveryAgainWithTheSameID(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		rcv := newReceiver(t)
		rcv.answer(http.StatusGone)
		ep := f.endpoint(rcv.URL, change.OfferRedeemed)
		f.record(change.Event{Type: change.OfferRedeemed})
		f.drain()
		f.clk.Advance(73 * time.Hour) // past the deadline: the next failure is the last
		f.drain()
		d := f.deliveries(ep.ID)[0]
		if d.Status != webhook.StatusDead || d.Attempts != 2 {
			t.Fatalf("before replay: %s after %d attempts", d.Status, d.Attempts)
		}
		rcv.answer(http.StatusNoContent)
		if _, err := f.svc.Replay(context.Background(), d.ID); err != nil {
			t.Fatal(err)
		}
		f.drain()
		after, err := f.svc.Delivery(context.Background(), d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.Status != webhook.StatusDelivered || after.Attempts != 3 || after.LastCode != 204 {
			t.Errorf("after replay: %s, %d attempts, code %d", after.Status, after.Attempts, after.LastCode)
		}
		reqs := rcv.requests()
		if len(reqs) != 3 || reqs[2].id != reqs[0].id {
			t.Errorf("replay sent webhook-id %q, first was %q", reqs[len(reqs)-1].id, reqs[0].id)
		}
		if _, err := f.svc.Replay(context.Background(), "whd_missing"); !errors.Is(err, webhook.ErrNoDelivery) {
			t.Errorf("replay of an unknown delivery: %v", err)
		}
	})
}

func TestRotate_SignsWithBothSecretsUntilTheGracePeriodEnds(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		rcv := newReceiver(t)
		ep := f.endpoint(rcv.URL, change.MemberUpdated)
		rotated, err := f.svc.Rotate(context.Background(), ep.ID, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if rotated.Secret == ep.Secret || rotated.PreviousUntil == nil || !rotated.PreviousUntil.Equal(t0.Add(time.Hour)) {
			t.Fatalf("rotated: %+v", rotated)
		}
		f.record(change.Event{Type: change.MemberUpdated})
		f.drain()
		f.clk.Advance(time.Hour)
		f.record(change.Event{Type: change.MemberUpdated})
		f.drain()
		reqs := rcv.requests()
		if len(reqs) != 2 {
			t.Fatalf("requests = %d", len(reqs))
		}
		for _, c := range []struct {
			name   string
			req    received
			secret string
			want   error
		}{
			{"during grace, the new secret", reqs[0], rotated.Secret, nil},
			{"during grace, the old secret", reqs[0], ep.Secret, nil},
			{"after grace, the new secret", reqs[1], rotated.Secret, nil},
			{"after grace, the old secret", reqs[1], ep.Secret, webhook.ErrNoSignature},
		} {
			ts, _ := strconv.ParseInt(c.req.timestamp, 10, 64)
			if err := webhook.Verify(c.secret, c.req.id, c.req.timestamp, c.req.signature, c.req.body, time.Unix(ts, 0)); !errors.Is(err, c.want) {
				t.Errorf("%s: %v, want %v", c.name, err, c.want)
			}
		}
		if n := len(strings.Fields(reqs[0].signature)); n != 2 {
			t.Errorf("during grace: %d signatures, want 2", n)
		}
	})
}

// TestRecord_ACRMIDOneEventNamesServesTheMembersOtherEvents: in one Record
// call (the till's commit batches the ledger's points.changed with the
// checkout's events) the CRM id the caller passed for a member is used for
// every event about that member, with no query; a member no event names is
// looked up in the transaction. The stored id differs from the passed one
// here, so the payloads show which was used.
func TestRecord_ACRMIDOneEventNamesServesTheMembersOtherEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		rcv := newReceiver(t)
		f.endpoint(rcv.URL, change.TransactionCommitted, change.PointsChanged)
		f.addMember("mem_00000001", "CRM-STORED")
		f.addMember("mem_00000002", "CRM-2")
		passed := "CRM-PASSED"
		f.record(
			change.Event{Type: change.PointsChanged, MemberID: "mem_00000001"},
			change.Event{Type: change.TransactionCommitted, MemberID: "mem_00000001", ExternalID: &passed},
			change.Event{Type: change.PointsChanged, MemberID: "mem_00000002"},
		)
		f.drain()
		got := map[string]int{}
		for _, r := range rcv.requests() {
			var p struct {
				Type string         `json:"type"`
				Data map[string]any `json:"data"`
			}
			if err := json.Unmarshal(r.body, &p); err != nil {
				t.Fatal(err)
			}
			got[fmt.Sprintf("%s %v %v", p.Type, p.Data["member_id"], p.Data["external_id"])]++
		}
		want := map[string]int{
			"points.changed mem_00000001 CRM-PASSED":        1,
			"transaction.committed mem_00000001 CRM-PASSED": 1,
			"points.changed mem_00000002 CRM-2":             1,
		}
		if !maps.Equal(got, want) {
			t.Errorf("deliveries %v, want %v", got, want)
		}
	})
}
