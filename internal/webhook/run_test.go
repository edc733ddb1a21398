package webhook_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/webhook"
)

// waitFor polls cond until it holds or 20 s pass.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (f *fixture) count(status string) int {
	f.t.Helper()
	var n int
	if err := f.db.R.QueryRow(`SELECT COUNT(*) FROM webhook_deliveries WHERE status = $1`, status).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func TestRun_ASlowEndpointHoldsOnlyItsOwnSlots(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		release := make(chan struct{})
		var mu sync.Mutex
		slowSeen := 0
		slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			slowSeen++
			mu.Unlock()
			<-release
		}))
		defer slow.Close()
		var once sync.Once
		unblock := func() { once.Do(func() { close(release) }) }
		defer unblock() // before Close, which waits for handlers
		fast := newReceiver(t)
		slowEp := f.endpoint(slow.URL, change.TransactionCommitted)
		fastEp := f.endpoint(fast.URL, change.TransactionCommitted)
		for i := range 40 {
			f.record(change.Event{Type: change.TransactionCommitted, Data: map[string]any{"n": i}})
		}
		f.d.Parallel, f.d.PerEndpoint, f.d.Poll = 8, 2, 5*time.Millisecond
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- f.d.Run(ctx) }()
		waitFor(t, "the fast endpoint's 40 deliveries", func() bool { return len(fast.requests()) >= 40 })
		mu.Lock()
		seen := slowSeen
		mu.Unlock()
		if seen > 2 {
			t.Errorf("the slow endpoint had %d attempts in flight, want at most PerEndpoint = 2", seen)
		}
		cancel()
		unblock() // Run waits for the attempts in flight, and records them
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		for _, d := range f.deliveries(fastEp.ID) {
			if d.Status != webhook.StatusDelivered {
				t.Errorf("fast delivery %s: %s", d.ID, d.Status)
			}
		}
		for _, d := range f.deliveries(slowEp.ID) {
			if d.Status == webhook.StatusSending {
				t.Errorf("slow delivery %s left claimed after Run returned", d.ID)
			}
		}
	})
}

func TestRestart_DeliveriesOfAStoppedOrKilledDispatcherAreNotLost(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		rcv := newReceiver(t)
		f.endpoint(rcv.URL, change.PointsChanged)
		const events = 60
		for i := range events {
			f.record(change.Event{Type: change.PointsChanged, Data: map[string]any{"n": i}})
		}
		// A dispatcher stopped mid-way records what it attempted.
		f.d.Parallel, f.d.Poll = 4, 5*time.Millisecond
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- f.d.Run(ctx) }()
		waitFor(t, "some deliveries", func() bool { return len(rcv.requests()) >= 10 })
		cancel()
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if n := f.count(webhook.StatusSending); n != 0 {
			t.Errorf("a stopped dispatcher left %d deliveries claimed", n)
		}
		// A killed one leaves its claims; they come back when the lease ends.
		lease := time.Minute
		claimed, err := f.svc.Claim(context.Background(), 15, lease)
		if err != nil || claimed == 0 {
			t.Fatalf("claim: %d, %v", claimed, err)
		}
		next := webhook.NewDispatcher(f.svc)
		before := len(rcv.requests())
		if _, err := next.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := f.count(webhook.StatusSending); got != claimed {
			t.Errorf("during the lease: %d claimed, want the dead dispatcher's %d", got, claimed)
		}
		f.clk.Advance(lease)
		if _, err := next.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := f.count(webhook.StatusDelivered); got != events {
			t.Errorf("delivered %d of %d", got, events)
		}
		ids := map[string]bool{}
		for _, r := range rcv.requests() {
			ids[r.id] = true
		}
		if len(ids) != events {
			t.Errorf("receiver saw %d distinct events, want %d (%d requests, %d before the restart)",
				len(ids), events, len(rcv.requests()), before)
		}
	})
}

