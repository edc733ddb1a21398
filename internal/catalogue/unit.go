package catalogue

import "strings"

// Unit is how a product is counted or measured.
type Unit string

// Units. Each is counted in whole units; the others are measured, and a
// line of them may carry a quantity with up to three decimals.
const (
	Each       Unit = "each"
	Kilogram   Unit = "kg"
	Gram       Unit = "g"
	Pound      Unit = "lb"
	Ounce      Unit = "oz"
	Litre      Unit = "l"
	Millilitre Unit = "ml"
	Metre      Unit = "m"
)

var units = []Unit{Each, Kilogram, Gram, Pound, Ounce, Litre, Millilitre, Metre}

// ParseUnit reads a unit name, case-insensitively; "" is Each.
func ParseUnit(s string) (Unit, bool) {
	if s == "" || s == string(Each) {
		return Each, true
	}
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return Each, true
	}
	for _, u := range units {
		if string(u) == s {
			return u, true
		}
	}
	return "", false
}

// Measured reports whether the unit is a weight, volume or length, whose
// lines may hold fractions of a unit.
func (u Unit) Measured() bool { return u != Each && u != "" }

// UnitNames lists the units for messages.
const UnitNames = "each, kg, g, lb, oz, l, ml, m"
