package checkout_test

import (
	"math"
	"math/big"
	"testing"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/ledger"
)

// TestRanges_FitTogether states how the ranges of the engine, the ledger and
// the campaigns depend on each other (docs/api.md, "Ranges"): each product
// is a worst case the checkout may compute, and must stay far inside int64.
func TestRanges_FitTogether(t *testing.T) {
	n := func(v int64) *big.Int { return big.NewInt(v) }
	mul := func(vs ...int64) *big.Int {
		p := n(1)
		for _, v := range vs {
			p.Mul(p, n(v))
		}
		return p
	}
	far := n(math.MaxInt64 / 9) // "far inside": at least 9 times under MaxInt64
	tests := []struct {
		name   string
		worst  *big.Int
		within *big.Int
	}{
		{"a request's running value before the basket cap is checked", mul(checkout.MaxItems, checkout.MaxQuantity, checkout.MaxUnitPrice), far},
		{"a limited campaign's discount given", mul(campaign.MaxUses, engine.MaxAmount), far},
		{"a limited campaign's points given", mul(campaign.MaxUses, engine.MaxPoints), far},
		{"a budgeted campaign's discount given plus one more basket", n(campaign.MaxBudget + engine.MaxAmount), far},
		{"what one basket earns fits in one ledger credit", n(engine.MaxPoints), n(ledger.MaxPoints)},
		{"a full balance and one more credit", n(ledger.MaxBalance + ledger.MaxPoints), far},
		{"a basket's value at the redemption rate of a point per minor unit fits a balance", n(engine.MaxAmount), n(ledger.MaxBalance)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.worst.Cmp(tt.within) > 0 {
				t.Fatalf("%s = %v, more than %v", tt.name, tt.worst, tt.within)
			}
		})
	}
}
