package report_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/links"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/report"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/testenv"
)

// clock is a settable test clock.
type clock = testenv.Clock

// world is a programme with two stores and every service a report reads.
type world struct {
	db        *store.DB
	clock     *clock
	members   *member.Service
	campaigns *campaign.Service
	links     *links.Service
	ledger    *ledger.Ledger
	checkout  *checkout.Service
	reports   *report.Service
}

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

func newWorld(t *testing.T, db *store.DB, pol ledger.Policy) *world {
	t.Helper()
	c := testenv.NewClock(t0)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := &world{db: db, clock: c}
	w.links = links.NewService(db, "https://perk.test", c.Now)
	w.members = member.NewService(db, member.Options{Region: "GB", PublicURL: "https://perk.test", Programme: "Test Rewards", Now: c.Now, Log: log})
	w.campaigns = campaign.NewService(db, campaign.Options{Zone: time.UTC, PublicURL: "https://perk.test", Programme: "Test Rewards",
		Links: w.links, Now: c.Now, Log: log})
	w.ledger = ledger.New(db, pol, c.Now)
	w.checkout = checkout.NewService(db, w.members, w.campaigns, w.ledger, checkout.Options{Currency: "GBP", BaseEarn: 1, Now: c.Now, Log: log})
	w.reports = report.NewService(db, w.campaigns, c.Now)
	_, err := db.W.Exec(`INSERT INTO stores (id, name, timezone, created_at) VALUES ('S1', 'High Street', 'Europe/London', $1), ('S2', 'Station', 'Europe/London', $1)`, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) enrol(t *testing.T, ph string, consent bool, tags ...string) *member.Member {
	t.Helper()
	e, err := w.members.Enrol(context.Background(), member.EnrolRequest{Profile: member.Profile{Phone: ph, FirstName: "Ann", Tags: tags},
		Channel: member.ChannelAPI, Source: "test poster", Consent: consent})
	if err != nil {
		t.Fatalf("enrol %s: %v", ph, err)
	}
	return e.Member
}

// launch creates and launches a campaign running from an hour ago for 30 days.
func (w *world) launch(t *testing.T, spec campaign.Spec) *campaign.Campaign {
	t.Helper()
	now := w.clock.Now()
	spec.Start = now.Add(-time.Hour).Format(time.RFC3339)
	spec.End = now.Add(30 * 24 * time.Hour).Format(time.RFC3339)
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

func (w *world) commit(t *testing.T, storeID, memberKey, txn string, items ...checkout.Item) *checkout.Response {
	t.Helper()
	r, err := w.checkout.Commit(context.Background(), &checkout.Request{Store: storeID, Terminal: "T1", Member: checkout.Key(memberKey),
		Currency: "GBP", Items: items, TransactionID: txn})
	if err != nil {
		t.Fatalf("commit %s: %v", txn, err)
	}
	return r
}

// exec runs plain SQL, failing the test on error.
func (w *world) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := w.db.W.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// count runs a one-number query.
func (w *world) count(t *testing.T, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := w.db.R.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func item(line int, sku string, qty int, price int64) checkout.Item {
	return checkout.Item{Line: line, SKU: sku, Quantity: qty, UnitPrice: price}
}

func percent(p int, sku string) engine.Benefit {
	return engine.Benefit{Kind: engine.PercentOff, Percent: p, Scope: engine.Scope{SKUs: []string{sku}}}
}

func phoneN(i int) string { return fmt.Sprintf("+4477009%05d", i) }
