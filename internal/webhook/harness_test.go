package webhook_test

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/testenv"
	"github.com/perk-platform/perk/internal/webhook"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

// received is one request a test receiver got.
type received struct {
	id, timestamp, signature string
	body                     []byte
}

// receiver is a local endpoint answering with a settable status.
type receiver struct {
	*httptest.Server
	mu     sync.Mutex // guards got and status
	got    []received
	status int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{status: http.StatusOK}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		r.got = append(r.got, received{req.Header.Get(webhook.HeaderID), req.Header.Get(webhook.HeaderTimestamp),
			req.Header.Get(webhook.HeaderSignature), body})
		status := r.status
		r.mu.Unlock()
		w.WriteHeader(status)
	}))
	t.Cleanup(r.Close)
	return r
}

func (r *receiver) answer(status int) {
	r.mu.Lock()
	r.status = status
	r.mu.Unlock()
}

func (r *receiver) requests() []received {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]received(nil), r.got...)
}

type fixture struct {
	t   *testing.T
	db  *store.DB
	clk *testenv.Clock
	svc *webhook.Service
	d   *webhook.Dispatcher
}

// newFixture is a service on db with a stopped clock, private targets
// allowed (receivers are on the loopback) and no jitter, so retry times are
// exact.
func newFixture(t *testing.T, db *store.DB) *fixture {
	clk := testenv.NewClock(t0)
	svc := webhook.NewService(db, webhook.Options{Now: clk.Now, AllowPrivate: true,
		Jitter: func(d time.Duration) time.Duration { return d }})
	return &fixture{t: t, db: db, clk: clk, svc: svc, d: webhook.NewDispatcher(svc)}
}

func (f *fixture) endpoint(url string, types ...string) *webhook.Endpoint {
	f.t.Helper()
	e, err := f.svc.Create(context.Background(), webhook.Spec{URL: url, EventTypes: types})
	if err != nil {
		f.t.Fatalf("create endpoint: %v", err)
	}
	return e
}

// record records events in a transaction of their own, as a domain
// package would in its own.
func (f *fixture) record(events ...change.Event) {
	f.t.Helper()
	err := f.db.Tx(context.Background(), func(tx *sql.Tx) error {
		return f.svc.Record(context.Background(), tx, events...)
	})
	if err != nil {
		f.t.Fatalf("record: %v", err)
	}
}

func (f *fixture) drain() int {
	f.t.Helper()
	n, err := f.d.Drain(context.Background())
	if err != nil {
		f.t.Fatalf("drain: %v", err)
	}
	return n
}

func (f *fixture) deliveries(endpointID string) []*webhook.Delivery {
	f.t.Helper()
	ds, err := f.svc.Deliveries(context.Background(), endpointID, webhook.DeliveryQuery{Limit: 500})
	if err != nil {
		f.t.Fatalf("deliveries: %v", err)
	}
	return ds
}

func (f *fixture) addMember(memberID, externalID string) {
	f.t.Helper()
	var ext any
	if externalID != "" {
		ext = externalID
	}
	if _, err := f.db.W.Exec(`INSERT INTO members (id, code, external_id, channel, source, status, enrolled_at, updated_at)
		VALUES ($1, $2, $3, 'api', '', 'active', $4, $4)`, memberID, memberID[len(memberID)-8:], ext, t0); err != nil {
		f.t.Fatalf("add member: %v", err)
	}
}
