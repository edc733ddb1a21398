package store

import (
	"strconv"
	"strings"
)

// Values is the VALUES list of a multi-row INSERT: rows tuples of cols
// numbered placeholders, "($1, $2), ($3, $4)" for 2 and 2, so a write of
// several rows is one statement and one round trip.
func Values(rows, cols int) string {
	var b strings.Builder
	b.Grow(rows * cols * 5)
	n := 0
	for r := range rows {
		if r > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for c := range cols {
			if c > 0 {
				b.WriteString(", ")
			}
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		}
		b.WriteByte(')')
	}
	return b.String()
}