func TestPrivateTargets_AreRefusedAtRegistrationAndAtDialTime(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		strict := webhook.NewService(db, webhook.Options{Now: func() time.Time { return t0 }})
		for _, c := range []struct {
			url  string
			code string
		}{
			{"http://127.0.0.1:8080/hook", "url_private"},
			{"http://[::1]/hook", "url_private"},
			{"http://10.1.2.3/hook", "url_private"},
			{"http://172.16.0.9/hook", "url_private"},
			{"http://192.168.1.20/hook", "url_private"},
			{"http://169.254.169.254/latest/meta-data", "url_private"},
			{"http://[fe80::1]/hook", "url_private"},
			{"http://[fd00::1]/hook", "url_private"},
			{"http://100.64.0.1/hook", "url_private"},
			{"http://0.0.0.0/hook", "url_private"},
			{"http://[::ffff:127.0.0.1]/hook", "url_private"},
			{"http://localhost:9000/hook", "url_private"},
			{"http://api.localhost/hook", "url_private"},
			{"ftp://93.184.216.34/hook", "url_invalid"},
			{"http://user:pw@93.184.216.34/hook", "url_invalid"},
			{"/relative", "url_invalid"},
			{"https://93.184.216.34/hook", ""},
		} {
			_, err := strict.Create(context.Background(), webhook.Spec{URL: c.url, EventTypes: []string{change.MemberCreated}})
			var p *problem.Error
			switch {
			case c.code == "" && err != nil:
				t.Errorf("%s: refused: %v", c.url, err)
			case c.code != "" && (!errors.As(err, &p) || p.Code != c.code || p.Field != "url"):
				t.Errorf("%s: %v, want %s on url", c.url, err, c.code)
			}
		}

		// A target allowed when registered (another process, or a name that
		// resolved elsewhere then) is refused by the dialer.
		f := newFixture(t, db)
		rcv := newReceiver(t)
		ep := f.endpoint(rcv.URL, change.MemberCreated)
		f.record(change.Event{Type: change.MemberCreated})
		strictD := webhook.NewDispatcher(webhook.NewService(db, webhook.Options{Now: f.clk.Now}))
		if _, err := strictD.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := len(rcv.requests()); n != 0 {
			t.Errorf("the receiver on the loopback got %d requests", n)
		}
		d := f.deliveries(ep.ID)[0]
		if d.Status != webhook.StatusPending || !strings.Contains(d.LastError, "private") {
			t.Errorf("delivery: %s, %q", d.Status, d.LastError)
		}
	})
}

func TestCreate_RefusesUnknownEventTypes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		for _, c := range []struct {
			types []string
			field string
		}{
			{nil, "event_types"},
			{[]string{change.MemberCreated, "member.deleted"}, "event_types[1]"},
		} {
			_, err := f.svc.Create(context.Background(), webhook.Spec{URL: "http://127.0.0.1/", EventTypes: c.types})
			var p *problem.Error
			if !errors.As(err, &p) || p.Field != c.field {
				t.Errorf("%v: %v, want an error on %s", c.types, err, c.field)
			}
		}
		e := f.endpoint("http://127.0.0.1/", change.SMSFailed, change.MemberCreated, change.SMSFailed)
		if got := fmt.Sprint(e.EventTypes); got != "[member.created sms.failed]" {
			t.Errorf("event types stored as %s", got)
		}
	})
}

func TestRemove_ByAnotherProcessNeitherFailsASaleNorLeavesRetries(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		rcv := newReceiver(t)
		ep := f.endpoint(rcv.URL, change.TransactionCommitted)
		f.record(change.Event{Type: change.TransactionCommitted}) // f.svc has the endpoint cached now
		// perk webhooks remove, in another process: f.svc's cache is stale.
		other := webhook.NewService(db, webhook.Options{AllowPrivate: true})
		if err := other.Delete(context.Background(), ep.ID); err != nil {
			t.Fatal(err)
		}
		if n := f.count(webhook.StatusPending); n != 0 {
			t.Fatalf("%d deliveries left after the removal", n)
		}
		f.record(change.Event{Type: change.TransactionCommitted}) // must not fail the change
		f.drain()
		if len(rcv.requests()) != 0 {
			t.Errorf("a removed endpoint got %d requests", len(rcv.requests()))
		}
		if n := f.count(webhook.StatusDead); n != 1 {
			t.Errorf("the stale-cache delivery: %d dead, want 1 (no retries for an endpoint that is gone)", n)
		}
	})
}
