package gsm

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrNotGSM7 reports text that cannot be written in the GSM 7-bit default
// alphabet, or septets that are not valid 7-bit values. Errors returned by
// EncodeGSM7 and DecodeGSM7 wrap it with the position of the problem.
var ErrNotGSM7 = errors.New("gsm: not GSM 03.38 7-bit")

// EncodeGSM7 maps s to unpacked septets (one byte per septet, value 0..127,
// ESC=0x1B before extension chars). The error wraps ErrNotGSM7 and names the
// first rune that is not encodable and its byte offset in s.
func EncodeGSM7(s string) ([]byte, error) {
	n, ok := Septets(s)
	if !ok {
		for i, r := range s {
			if lookup(r) == 0 {
				if r == utf8.RuneError {
					return nil, fmt.Errorf("%w: invalid UTF-8 or U+FFFD at byte offset %d", ErrNotGSM7, i)
				}
				return nil, fmt.Errorf("%w: rune %q (%U) at byte offset %d", ErrNotGSM7, r, r, i)
			}
		}
	}
	return encodeGSM7(s, n), nil
}

// encodeGSM7 returns the n septets of s, which the caller has checked is
// encodable.
func encodeGSM7(s string, n int) []byte {
	out := make([]byte, n)
	i := 0
	for _, r := range s {
		i += putSeptets(out[i:], lookup(r))
	}
	return out
}

// putSeptets writes the septets of encoder entry v to b: ESC first for an
// extension character. It returns how many it wrote.
func putSeptets(b []byte, v uint16) int {
	if v&inExtension != 0 {
		b[0], b[1] = esc, byte(v&0x7F)
		return 2
	}
	b[0] = byte(v & 0x7F)
	return 1
}

// DecodeGSM7 maps unpacked septets back to a string.
//
// ESC followed by a septet the extension table leaves undefined decodes as
// that septet's basic-table character, as TS 23.038 section 6.2.1.1 tells a
// receiving entity to display it; that includes CR2 (ESC 0x0D), a control
// with no defined display, which so decodes as CR. ESC ESC decodes as a space: the extension
// table reserves 0x1B for a further table and says to display a space until
// one is defined. A trailing lone ESC is dropped, since the character it
// announced was lost (typically cut off by the sender).
//
// Values above 127 cannot come from a 7-bit alphabet, so they are an error
// wrapping ErrNotGSM7 with their index. It never panics.
func DecodeGSM7(septets []byte) (string, error) {
	var b strings.Builder
	b.Grow(len(septets))
	for i := 0; i < len(septets); i++ {
		c := septets[i]
		if c > 0x7F {
			return "", fmt.Errorf("%w: septet value 0x%02X at index %d", ErrNotGSM7, c, i)
		}
		if c != esc {
			b.WriteRune(basic[c])
			continue
		}
		if i+1 == len(septets) {
			break // trailing lone ESC
		}
		i++
		c = septets[i]
		switch {
		case c > 0x7F:
			return "", fmt.Errorf("%w: septet value 0x%02X at index %d", ErrNotGSM7, c, i)
		case extension[c] != noRune:
			b.WriteRune(extension[c])
		case c == esc:
			b.WriteByte(' ')
		default:
			b.WriteRune(basic[c])
		}
	}
	return b.String(), nil
}
