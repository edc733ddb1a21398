package checkout_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/testenv"
)

// clock is a settable test clock, safe for the concurrency tests.
type clock = testenv.Clock

// world is a programme with a store, some members and the services.
type world struct {
	db        *store.DB
	clock     *clock
	members   *member.Service
	campaigns *campaign.Service
	ledger    *ledger.Ledger
	checkout  *checkout.Service
}

func newWorld(t *testing.T, db *store.DB, pol ledger.Policy) *world {
	t.Helper()
	c := testenv.NewClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := &world{db: db, clock: c}
	w.members = member.NewService(db, member.Options{Region: "GB", PublicURL: "https://perk.test", Programme: "Test Rewards", Now: c.Now, Log: log})
	w.campaigns = campaign.NewService(db, campaign.Options{Zone: time.UTC, PublicURL: "https://perk.test", Programme: "Test Rewards", Now: c.Now, Log: log})
	w.ledger = ledger.New(db, pol, c.Now)
	w.checkout = checkout.NewService(db, w.members, w.campaigns, w.ledger, checkout.Options{Currency: "GBP", BaseEarn: 1, Now: c.Now, Log: log})
	_, err := db.W.Exec(`INSERT INTO stores (id, name, timezone, created_at) VALUES ('S1', 'High Street', 'Europe/London', $1), ('S2', 'Station', 'Europe/London', $1)`, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) enrol(t *testing.T, ph string, tags ...string) *member.Member {
	t.Helper()
	e, err := w.members.Enrol(context.Background(), member.EnrolRequest{Profile: member.Profile{Phone: ph, FirstName: "Ann", Tags: tags},
		Channel: member.ChannelAPI, Consent: true})
	if err != nil {
		t.Fatalf("enrol %s: %v", ph, err)
	}
	return e.Member
}

// launch creates and launches a campaign running from an hour ago for 30 days.
func (w *world) launch(t *testing.T, spec campaign.Spec) *campaign.Campaign {
	t.Helper()
	now := w.clock.Now()
	if spec.Start == "" {
		spec.Start = now.Add(-time.Hour).Format(time.RFC3339)
	}
	if spec.End == "" {
		spec.End = now.Add(30 * 24 * time.Hour).Format(time.RFC3339)
	}
	if spec.Audience.Kind == "" {
		spec.Audience.Kind = campaign.AudienceAll
	}
	ctx := context.Background()
	c, err := w.campaigns.Create(ctx, spec)
	if err != nil {
		t.Fatalf("create %s: %v", spec.Name, err)
	}
	if _, err := w.campaigns.Launch(ctx, c.ID); err != nil {
		t.Fatalf("launch %s: %v", spec.Name, err)
	}
	got, err := w.campaigns.Get(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// basket is a till's request; memberKey "" makes it anonymous (no member
// field at all).
func basket(memberKey, txn string, items ...checkout.Item) *checkout.Request {
	return &checkout.Request{Store: "S1", Terminal: "T1", Member: checkout.Key(memberKey), Currency: "GBP", Items: items, TransactionID: txn}
}

func item(line int, sku string, qty int, price int64, cats ...string) checkout.Item {
	return checkout.Item{Line: line, SKU: sku, Quantity: qty, UnitPrice: price, Categories: cats}
}

func percent(p int, scope ...string) engine.Benefit {
	return engine.Benefit{Kind: engine.PercentOff, Percent: p, Scope: engine.Scope{SKUs: scope}}
}

func wantProblem(t *testing.T, err error, code string) {
	t.Helper()
	var pe *problem.Error
	if !errors.As(err, &pe) || pe.Code != code {
		t.Fatalf("error = %v, want problem %q", err, code)
	}
}

// counted reads a campaign's counted totals, the sums over its counter
// shards (campaign.CountersSQL).
func counted(t *testing.T, db *store.DB, cid string) campaign.Counters {
	t.Helper()
	c, err := campaign.ReadCounters(context.Background(), db.R, cid)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func balance(t *testing.T, w *world, memberID string) ledger.Balance {
	t.Helper()
	b, err := w.ledger.Balance(context.Background(), memberID)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func phoneN(i int) string { return fmt.Sprintf("+4477009%05d", i) }

func voidReq(txn string) *checkout.VoidRequest {
	return &checkout.VoidRequest{Store: "S1", TransactionID: txn}
}
