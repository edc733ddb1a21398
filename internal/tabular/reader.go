package tabular

import (
	"bytes"
	"fmt"
	"io"
	"unicode/utf8"
)

// Limits that bound memory whatever the input. They are far above anything a
// member file needs; hitting one means the file is broken, and the reader
// reports the affected rows and goes on.
const (
	defaultMaxLine   = 1 << 20 // bytes in one physical line
	defaultMaxRecord = 1 << 20 // bytes a quoted value may span beyond its first line
)

// Reader streams records from a delimited file with a header row. It holds
// at most one record (plus the limits above) in memory, however long the
// file. A Reader is not safe for concurrent use.
type Reader struct {
	src       lineSource
	maxRecord int
	delim     byte
	raw       []string       // header names as written
	header    []string       // normalised header names
	cols      map[string]int // normalised name -> index, shared with Records

	buf  []byte // values of the current record, back to back
	ends []int  // end offset in buf of each value
	cont []byte // raw lines after the first of the current record, for replay
	err  error  // sticky io.EOF or I/O error
}

// NewReader sniffs the delimiter and reads the header. It accepts UTF-8 with
// or without a BOM.
//
// The delimiter is whichever of ',', '\t', ';' and '|' occurs most often
// outside quotes on the first physical line; ties go to the earlier one in
// that list, so to ',' whenever it is among them. Header names are trimmed,
// lower-cased, and runs of spaces or hyphens become one '_' ("First Name" ->
// "first_name", "E-mail" -> "e_mail"). Empty names at the end of the header
// are dropped, since Excel pads rows with delimiters.
//
// Errors: ErrNoHeader if the input is empty or starts with a blank line,
// ErrUnsupportedEncoding for UTF-16, *HeaderError for an unusable header
// (duplicate normalised names, an empty name between others, invalid UTF-8,
// broken quoting), or the error of r.
func NewReader(r io.Reader) (*Reader, error) {
	return newReader(r, defaultMaxLine, defaultMaxRecord)
}

// newReader lets tests exercise the limits with small inputs.
func newReader(r io.Reader, maxLine, maxRecord int) (*Reader, error) {
	rd := &Reader{src: newLineSource(r, maxLine), maxRecord: maxRecord}
	first, err := rd.src.next()
	switch {
	case err == io.EOF:
		return nil, ErrNoHeader
	case err == errLineTooLong:
		return nil, &HeaderError{Reason: fmt.Sprintf("line is longer than %d bytes", maxLine)}
	case err != nil:
		return nil, err
	}
	if bytes.HasPrefix(first, []byte{0xFF, 0xFE}) || bytes.HasPrefix(first, []byte{0xFE, 0xFF}) {
		return nil, ErrUnsupportedEncoding
	}
	first = bytes.TrimPrefix(first, []byte("\uFEFF"))
	if isBlank(first) {
		return nil, ErrNoHeader
	}
	rd.delim = sniffDelimiter(first)
	// The header goes through the normal record parser, so a quoted name
	// spanning lines is numbered like any other record.
	rd.src.pushBack(first, 0)
	if _, err := rd.readRecord(); err != nil {
		if re, ok := err.(*RowError); ok {
			return nil, &HeaderError{Reason: re.Reason}
		}
		return nil, err
	}
	if err := rd.setHeader(); err != nil {
		return nil, err
	}
	return rd, nil
}

// Delimiter returns the sniffed delimiter.
func (r *Reader) Delimiter() rune { return rune(r.delim) }

// Header returns the normalised column names in file order. The slice is a
// copy.
func (r *Reader) Header() []string { return append([]string(nil), r.header...) }

// RawHeader returns the column names as written in the file, without BOM and
// surrounding space. The slice is a copy.
func (r *Reader) RawHeader() []string { return append([]string(nil), r.raw...) }

// Next returns the next record, or io.EOF after the last one.
//
// A malformed row (too few fields, non-empty fields beyond the header, broken
// quoting, invalid UTF-8) yields a *RowError, and the following call goes on
// with the next row: log it and continue. Only a *RowError is recoverable; any
// other error is returned again by every later call. Blank lines are skipped;
// values are not trimmed. Empty fields beyond the header are dropped, since
// Excel writes trailing delimiters.
func (r *Reader) Next() (Record, error) {
	if r.err != nil {
		return Record{}, r.err
	}
	start, err := r.readRecord()
	if err != nil {
		if _, ok := err.(*RowError); !ok {
			r.err = err
		}
		return Record{}, err
	}
	if err := r.check(start); err != nil {
		return Record{}, err
	}
	// One string for the whole row keeps allocations at two per record; the
	// values are substrings of it.
	h := len(r.header)
	s := string(r.buf[:r.ends[h-1]])
	fields := make([]string, h)
	prev := 0
	for i, end := range r.ends[:h] {
		fields[i] = s[prev:end]
		prev = end
	}
	return Record{Row: start, Fields: fields, cols: r.cols}, nil
}

// check validates the parsed record's shape and encoding.
func (r *Reader) check(start int) *RowError {
	n, h := len(r.ends), len(r.header)
	if n < h || (n > h && r.ends[n-1] != r.ends[h-1]) {
		reason := fmt.Sprintf("row has %d fields, header has %d", n, h)
		if len(r.cont) > 0 {
			reason += fmt.Sprintf(" (a quoted value runs from line %d to %d; check for an unbalanced quote)", start, r.src.line)
		}
		return &RowError{Row: start, Reason: reason}
	}
	prev := 0
	for i, end := range r.ends[:h] {
		if !utf8.Valid(r.buf[prev:end]) {
			return &RowError{Row: start, Column: r.header[i], Reason: "value is not valid UTF-8 (save the file as CSV UTF-8)"}
		}
		prev = end
	}
	return nil
}

// column names field i for error reports; fields beyond the header have none.
func (r *Reader) column(i int) string {
	if i < len(r.header) {
		return r.header[i]
	}
	return ""
}
