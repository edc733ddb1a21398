package tabular

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// delimiters lists the candidates in tie-break order.
var delimiters = [...]byte{',', '\t', ';', '|'}

// sniffDelimiter picks the candidate occurring most often outside quotes in
// line. Counting bytes is safe for UTF-8 because the candidates are ASCII
// and never occur inside a multi-byte sequence. An escaped quote ("") toggles
// twice, so it needs no special case.
func sniffDelimiter(line []byte) byte {
	var counts [len(delimiters)]int
	inQuote := false
	for _, c := range line {
		if c == '"' {
			inQuote = !inQuote
			continue
		}
		if inQuote {
			continue
		}
		for i, d := range delimiters {
			if c == d {
				counts[i]++
			}
		}
	}
	best := 0
	for i := range counts {
		if counts[i] > counts[best] {
			best = i
		}
	}
	return delimiters[best]
}

// setHeader turns the record just parsed into the column names.
func (r *Reader) setHeader() error {
	prev := 0
	for _, end := range r.ends {
		r.raw = append(r.raw, strings.TrimSpace(string(r.buf[prev:end])))
		prev = end
	}
	for len(r.raw) > 0 && r.raw[len(r.raw)-1] == "" {
		r.raw = r.raw[:len(r.raw)-1]
	}
	if len(r.raw) == 0 {
		return ErrNoHeader
	}
	r.header = make([]string, len(r.raw))
	r.cols = make(map[string]int, len(r.raw))
	for i, name := range r.raw {
		if !utf8.ValidString(name) {
			return &HeaderError{Reason: fmt.Sprintf("column %d name is not valid UTF-8 (save the file as CSV UTF-8)", i+1)}
		}
		if name == "" {
			// Such a column could not be referred to, and silently
			// ignoring it could drop data the retailer meant to import.
			return &HeaderError{Reason: fmt.Sprintf("column %d has no name", i+1)}
		}
		n := normalise(name)
		if j, dup := r.cols[n]; dup {
			return &HeaderError{
				Columns: []string{r.raw[j], name},
				Reason:  fmt.Sprintf("columns %d (%q) and %d (%q) both normalise to %q", j+1, r.raw[j], i+1, name, n),
			}
		}
		r.header[i] = n
		r.cols[n] = i
	}
	return nil
}

// normalise makes header names independent of the CRM's cosmetic choices:
// "First Name", "first-name" and " FIRST NAME " all become "first_name".
// Other punctuation is kept, so "phone #" and "phone" stay distinct.
func normalise(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	sep := false
	for _, c := range strings.ToLower(strings.TrimSpace(name)) {
		if c == '-' || unicode.IsSpace(c) {
			sep = true
			continue
		}
		if sep {
			b.WriteByte('_')
			sep = false
		}
		b.WriteRune(c)
	}
	if sep {
		b.WriteByte('_') // a trailing hyphen; spaces were trimmed
	}
	return b.String()
}
