package checkout

import (
	"github.com/perk-platform/perk/internal/catalogue"
)

// amount is how much of a line is bought, as the engine and the stored
// line count it. A counted line is its units at its unit price, as it
// always was. A measured line is one unit (for the quantity rules: buy
// x get y, fixed price per unit) whose price is its value: quantity x
// price per unit, rounded half up once (docs/checkout-rules.md), so every
// discount is computed on that value.
type amount struct {
	unit    catalogue.Unit
	qty     int                // engine units: the line's for a counted line, 1 for a measured one
	measure catalogue.Quantity // a measured line's quantity in thousandths of unit; 0 when counted
	price   int64              // engine unit price: the till's, or a measured line's value
}

type amountError struct{ field, code, msg string }

// amount works out the line's amount; p is its product (nil if unknown),
// whose unit applies when the line names none.
func (it *Item) amount(p *catalogue.Product) (amount, *amountError) {
	unit, ok := catalogue.ParseUnit(it.Unit)
	if !ok {
		return amount{}, &amountError{"unit", "unit_invalid", "is not a unit (" + catalogue.UnitNames + ")"}
	}
	if it.Unit == "" && p != nil {
		unit = p.Unit
	}
	if !unit.Measured() {
		q := it.Quantity
		if it.Measure != 0 {
			w, whole := it.Measure.Whole()
			if !whole {
				return amount{}, &amountError{"quantity", "quantity_invalid",
					"must be whole units for a product sold each (a weighed line names its unit, e.g. \"unit\":\"kg\")"}
			}
			q = int(w)
		}
		if q < 1 || q > MaxQuantity {
			return amount{}, &amountError{"quantity", "quantity_invalid", "must be 1 to 100000"}
		}
		return amount{unit: catalogue.Each, qty: q}, nil
	}
	m := it.Measure
	if m == 0 {
		if it.Quantity < 1 || it.Quantity > MaxQuantity {
			return amount{}, &amountError{"quantity", "quantity_invalid", "must be more than 0 and at most 100000"}
		}
		m = catalogue.Quantity(it.Quantity) * catalogue.QuantityScale
	}
	return amount{unit: unit, qty: 1, measure: m}, nil
}
