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
	w.rec = [3]string{strconv.Itoa(e.Row), defuse(e.Column), defuse(e.Reason)}
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

// defuse stops a spreadsheet from running a cell as a formula (CSV
// injection). Column names and reasons can echo text from the imported file,
// and the errors file is meant to be opened in Excel. A leading apostrophe
// is what Excel itself uses to mark text.
func defuse(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
