package gsm

import (
	"strings"
	"unicode/utf8"
)

// The UTF-16 surrogate ranges (RFC 2781). unicode/utf16 has the same
// constants but not exported, and decoding here works on bytes directly to
// avoid an intermediate []uint16.
const (
	surrHigh = 0xD800 // first high (leading) surrogate
	surrLow  = 0xDC00 // first low (trailing) surrogate
	surrEnd  = 0xE000 // one past the last low surrogate
	surrBase = 0x10000
)

// ucs2Units returns the number of UTF-16 code units s encodes to: runes
// outside the Basic Multilingual Plane take a surrogate pair. Invalid UTF-8
// counts one unit per bad byte, each becoming U+FFFD.
func ucs2Units(s string) int {
	n := 0
	for _, r := range s {
		n += ucs2Width(r)
	}
	return n
}

func ucs2Width(r rune) int {
	if r >= surrBase {
		return 2
	}
	return 1
}

// EncodeUCS2 returns UTF-16BE bytes: surrogate pairs for runes outside the
// BMP, so an emoji is 2 UTF-16 units = 4 bytes. Strictly that is UTF-16, not
// UCS-2, but it is what SMSCs and handsets expect for data_coding 0x08.
// Invalid UTF-8 bytes are encoded as U+FFFD.
func EncodeUCS2(s string) []byte {
	return encodeUCS2(s, ucs2Units(s))
}

// encodeUCS2 returns the encoding of s, which takes n UTF-16 units.
func encodeUCS2(s string, n int) []byte {
	out := make([]byte, 2*n)
	i := 0
	for _, r := range s {
		i += putUTF16(out[i:], r)
	}
	return out
}

// putUTF16 writes r to b as UTF-16BE, a surrogate pair outside the BMP, and
// returns the number of bytes written.
func putUTF16(b []byte, r rune) int {
	if r >= surrBase {
		r -= surrBase
		hi, lo := surrHigh+(r>>10), surrLow+(r&0x3FF)
		b[0], b[1], b[2], b[3] = byte(hi>>8), byte(hi), byte(lo>>8), byte(lo)
		return 4
	}
	b[0], b[1] = byte(r>>8), byte(r)
	return 2
}

// DecodeUCS2 reverses EncodeUCS2. Inbound data is untrusted, so an odd
// trailing byte or an unpaired surrogate decodes as U+FFFD instead of
// failing; it never panics.
func DecodeUCS2(b []byte) string {
	var sb strings.Builder
	sb.Grow(len(b) / 2 * 3) // BMP runes take at most 3 UTF-8 bytes
	for i := 0; i+1 < len(b); i += 2 {
		u := rune(b[i])<<8 | rune(b[i+1])
		switch {
		case u < surrHigh || u >= surrEnd:
			sb.WriteRune(u)
		case u < surrLow && i+3 < len(b):
			lo := rune(b[i+2])<<8 | rune(b[i+3])
			if lo >= surrLow && lo < surrEnd {
				sb.WriteRune(surrBase + (u-surrHigh)<<10 + (lo - surrLow))
				i += 2
				continue
			}
			sb.WriteRune(utf8.RuneError) // high surrogate not followed by a low one
		default:
			sb.WriteRune(utf8.RuneError) // lone low surrogate, or high at the end
		}
	}
	if len(b)%2 == 1 {
		sb.WriteRune(utf8.RuneError)
	}
	return sb.String()
}
