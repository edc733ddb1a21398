package router_test

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestPointsAndOffersReplies: a member texts POINTS and OFFERS and gets
// their balance and live offers; a stranger is told to join.
func TestPointsAndOffersReplies(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e, camps, led := newLocaleEnv(t, db, "en")
		ctx := context.Background()
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

		launchOffer(t, camps, "Coffee", "20% off coffee")
		one(t, e.text("+447700900123", "OFFERS"), "your offers: 20% off coffee (until 30 Nov)")
		one(t, e.text("+447700900999", "POINTS"), "you are not a member yet")
	})
}
