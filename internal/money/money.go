// Package money formats amounts Perk keeps as integer minor units. There is
// no float anywhere near a price: amounts are int64 minor units with the
// currency beside them, and rounding rules live where amounts are split
// (checkout/engine).
package money

import (
	"math"
	"math/bits"
)

// Format writes minor units with two decimals and no symbol ("12.05",
// "-0.50"): Currency{}.Number, for amounts whose currency is not at hand.
// Show a programme's money with its Currency's Format.
func Format(v int64) string { return Currency{}.Number(v) }

// MulDiv is floor(a*b/c) for non-negative a, b and positive c, computed in
// 128 bits so the product never overflows, and saturating at MaxInt64 when
// the quotient does not fit: the one way Perk takes a share of an amount
// (a percentage, a line's part of a discount, a return's part of a line).
// It is 0 when an argument is out of range.
func MulDiv(a, b, c int64) int64 {
	if a <= 0 || b <= 0 || c <= 0 {
		return 0
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(c) {
		return math.MaxInt64
	}
	q, _ := bits.Div64(hi, lo, uint64(c))
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(q)
}
