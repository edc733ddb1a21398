package profile_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/links"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/profile"
	"github.com/perk-platform/perk/internal/report/figures"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/testenv"
)

var t0 = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// world is a programme with two stores, a small catalogue and the real
// services that write the history profiles are computed from.
type world struct {
	db        *store.DB
	clock     *testenv.Clock
	members   *member.Service
	campaigns *campaign.Service
	ledger    *ledger.Ledger
	checkout  *checkout.Service
	profiles  *profile.Service
}

// catalogue: sku -> categories (path and parents) and brand.
var catalogue = map[string]struct {
	cats  []string
	brand string
}{
	"BREAD":  {[]string{"food", "food/bakery"}, "Hovis"},
	"CROIS":  {[]string{"food", "food/bakery"}, "Bonne"},
	"COFFEE": {[]string{"drinks", "drinks/coffee"}, "Lavazza"},
	"SOAP":   {[]string{"home"}, ""},
}

func newWorld(t *testing.T, db *store.DB, opt profile.Options) *world {
	t.Helper()
	c := testenv.NewClock(t0)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := &world{db: db, clock: c}
	lk := links.NewService(db, "https://perk.test", c.Now)
	w.members = member.NewService(db, member.Options{Region: "GB", PublicURL: "https://perk.test", Programme: "Test Rewards", Now: c.Now, Log: log})
	w.campaigns = campaign.NewService(db, campaign.Options{Zone: time.UTC, PublicURL: "https://perk.test", Programme: "Test Rewards",
		Links: lk, Now: c.Now, Log: log})
	w.ledger = ledger.New(db, ledger.Policy{RedeemPoints: 1, RedeemValue: 1}, c.Now)
	w.checkout = checkout.NewService(db, w.members, w.campaigns, w.ledger, checkout.Options{Currency: "GBP", BaseEarn: 1, Now: c.Now, Log: log})
	opt.Now = c.Now
	w.profiles = profile.NewService(db, opt, log)
	w.exec(t, `INSERT INTO stores (id, name, timezone, created_at) VALUES ('S1', 'High Street', 'Europe/London', $1), ('S2', 'Station', 'Europe/London', $1)`, c.Now())
	for sku, p := range catalogue {
		w.exec(t, `INSERT INTO products (sku, name, categories, price, currency, brand) VALUES ($1, $1, '[]', 100, 'GBP', $2)`, sku, p.brand)
	}
	return w
}

func (w *world) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if _, err := w.db.W.Exec(q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func (w *world) enrol(t *testing.T, i int) *member.Member {
	t.Helper()
	e, err := w.members.Enrol(context.Background(), member.EnrolRequest{Profile: member.Profile{Phone: fmt.Sprintf("+4477009%05d", i), FirstName: "Ann"},
		Channel: member.ChannelAPI, Source: "test", Consent: true})
	if err != nil {
		t.Fatalf("enrol %d: %v", i, err)
	}
	return e.Member
}

func item(line int, sku string, qty int, price int64) checkout.Item {
	return checkout.Item{Line: line, SKU: sku, Quantity: qty, UnitPrice: price, Categories: catalogue[sku].cats}
}

func (w *world) commit(t *testing.T, storeID string, m *member.Member, txn string, items ...checkout.Item) *checkout.Response {
	t.Helper()
	r, err := w.checkout.Commit(context.Background(), &checkout.Request{Store: storeID, Terminal: "T1", Member: checkout.Key(string(m.Code)),
		Currency: "GBP", Items: items, TransactionID: txn})
	if err != nil {
		t.Fatalf("commit %s: %v", txn, err)
	}
	return r
}

func (w *world) get(t *testing.T, m *member.Member) profile.Profile {
	t.Helper()
	p, err := profile.GetAt(context.Background(), w.db, m.ID, w.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (w *world) refresh(t *testing.T) profile.Result {
	t.Helper()
	r, err := w.profiles.Refresh(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (w *world) drain(t *testing.T) int {
	t.Helper()
	n, err := w.profiles.Drain(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// salesSQL is figures.Sales, the one definition the profile must agree with.
const salesSQL = figures.Sales
