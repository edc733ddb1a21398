// Package tabular reads delimited text files (CSV, TSV, semicolon or pipe
// separated) row by row, and writes the errors file that goes back to the
// retailer.
//
// It exists for member imports: CRM exports of up to millions of rows, often
// produced by Excel and often slightly broken. The reader therefore streams
// with bounded memory, never lets one bad row stop an import, and reports
// every problem with the physical line number a person can find in an editor.
// What a value means (phones, e-mails, dates) is decided by the callers.
package tabular

import (
	"errors"
	"strconv"
)

// ErrNoHeader is returned by NewReader when the input is empty or its first
// line is blank, so there is no header naming the columns.
var ErrNoHeader = errors.New("tabular: file has no header row")

// ErrUnsupportedEncoding is returned by NewReader for UTF-16 input, which is
// what Excel writes for "Unicode Text". Reading it as UTF-8 would report every
// row as invalid, so the import is refused with a message the retailer can act
// on instead.
var ErrUnsupportedEncoding = errors.New("tabular: file is UTF-16 encoded; save it as CSV UTF-8")

// RowError describes one rejected row. Next returns it for rows the reader
// cannot use; callers create their own for values they reject, so that both
// end up in the same errors file.
type RowError struct {
	Row    int    // 1-based physical line on which the record starts
	Column string // normalised header name, or "" when the whole row is at fault
	Reason string // human-readable, shown to the retailer
}

// Error formats the error as "row 7, column phone: too short", or
// "row 7: row has 3 fields, header has 5" when no column applies.
func (e *RowError) Error() string {
	s := "row " + strconv.Itoa(e.Row)
	if e.Column != "" {
		s += ", column " + e.Column
	}
	return s + ": " + e.Reason
}

// HeaderError is returned by NewReader when the header row cannot be used,
// for example because two columns normalise to the same name. The import
// cannot proceed without knowing the columns, unlike with a RowError.
type HeaderError struct {
	Columns []string // raw names of the offending columns, when there are any
	Reason  string
}

// Error returns the reason prefixed with "tabular: header: ".
func (e *HeaderError) Error() string { return "tabular: header: " + e.Reason }

// Record is one data row.
type Record struct {
	// Row is the 1-based physical line on which the record starts. The header
	// is row 1, blank lines count, and a quoted value spanning lines advances
	// the numbering of the records after it, so the number matches what the
	// retailer sees in a text editor.
	Row int
	// Fields holds one value per header column, untrimmed. The slice is newly
	// allocated for every record and may be kept or modified by the caller.
	Fields []string

	// cols is shared, read-only, by all records of one Reader; it lets Get
	// work without the caller threading the Reader through its code.
	cols map[string]int
}

// Get returns the value for a normalised column name (as listed by
// Reader.Header) and whether the column exists. The zero Record has no
// columns.
func (rec Record) Get(col string) (string, bool) {
	i, ok := rec.cols[col]
	if !ok || i >= len(rec.Fields) {
		return "", false
	}
	return rec.Fields[i], true
}
