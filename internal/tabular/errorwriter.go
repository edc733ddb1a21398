package tabular

import (
	"encoding/csv"
	"io"
	"strconv"
)

// ErrorWriter writes the errors file returned to the retailer: CSV with the
// header "row,column,reason" and one line per RowError, in the order written.
// Output is buffered; call Flush at the end and check its error.
type ErrorWriter struct {
	w       *csv.Writer
	started bool
	rec     [3]string // reused: csv.Writer does not keep the slice
}

// NewErrorWriter returns an ErrorWriter writing to w.
func NewErrorWriter(w io.Writer) *ErrorWriter {
	return &ErrorWriter{w: csv.NewWriter(w)}
}

// Continue makes w go on with a file whose header is written already (a
// job resumed after a restart appends to its errors file).
func (w *ErrorWriter) Continue() { w.started = true }

// Write appends one error. A nil error is ignored. Write errors may only
// surface at Flush, because output is buffered.
func (w *ErrorWriter) Write(e *RowError) error {
	if err := w.start(); err != nil {
		return err
	}
	if e == nil {
		return nil
	}
	w.rec = [3]string{strconv.Itoa(e.Row), Defuse(e.Column), Defuse(e.Reason)}
	return w.w.Write(w.rec[:])
}

// Flush writes any buffered data, and the header if nothing was written, so
// an import without errors still yields a well-formed file.
func (w *ErrorWriter) Flush() error {
	if err := w.start(); err != nil {
		return err
	}
	w.w.Flush()
	return w.w.Error()
}

func (w *ErrorWriter) start() error {
	if w.started {
		return nil
	}
	w.started = true
	return w.w.Write([]string{"row", "column", "reason"})
}

// Defuse stops a spreadsheet from running a cell as a formula (CSV
// injection): a cell that starts with =, +, -, @, a tab or a carriage return
// gets a leading apostrophe, which is what Excel itself uses to mark text.
// Names, tags, reasons and offer texts can echo what a shopper or a file
// typed, and the files Perk writes are opened in Excel. A cell that is a
// plain number ("+447700900123", "-350", "2.5") is left as it is: a
// spreadsheet reads it as the number it is and runs nothing, and a machine
// reading the file must get the same digits.
func Defuse(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		if !plainNumber(s) {
			return "'" + s
		}
	}
	return s
}

// plainNumber reports whether s is an optional sign, digits, and optionally
// a decimal point and more digits.
func plainNumber(s string) bool {
	if s[0] == '+' || s[0] == '-' {
		s = s[1:]
	}
	digits, point := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case '0' <= c && c <= '9':
			digits++
		case c == '.' && !point && digits > 0 && i < len(s)-1:
			point = true
		default:
			return false
		}
	}
	return digits > 0
}

// DefuseAll is Defuse on every cell of rec, in place; it returns rec.
func DefuseAll(rec []string) []string {
	for i, c := range rec {
		rec[i] = Defuse(c)
	}
	return rec
}
