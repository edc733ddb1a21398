package checkout_test

import (
	"context"
	"testing"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// TestReturn_GivenBackBudgetIsThereForTheNextSale: a return that gives a
// budget back makes room at once, not when the cached live set expires.
func TestReturn_GivenBackBudgetIsThereForTheNextSale(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		w := newWorld(t, db, ledger.Policy{})
		m := w.enrol(t, phoneN(1))
		w.launch(t, campaign.Spec{Name: "Budget", Benefits: []engine.Benefit{{Kind: engine.AmountOff, Amount: 100}}, Limits: campaign.Limits{Budget: 150}})
		sale := func(txn string) int64 {
			r, err := w.checkout.Commit(ctx, basket(string(m.Code), txn, item(1, "A", 1, 1000)))
			if err != nil {
				t.Fatal(err)
			}
			return r.TotalDiscount
		}
		if d := sale("T-1"); d != 100 {
			t.Fatalf("first sale's discount %d, want 100", d)
		}
		if d := sale("T-2"); d != 0 {
			t.Fatalf("second sale's discount %d, want 0: 50 of the budget is left", d)
		}
		if _, err := w.checkout.Return(ctx, &checkout.ReturnRequest{Store: "S1", TransactionID: "T-1", ReturnID: "R-1",
			Items: []checkout.ReturnItem{{Line: 1, Quantity: 1}}}); err != nil {
			t.Fatal(err)
		}
		if d := sale("T-3"); d != 100 {
			t.Errorf("the sale after the return got %d off, want 100: the budget has room again", d)
		}
	})
}
