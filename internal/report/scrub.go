package report

import (
	"regexp"
	"strings"

	"github.com/perk-platform/perk/internal/phone"
)

var (
	// phoneLike is a run of digits, possibly with spaces, dashes, dots or
	// brackets and a leading +, long enough to be a phone number.
	phoneLike = regexp.MustCompile(`\+?\d[\d \-.()]{6,}\d`)
	// linkToken is the secret part of a card link (/c/{token}) or a double
	// opt-in link (/join/confirm/{token}).
	linkToken = regexp.MustCompile(`(/c/|/join/confirm/)[A-Za-z0-9_\-]+`)
)

// scrub hides what an operator's screen must not show of free text: phone
// numbers are masked as everywhere else (phone.Mask), link tokens replaced.
// A member code (8 digits) stays: it is what support staff ask for.
func scrub(s string) string {
	s = linkToken.ReplaceAllString(s, "${1}…")
	return phoneLike.ReplaceAllStringFunc(s, func(m string) string {
		n := 0
		for i := 0; i < len(m); i++ {
			if m[i] >= '0' && m[i] <= '9' {
				n++
			}
		}
		// National (0...) and international (+...) numbers; bare digit
		// runs only when longer than a date and time or a member code.
		if n < 9 || (n < 11 && m[0] != '+' && m[0] != '0') {
			return m
		}
		switch {
		case strings.HasPrefix(m, "00"): // international access prefix
			return phone.Mask("+" + m[2:])
		case m[0] == '0':
			return maskNational(m)
		}
		return phone.Mask(m)
	})
}

// maskNational masks a number in national format the way phone.Mask masks
// an international one: the trunk prefix and two digits, and the last
// three, stay ("07700 900123" becomes "077** ***123").
func maskNational(m string) string {
	var d []byte
	for i := 0; i < len(m); i++ {
		if m[i] >= '0' && m[i] <= '9' {
			d = append(d, m[i])
		}
	}
	out := make([]byte, 0, len(d)+1)
	for i, c := range d {
		if i == 5 {
			out = append(out, ' ')
		}
		if i < 3 || i >= len(d)-3 {
			out = append(out, c)
		} else {
			out = append(out, '*')
		}
	}
	return string(out)
}
