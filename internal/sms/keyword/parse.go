package keyword

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// maxArgs is the most bytes of Args Parse returns: one single-part SMS
// worth, far more than any name, and a safe bound for storing it.
const maxArgs = 160

// maxWords is how many words Parse reads: room for four words of polite
// filler before a two-word STOP alias ("PLEASE THANK YOU OPT OUT").
const maxWords = 6

// Parse recognises the keyword of msg. The first two words are tried as a
// two-word alias, then the first word alone; either may also match an alias
// written with or without the space ("OPTOUT" and "OPT OUT"). A STOP alias
// is looked for first and wins: as the first word with anything after it
// ("STOP sending these"), or after polite filler ("please stop"). Matching is
// whole-word, so "STOPPED" is not STOP.
//
// Args is the rest of msg after the matched words and the punctuation right
// after them, trimmed, in its original case; a message that matches nothing
// is Unknown with the whole trimmed msg as Args. Args is always a substring
// of msg, at most 160 bytes, cut on a rune boundary. Parse never panics;
// invalid UTF-8 bytes separate words like punctuation does.
func (t *Table) Parse(msg string) Match {
	var (
		nbuf  [64]byte
		wbuf  [maxWords]word
		key   [64]byte
		found entry
		n     int
	)
	buf, words := scan(msg, nbuf[:0], wbuf[:0], maxWords)
	if t != nil && len(words) > 0 {
		found, n = t.stop(buf, words, key[:0])
		if n == 0 {
			found, n = t.at(buf, words, key[:0])
		}
	}
	if n == 0 {
		return Match{Args: clip(strings.TrimSpace(msg))}
	}
	return Match{Keyword: found.k, Alias: found.alias, Args: args(msg, words[n-1].end)}
}

// stop finds a STOP alias as the first word or pair of words, or after
// polite filler. It reports the alias and how many words it used up,
// filler included, or zero words if there is none. A STOP in the first word
// beats a two-word alias for another keyword that begins with it.
func (t *Table) stop(buf []byte, words []word, key []byte) (entry, int) {
	for i := 0; i < len(words) && i+2 <= maxWords; {
		if e, n := t.at(buf, words[i:], key); n > 0 && e.k == Stop {
			return e, i + n
		}
		if e, ok := t.find(buf[words[i].n0:words[i].n1], nil); ok && e.k == Stop {
			return e, i + 1
		}
		f := filler(buf, words[i:])
		if f == 0 {
			break
		}
		i += f
	}
	return entry{}, 0
}

// filler reports how many of the leading words are polite filler, which
// may come before a STOP alias: "please stop", "thank you, unsubscribe".
func filler(buf []byte, words []word) int {
	switch string(buf[words[0].n0:words[0].n1]) {
	case "PLEASE", "NOW", "THANKS":
		return 1
	case "THANK":
		if len(words) > 1 && string(buf[words[1].n0:words[1].n1]) == "YOU" {
			return 2
		}
	}
	return 0
}

// at matches an alias at the start of words: the first two words as a
// two-word alias, else the first word. It reports the alias and how many
// words it used, or zero words if none matched.
func (t *Table) at(buf []byte, words []word, key []byte) (entry, int) {
	if len(words) >= 2 {
		w0, w1 := words[0], words[1]
		key = append(append(key[:0], buf[w0.n0:w0.n1]...), buf[w1.n0:w1.n1]...)
		if e, ok := t.find(buf[w0.n0:w1.n1], key); ok {
			return e, 2
		}
	}
	if e, ok := t.find(buf[words[0].n0:words[0].n1], nil); ok {
		return e, 1
	}
	return entry{}, 0
}

// find looks up a normalised alias as written, then with its words run
// together; joined is nil when it is the same as spaced (one word).
func (t *Table) find(spaced, joined []byte) (entry, bool) {
	if e, ok := t.alias[string(spaced)]; ok {
		return e, true
	}
	if joined == nil {
		joined = spaced
	}
	e, ok := t.joined[string(joined)]
	return e, ok
}

// args cuts Args from msg after byte offset end, where the match finished:
// separators and punctuation up to the next letter or digit are dropped,
// and so is a closing quote when the whole message was quoted.
func args(msg string, end int) string {
	rest := strings.TrimLeftFunc(msg[end:], func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	rest = strings.TrimRightFunc(rest, unicode.IsSpace)
	open, _ := utf8.DecodeRuneInString(strings.TrimSpace(msg))
	if c, ok := closers[open]; ok {
		rest = strings.TrimSpace(strings.TrimSuffix(rest, c))
	}
	return clip(rest)
}

// closers pairs the quotes a message may be wrapped in with their closing
// quote, so `"JOIN Ann"` gives the name Ann, not `Ann"`.
var closers = map[rune]string{'"': `"`, '\'': "'", '“': "”", '‘': "’", '«': "»", '„': "“"}

// clip shortens s to at most maxArgs bytes without splitting a rune.
func clip(s string) string {
	if len(s) <= maxArgs {
		return s
	}
	n := 0
	for n < len(s) {
		_, size := utf8.DecodeRuneInString(s[n:])
		if n+size > maxArgs {
			break
		}
		n += size
	}
	return strings.TrimRightFunc(s[:n], unicode.IsSpace)
}
