package keyword

import (
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// foldGroups lists the accented Latin capitals folded to plain ASCII, enough
// for Western European languages. Letters are upper-cased before they are
// folded, so lower-case forms need no entry of their own; ß has no one-rune
// capital, so it is listed as itself.
var foldGroups = [...]struct{ from, to string }{
	{"ÀÁÂÃÄÅĀ", "A"},
	{"Ç", "C"},
	{"ÈÉÊËĒ", "E"},
	{"ÌÍÎÏĪİ", "I"},
	{"Ñ", "N"},
	{"ÒÓÔÕÖØŌ", "O"},
	{"ÙÚÛÜŪ", "U"},
	{"ÝŸ", "Y"},
	{"Æ", "AE"},
	{"Œ", "OE"},
	{"ßẞ", "SS"},
}

// fold maps each rune of foldGroups to its ASCII spelling.
var fold = func() map[rune]string {
	m := make(map[rune]string)
	for _, g := range foldGroups {
		for _, r := range g.from {
			m[r] = g.to
		}
	}
	return m
}()

// appendFolded appends the normalised spelling of the letter or digit r.
// Compatibility forms are read as what they stand for (NFKC): full-width
// "ＳＴＯＰ", mathematical "𝐒𝐓𝐎𝐏", circled "Ⓢ" and ligatures such as "ﬆ"
// are the letters they look like, so a STOP typed with them is honoured.
func appendFolded(buf []byte, r rune) []byte {
	if r < utf8.RuneSelf { // the common case, kept off the map
		if 'a' <= r && r <= 'z' {
			r -= 'a' - 'A'
		}
		return append(buf, byte(r))
	}
	var one [utf8.UTFMax]byte
	var nfkc [32]byte
	start := len(buf)
	for _, c := range string(norm.NFKC.Append(nfkc[:0], utf8.AppendRune(one[:0], r)...)) {
		switch {
		case c < utf8.RuneSelf:
			if 'a' <= c && c <= 'z' {
				c -= 'a' - 'A'
			}
			if 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' {
				buf = append(buf, byte(c))
			}
		case unicode.Is(unicode.Mn, c):
			// A combining mark the expansion brought (U+037A gives " \u0345").
		case unicode.IsLetter(c) || unicode.IsDigit(c):
			buf = appendUpper(buf, c)
		}
	}
	if len(buf) == start {
		// A letter whose compatibility form is no letter at all stays itself.
		buf = appendUpper(buf, r)
	}
	return buf
}

// appendUpper appends the upper case of r, accents folded.
func appendUpper(buf []byte, r rune) []byte {
	r = unicode.ToUpper(r)
	if s, ok := fold[r]; ok {
		return append(buf, s...)
	}
	return utf8.AppendRune(buf, r)
}

// isWordRune reports whether r belongs to a word: a letter or a digit, or a
// compatibility form of one (circled letters are symbols, not letters).
func isWordRune(r rune) bool {
	if unicode.IsLetter(r) || unicode.IsDigit(r) {
		return true
	}
	if r < utf8.RuneSelf {
		return false
	}
	var one [utf8.UTFMax]byte
	var nfkc [32]byte
	decomposed := norm.NFKC.Append(nfkc[:0], utf8.AppendRune(one[:0], r)...)
	if string(decomposed) == string(r) {
		return false
	}
	for _, c := range string(decomposed) {
		if !unicode.IsLetter(c) && !unicode.IsDigit(c) {
			return false
		}
	}
	return true
}

// word is one word of a message: where it lies in the original text, so Args
// can be cut from it, and where its normalised form lies in the scan buffer.
type word struct {
	start, end int // byte offsets in the message
	n0, n1     int // byte offsets of the normalised form in the buffer
}

// scan normalises up to max words of s (all of them if max < 0), appending
// them to buf separated by single spaces so two adjacent words read as a
// two-word alias without copying. A word is a run of letters and digits;
// everything else (spaces, punctuation, hyphens, quotes, emoji, invalid
// bytes) separates words.
func scan(s string, buf []byte, words []word, max int) ([]byte, []word) {
	in := false
	var w word
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case size == 1 && r == utf8.RuneError:
			// An invalid byte separates words, like any non-letter.
		case isWordRune(r):
			if !in {
				if len(words) == max {
					return buf, words
				}
				if len(words) > 0 {
					buf = append(buf, ' ')
				}
				w, in = word{start: i, n0: len(buf)}, true
			}
			buf = appendFolded(buf, r)
			w.end = i + size
			i += size
			continue
		case in && unicode.Is(unicode.Mn, r):
			// A combining accent (decomposed "jo\u0301in") stays in the word
			// but not in its normalised form, so it folds like "jóin".
			w.end = i + size
			i += size
			continue
		}
		if in {
			w.n1 = len(buf)
			words = append(words, w)
			in = false
		}
		i += size
	}
	if in {
		w.n1 = len(buf)
		words = append(words, w)
	}
	return buf, words
}

// Normalize returns the words of s as Parse sees them when matching:
// upper-cased, accents folded, split on anything that is not a letter or a
// digit. "  Opt-Out!! " gives ["OPT" "OUT"]; a text with no letters or
// digits gives none.
func Normalize(s string) []string {
	buf, words := scan(s, nil, nil, -1)
	if len(words) == 0 {
		return nil
	}
	out := make([]string, len(words))
	for i, w := range words {
		out[i] = string(buf[w.n0:w.n1])
	}
	return out
}
