package catalogue

import (
	"errors"
	"strconv"
	"strings"
)

// Quantity is an amount of a product in thousandths of its unit: 750 is
// 0.750 kg of a product sold by the kilogram, 2000 two of a product sold
// each. It is exact (no float is ever involved) and three decimals are what
// retail scales and volume measures print.
type Quantity int64

// QuantityScale is the number of Quantity steps in one whole unit.
const QuantityScale = 1000

// MaxQuantity is the largest quantity accepted, in whole units (checkout's
// MaxQuantity), so that a quantity times a unit price stays inside int64.
const MaxQuantity = 100_000

// ErrQuantity is the reason a quantity text does not parse.
var ErrQuantity = errors.New("quantity must be a decimal number like 2 or 0.750, at most 3 decimals, 0 to 100000")

// ParseQuantity reads a plain decimal ("2", "0.750", "1.5", ".5") into
// thousandths. Signs, exponents, spaces, separators and more than three
// significant decimals are refused: a till that sends any of them has a bug
// worth seeing, and 1e3 or "1,5" could be read two ways.
func ParseQuantity(s string) (Quantity, error) {
	whole, frac, dot := strings.Cut(s, ".")
	if whole == "" && frac == "" || dot && frac == "" {
		return 0, ErrQuantity
	}
	frac = strings.TrimRight(frac, "0")
	if len(frac) > 3 || len(whole) > 6 || !digits(whole) || !digits(frac) {
		return 0, ErrQuantity
	}
	var w int64
	if whole != "" {
		w, _ = strconv.ParseInt(whole, 10, 64) // at most 6 digits
	}
	f := int64(0)
	for i := range 3 {
		f *= 10
		if i < len(frac) {
			f += int64(frac[i] - '0')
		}
	}
	q := Quantity(w*QuantityScale + f)
	if q > MaxQuantity*QuantityScale {
		return 0, ErrQuantity
	}
	return q, nil
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Whole reports the quantity in whole units, and whether it is whole.
func (q Quantity) Whole() (int64, bool) { return int64(q) / QuantityScale, q%QuantityScale == 0 }

// String is the quantity with three decimals ("0.750", "2.000").
func (q Quantity) String() string {
	s := strconv.FormatInt(int64(q)%QuantityScale+QuantityScale, 10)
	return strconv.FormatInt(int64(q)/QuantityScale, 10) + "." + s[1:]
}

// Value is the price of q units at price minor units per unit, rounded half
// up once to a minor unit: 0.750 kg at 1899 a kg is 1424.25, so 1424; 0.500
// at 1899 is 949.5, so 950. q and price must be >= 0 and within the ranges
// (at most MaxQuantity units, 10^10 minor units a unit), where the product
// stays far inside int64.
func (q Quantity) Value(price int64) int64 {
	return (int64(q)*price + QuantityScale/2) / QuantityScale
}
