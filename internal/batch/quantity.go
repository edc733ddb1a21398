package batch

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/perk-platform/perk/internal/catalogue"
	"github.com/perk-platform/perk/internal/checkout"
)

// quantity is a line's quantity as a file gives it: whole units, or a
// measure of a weighed or measured unit.
type quantity struct {
	whole   int                // whole units of "each"
	measure catalogue.Quantity // thousandths of unit, when unit is measured
	unit    string             // "" (the product's, else each), each, kg, l ...
}

// parseQuantity reads a line's quantity and unit, the one place that
// decides what a file's quantity may be, by the API's rules: a whole number
// of units, or with a weight or volume unit ("0.750" of "kg") up to three
// decimals, read exactly.
func parseQuantity(qty, unitText string) (quantity, *fieldError) {
	qty = strings.TrimSpace(qty)
	unitText = strings.TrimSpace(unitText)
	if qty == "" {
		return quantity{}, &fieldError{"quantity", "is required"}
	}
	unit, ok := catalogue.ParseUnit(unitText)
	if !ok {
		return quantity{}, &fieldError{"unit", fmt.Sprintf("%q is not a unit (%s)", unitText, catalogue.UnitNames)}
	}
	if unit.Measured() {
		m, err := catalogue.ParseQuantity(qty)
		if err != nil || m <= 0 {
			return quantity{}, &fieldError{"quantity", fmt.Sprintf("%q: %v", qty, catalogue.ErrQuantity)}
		}
		return quantity{measure: m, unit: string(unit)}, nil
	}
	n, err := strconv.Atoi(qty)
	if err != nil {
		if _, ferr := catalogue.ParseQuantity(qty); ferr == nil {
			return quantity{}, &fieldError{"quantity", fmt.Sprintf("%q has decimals: give the line's weight or volume unit (%s)", qty, catalogue.UnitNames)}
		}
		return quantity{}, &fieldError{"quantity", fmt.Sprintf("%q is not a number", qty)}
	}
	if n < 1 || n > checkout.MaxQuantity {
		return quantity{}, &fieldError{"quantity", fmt.Sprintf("%d is out of range: 1 to %d", n, checkout.MaxQuantity)}
	}
	// Whole units go as the live API's whole lines do, without a unit, so a
	// file's basket hashes (and is idempotent) like the same basket sent live.
	return quantity{whole: n}, nil
}

// fieldError is a bad value in one column of a row.
type fieldError struct {
	column, reason string
}
