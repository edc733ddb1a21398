package router_test

import (
	"context"
	"database/sql"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/sms/router"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestPointsAndOffersReplies: a member texts POINTS and OFFERS and gets
// their balance and live offers; a stranger is told to join.
func TestPointsAndOffersReplies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		ctx := context.Background()
		log := slog.New(slog.NewTextHandler(io.Discard, nil))
		camps := campaign.NewService(db, campaign.Options{Now: e.clk.Now, Log: log})
		led := ledger.New(db, ledger.Policy{PendingFor: 14 * 24 * time.Hour}, e.clk.Now)
		co := checkout.NewService(db, e.members, camps, led, checkout.Options{Currency: "GBP", BaseEarn: 1, Now: e.clk.Now, Log: log})
		var err error
		e.r, err = router.New(db, e.members, router.Options{Programme: "Test Rewards", Now: e.clk.Now, Log: log, Wallet: co})
		if err != nil {
			t.Fatal(err)
		}
		e.text("+447700900123", "JOIN Ann")
		m, err := e.members.ByPhone(ctx, "+447700900123")
		if err != nil {
			t.Fatal(err)
		}
		one(t, e.text("+447700900123", "OFFERS"), "no offers for you right now", "https://perk.test/c/")

		if _, err := led.Adjust(ctx, m.ID, 120, "welcome", "ops"); err != nil {
			t.Fatal(err)
		}
		err = led.Update(ctx, func(tx *sql.Tx, now time.Time) error {
			_, err := led.Earn(ctx, tx, ledger.Credit{MemberID: m.ID, Kind: ledger.KindEarn, Points: 30, Reason: "purchase", TransactionID: "T1"}, now)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		one(t, e.text("+447700900123", "points"), "you have 120 points to spend and 30 on the way")

		c, err := camps.Create(ctx, campaign.Spec{Name: "Coffee", Start: "2026-11-01", End: "2026-12-01", Audience: campaign.Audience{Kind: campaign.AudienceAll},
			Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 20, Description: "20% off coffee"}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := camps.Launch(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
		one(t, e.text("+447700900123", "OFFERS"), "your offers: 20% off coffee (until 30 Nov)")
		one(t, e.text("+447700900999", "POINTS"), "you are not a member yet")
	})
}
