// Package batch is Perk's managed-service guise: the files a retailer
// without a live till connection exchanges with Perk. Transaction files
// (CSV or JSON Lines) come in and every basket in them goes through the
// same checkout path as a live till's; offer files go out for the tills to
// pre-load. It reads and writes files and streams; the rules themselves stay
// in checkout and campaign.
package batch

import (
	"fmt"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/outfile"
)

// Format is a transaction or offer file's format.
type Format = outfile.Format

// Formats.
const (
	CSV   = outfile.CSV
	JSONL = outfile.JSONL
)

// ParseFormat reads a --format value or a file extension.
func ParseFormat(s string) (Format, error) {
	switch strings.ToLower(strings.TrimPrefix(s, ".")) {
	case "csv", "txt":
		return CSV, nil
	case "jsonl", "ndjson", "json":
		return JSONL, nil
	}
	return "", fmt.Errorf("format %q: want csv or jsonl", s)
}

// Mode says who decides a transaction file's benefits.
type Mode string

// Modes.
const (
	// Decide: Perk decides each basket's benefits as if the till had been
	// live at the time of the sale.
	Decide Mode = "decide"
	// Applied: the till already gave offers from an exported offer file;
	// Perk records what it gave and lists what broke a rule.
	Applied Mode = "applied"
)

// ParseMode reads a --mode value; "" is Decide.
func ParseMode(s string) (Mode, error) {
	switch Mode(strings.ToLower(s)) {
	case "", Decide:
		return Decide, nil
	case Applied:
		return Applied, nil
	}
	return "", fmt.Errorf("mode %q: want decide or applied", s)
}

// Kind is what a transaction record does.
type Kind string

// Kinds of record.
const (
	Sale   Kind = "sale"
	Return Kind = "return"
	Void   Kind = "void"
)

// Record is one transaction of a file: a sale (with the offers the till
// applied, if any), a return or a void. Exactly one of Sale, Return and
// Void is set, as Kind says.
type Record struct {
	Kind Kind
	Row  int       // the file row (CSV line, JSON Lines line) the record starts on
	At   time.Time // when the till did it; zero = when the file is processed
	Sale *checkout.Request
	// Given lists the offers the till applied itself (applied mode).
	Given  []checkout.Given
	Return *checkout.ReturnRequest
	Void   *checkout.VoidRequest

	// itemRows is the file row of each sale item (CSV: one row per line),
	// so an error in items[i] names its own row.
	itemRows []int
}

// key identifies a record for grouping and for the results file.
func (r *Record) key() (store, txn string) {
	switch r.Kind {
	case Return:
		return r.Return.Store, r.Return.TransactionID
	case Void:
		return r.Void.Store, r.Void.TransactionID
	}
	return r.Sale.Store, r.Sale.TransactionID
}
