// Package money formats amounts Perk keeps as integer minor units. There is
// no float anywhere near a price: amounts are int64 minor units with the
// currency beside them, and rounding rules live where amounts are split
// (checkout/engine).
package money

import "fmt"

// Format writes minor units with two decimals and no symbol ("12.05",
// "-0.50"), right for every currency with 100 minor units.
func Format(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%02d", sign, v/100, v%100)
}
