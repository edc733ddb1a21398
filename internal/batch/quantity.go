package batch

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/perk-platform/perk/internal/checkout"
)

// parseQuantity reads a line's quantity and unit. It is the one place that
// decides what a file's quantity may be: whole units of "each" today; weighed
// goods ("0.750" of "kg") are refused with their own reason until the engine
// takes decimal quantities, and then only this function changes.
func parseQuantity(qty, unit string) (int, *fieldError) {
	qty = strings.TrimSpace(qty)
	unit = strings.ToLower(strings.TrimSpace(unit))
	if qty == "" {
		return 0, &fieldError{"quantity", "is required"}
	}
	if n, err := strconv.Atoi(qty); err == nil {
		if unit != "" && unit != "each" {
			return 0, &fieldError{"unit", fmt.Sprintf("%q is not accepted yet: only whole units (each) until weighed goods are supported", unit)}
		}
		if n < 1 || n > checkout.MaxQuantity {
			return 0, &fieldError{"quantity", fmt.Sprintf("%d is out of range: 1 to %d", n, checkout.MaxQuantity)}
		}
		return n, nil
	}
	if _, err := strconv.ParseFloat(strings.Replace(qty, ",", ".", 1), 64); err == nil && strings.ContainsAny(qty, ".,") {
		return 0, &fieldError{"quantity", fmt.Sprintf("%q is a decimal quantity: weighed goods are not accepted yet, only whole units", qty)}
	}
	return 0, &fieldError{"quantity", fmt.Sprintf("%q is not a number", qty)}
}

// fieldError is a bad value in one column of a row.
type fieldError struct {
	column, reason string
}
