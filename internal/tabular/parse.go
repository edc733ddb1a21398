package tabular

import (
	"bytes"
	"fmt"
	"io"
)

// Reasons for rows whose quoting is broken. They are shown to retailers, so
// they say what to look for rather than name parser states.
const (
	reasonBareQuote  = `quote (") inside a value that does not start with a quote`
	reasonAfterQuote = `unexpected text after the closing quote of a quoted value`
	reasonUnclosed   = `quoted value is never closed`
)

// readRecord parses the next non-blank record into r.buf and r.ends (field i
// is r.buf[r.ends[i-1]:r.ends[i]]) and returns the line it starts on. A
// *RowError means the record was unusable but the reader can go on; any other
// error ends reading.
func (r *Reader) readRecord() (int, error) {
	line, err := r.src.next()
	for err == nil && isBlank(line) {
		line, err = r.src.next()
	}
	if err == errLineTooLong {
		return r.src.line, &RowError{Row: r.src.line, Reason: fmt.Sprintf("line is longer than %d bytes", r.src.maxLine)}
	}
	if err != nil {
		return 0, err
	}
	start := r.src.line
	r.buf, r.ends, r.cont = r.buf[:0], r.ends[:0], r.cont[:0]
	inQuote := false
	for {
		var reason string
		inQuote, reason = r.parseLine(trimEOL(line), inQuote)
		if reason != "" {
			return start, r.quoteError(start, reason)
		}
		if !inQuote {
			return start, nil
		}
		r.buf = append(r.buf, '\n') // CRLF inside quotes becomes "\n", as in encoding/csv
		line, err = r.src.next()
		switch {
		case err == io.EOF:
			return start, r.quoteError(start, reasonUnclosed)
		case err == errLineTooLong:
			// The long line is already gone, so the lines before it cannot be
			// replayed with correct numbers; report the whole span instead.
			return start, &RowError{Row: start, Reason: fmt.Sprintf(
				"%s; line %d is longer than %d bytes; lines %d-%d skipped",
				reasonUnclosed, r.src.line, r.src.maxLine, start, r.src.line)}
		case err != nil:
			return 0, err
		}
		r.cont = append(r.cont, line...)
		if len(r.cont) > r.maxRecord {
			return start, r.quoteError(start, fmt.Sprintf("quoted value is not closed within %d bytes", r.maxRecord))
		}
	}
}

// quoteError reports broken quoting in the field being parsed. Such a record
// is taken to be its first line only: the most common cause is one stray
// quote, and the lines it swallowed are usually good rows, so they are
// handed back to be parsed again. Each error still consumes at least the
// starting line, so reading always progresses. Replaying costs no more than
// one extra pass: between correctly parsed quotes the open/closed state is
// the parity of the quotes seen, so a fresh parse starting on any replayed
// line but the last is out of quotes at that line's end, the opposite of the
// failed parse, and cannot itself run on across the replayed lines.
func (r *Reader) quoteError(start int, reason string) *RowError {
	e := &RowError{Row: start, Column: r.column(len(r.ends)), Reason: reason}
	if len(r.cont) > 0 {
		r.src.pushBack(r.cont, start)
		r.cont = r.cont[:0]
	}
	return e
}

// parseLine splits one physical line (without terminator) into fields,
// appending them to r.buf and r.ends. inQuote says the line continues a
// quoted value. It returns whether the line ends inside a quoted value, or the
// reason the quoting is broken; the field at fault is then number len(r.ends).
// Quoting is strict RFC 4180: lenient parsing would silently merge or split
// values, and a wrong phone number imported is worse than a reported row.
func (r *Reader) parseLine(b []byte, inQuote bool) (bool, string) {
	d := r.delim
	if !inQuote && bytes.IndexByte(b, '"') < 0 {
		// Fast path: most lines of most files contain no quotes at all.
		for {
			i := bytes.IndexByte(b, d)
			if i < 0 {
				r.buf = append(r.buf, b...)
				r.ends = append(r.ends, len(r.buf))
				return false, ""
			}
			r.buf = append(r.buf, b[:i]...)
			r.ends = append(r.ends, len(r.buf))
			b = b[i+1:]
		}
	}
	for {
		if inQuote {
			i := bytes.IndexByte(b, '"')
			if i < 0 {
				r.buf = append(r.buf, b...)
				return true, ""
			}
			r.buf = append(r.buf, b[:i]...)
			b = b[i+1:]
			if len(b) > 0 && b[0] == '"' { // "" is an escaped quote
				r.buf = append(r.buf, '"')
				b = b[1:]
				continue
			}
			if len(b) > 0 && b[0] != d {
				return false, reasonAfterQuote
			}
			inQuote = false
			r.ends = append(r.ends, len(r.buf))
			if len(b) == 0 {
				return false, ""
			}
			b = b[1:] // the delimiter; an empty rest is an empty last field
			continue
		}
		if len(b) > 0 && b[0] == '"' {
			inQuote = true
			b = b[1:]
			continue
		}
		f := b
		i := bytes.IndexByte(b, d)
		if i >= 0 {
			f = b[:i]
		}
		if bytes.IndexByte(f, '"') >= 0 {
			return false, reasonBareQuote
		}
		r.buf = append(r.buf, f...)
		r.ends = append(r.ends, len(r.buf))
		if i < 0 {
			return false, ""
		}
		b = b[i+1:]
	}
}

// trimEOL removes the line terminator: "\n", "\r\n", or a lone "\r" at the
// very end of the input (encoding/csv drops that one too).
func trimEOL(b []byte) []byte {
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	if n := len(b); n > 0 && b[n-1] == '\r' {
		b = b[:n-1]
	}
	return b
}

// isBlank reports a line with nothing but its terminator. A line of only
// delimiters is not blank: it is a row of empty values for callers to judge.
func isBlank(b []byte) bool { return len(trimEOL(b)) == 0 }
