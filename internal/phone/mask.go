package phone

import "strings"

// Mask hides a phone number for logs and operator screens: the country code,
// the first two digits and the last three stay ("+447700900123" becomes
// "+44 77** ***123"). It accepts anything, since log lines may carry input
// that never parsed; short or odd input is masked almost entirely.
func Mask(s string) string {
	digits := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			digits = append(digits, s[i])
		}
	}
	if len(digits) < 8 {
		return strings.Repeat("*", len(digits))
	}
	cc := countryCodeLen(digits)
	rest := digits[cc:]
	var b strings.Builder
	b.Grow(len(digits) + 4)
	b.WriteByte('+')
	b.Write(digits[:cc])
	b.WriteByte(' ')
	for i, d := range rest {
		switch {
		case i == 4:
			b.WriteByte(' ')
		}
		if i < 2 || i >= len(rest)-3 {
			b.WriteByte(d)
		} else {
			b.WriteByte('*')
		}
	}
	return b.String()
}

// countryCodeLen finds the length of the calling code at the start of an
// international number. E.164 calling codes are prefix-free, so the first
// prefix libphonenumber knows is the one.
func countryCodeLen(digits []byte) int {
	for n := 1; n <= 3 && n < len(digits); n++ {
		if knownCallingCode(string(digits[:n])) {
			return n
		}
	}
	return 1
}
