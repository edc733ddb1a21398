package checkout_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// Receipts write amounts with the programme currency's decimals.
func TestReceipt_AmountsInTheCurrencysDecimals(t *testing.T) {
	db := storetest.SQLite(t)
	w := newWorld(t, db, defaultPolicy)
	m := w.enrol(t, phoneN(1))
	w.launch(t, campaign.Spec{Name: "Off", Description: "Bread off", Benefits: []engine.Benefit{{Kind: engine.AmountOff, Amount: 1205}}})
	for _, tt := range []struct{ currency, saved string }{
		{"GBP", "You saved 12.05"}, {"JPY", "You saved 1205"}, {"KWD", "You saved 1.205"},
	} {
		t.Run(tt.currency, func(t *testing.T) {
			co := checkout.NewService(db, w.members, w.campaigns, w.ledger, checkout.Options{Currency: tt.currency, BaseEarn: 1,
				Now: w.clock.Now, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			req := basket(string(m.Code), "", item(1, "BREAD", 2, 2500))
			req.Currency = tt.currency
			res, err := co.Evaluate(context.Background(), req, false)
			if err != nil {
				t.Fatal(err)
			}
			if res.TotalDiscount != 1205 || !slices.Contains(res.ReceiptText, tt.saved) {
				t.Errorf("discount %d, receipt %q; want %q", res.TotalDiscount, res.ReceiptText, tt.saved)
			}
		})
	}
}
