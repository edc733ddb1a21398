package referral_test

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
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/referral"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/testenv"
)

// world is a programme with a store and the real services, wired as perk
// serve wires them: the member service and the checkout tell the referral
// service inside their transactions.
type world struct {
	db        *store.DB
	clock     *testenv.Clock
	members   *member.Service
	campaigns *campaign.Service
	ledger    *ledger.Ledger
	checkout  *checkout.Service
	refs      *referral.Service
}

func newWorld(t testing.TB, db *store.DB) *world {
	t.Helper()
	c := testenv.NewClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	w := &world{db: db, clock: c}
	w.members = member.NewService(db, member.Options{Region: "GB", PublicURL: "https://perk.test", Programme: "Test Rewards", Now: c.Now, Log: log})
	w.campaigns = campaign.NewService(db, campaign.Options{Zone: time.UTC, PublicURL: "https://perk.test", Programme: "Test Rewards", Now: c.Now, Log: log})
	// 100 points are worth 100 pence; earned points wait 14 days.
	w.ledger = ledger.New(db, ledger.Policy{PendingFor: 14 * 24 * time.Hour, RedeemPoints: 100, RedeemValue: 100}, c.Now)
	w.refs = referral.New(db, w.ledger, w.campaigns, referral.Options{PublicURL: "https://perk.test", Now: c.Now, Log: log})
	w.members.SetReferrals(w.refs)
	w.checkout = checkout.NewService(db, w.members, w.campaigns, w.ledger, checkout.Options{Currency: "GBP", BaseEarn: 1, Now: c.Now, Log: log,
		Referrals: w.refs})
	if _, err := db.W.Exec(`INSERT INTO stores (id, name, timezone, created_at) VALUES ('S1', 'High Street', 'Europe/London', $1)`, c.Now()); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) settings(t *testing.T, st referral.Settings) {
	t.Helper()
	if _, err := w.refs.Save(context.Background(), st); err != nil {
		t.Fatalf("save settings: %v", err)
	}
}

func (w *world) join(t *testing.T, ph, code string, ch member.Channel, anon string) *member.Enrolment {
	t.Helper()
	e, err := w.members.Enrol(context.Background(), member.EnrolRequest{Profile: member.Profile{Phone: ph, FirstName: "Ann"},
		Channel: ch, Consent: true, Referral: code, AnonymousID: anon})
	if err != nil {
		t.Fatalf("enrol %s with %q: %v", ph, code, err)
	}
	return e
}

func (w *world) code(t *testing.T, memberID string) string {
	t.Helper()
	c, err := w.refs.Code(context.Background(), memberID)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (w *world) buy(t *testing.T, memberID, txn string, price int64) *checkout.Response {
	t.Helper()
	r, err := w.checkout.Commit(context.Background(), w.basket(memberID, txn, price))
	if err != nil {
		t.Fatalf("commit %s: %v", txn, err)
	}
	return r
}

func (w *world) basket(memberID, txn string, price int64) *checkout.Request {
	return &checkout.Request{Store: "S1", Terminal: "T1", Member: checkout.Key(memberID), Currency: "GBP", TransactionID: txn,
		Items: []checkout.Item{{Line: 1, SKU: "COAT", Quantity: 1, UnitPrice: price}}}
}

func (w *world) referral(t *testing.T, id string) *referral.Referral {
	t.Helper()
	r, err := w.refs.Get(context.Background(), id)
	if err != nil {
		t.Fatalf("get referral %s: %v", id, err)
	}
	return r
}

// bonus is the member's referral points: the bonus entries written under
// the referral's ledger transaction, less what reversals took.
func (w *world) bonus(t *testing.T, memberID string) int64 {
	t.Helper()
	var n int64
	if err := w.db.R.QueryRow(`SELECT COALESCE(SUM(points), 0) FROM points_entries WHERE member_id = $1 AND transaction_id LIKE 'referral:%'`,
		memberID).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func phoneN(i int) string { return fmt.Sprintf("+4477009%05d", i) }

// bothPoints: 500 points to the referrer and 200 to the friend when the
// friend first spends £20 within 30 days; returns claw back for 30 days.
func bothPoints() referral.Settings {
	return referral.Settings{Enabled: true, Qualify: referral.QualifyPurchase, MinPurchase: 2000, WithinDays: 30, ReturnsDays: 30,
		Referrer: &referral.Reward{Kind: referral.RewardPoints, Points: 500}, Friend: &referral.Reward{Kind: referral.RewardPoints, Points: 200}}
}

// campaignOffer is £5 off any basket for 90 days, once: a personal offer a
// referral gives by adding the member to its list.
func campaignOffer(w *world) campaign.PersonalOffer {
	now := w.clock.Now()
	return campaign.PersonalOffer{Description: "£5 off, thanks to a friend", Benefit: engine.Benefit{Kind: engine.AmountOff, Amount: 500},
		Start: now.Add(-time.Hour).Format(time.RFC3339), End: now.Add(90 * 24 * time.Hour).Format(time.RFC3339)}
}
