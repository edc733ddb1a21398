package batch

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/tabular"
)

// CSVColumns are the columns of a CSV transaction file, one row per basket
// line; docs/batch.md says what each holds. Only the required ones must be
// in the header; the rows of one transaction follow each other.
var CSVColumns = []string{"type", "transaction_id", "return_id", "store", "terminal", "time", "member", "currency",
	"line", "sku", "barcode", "quantity", "unit", "unit_price", "categories", "offers", "redeem_points"}

var requiredColumns = []string{"transaction_id", "store", "quantity", "unit_price"}

// csvReader groups a CSV file's rows into records.
type csvReader struct {
	r        *tabular.Reader
	tail     *tailReader
	currency string
	report   func(tabular.RowError)

	pending *tabular.Record // the first row of the next record, read ahead
	broken  bool            // an unreadable row was seen since the last record began
	done    bool
}

func newCSVReader(in io.Reader, currency string, report func(tabular.RowError)) (*csvReader, error) {
	tail := &tailReader{r: in}
	r, err := tabular.NewReader(tail)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnreadable, err)
	}
	cols := map[string]bool{}
	for _, c := range r.Header() {
		cols[c] = true
	}
	for _, c := range requiredColumns {
		if !cols[c] {
			return nil, fmt.Errorf("%w: the header has no %q column", ErrUnreadable, c)
		}
	}
	if !cols["sku"] && !cols["barcode"] {
		return nil, fmt.Errorf("%w: the header needs a %q or a %q column", ErrUnreadable, "sku", "barcode")
	}
	return &csvReader{r: r, tail: tail, currency: currency, report: report}, nil
}

// ErrUnreadable is a file that cannot be read at all (no header, a header
// without the required columns, an encoding Perk does not read).
var ErrUnreadable = errors.New("batch: file cannot be read")

// groupKey is what makes consecutive rows one record: the same type, store,
// transaction, return and time. A transaction sent again right after itself
// (a till retrying) has another time, so it is a record of its own.
func groupKey(rec *tabular.Record) string {
	get := func(c string) string { v, _ := rec.Get(c); return strings.TrimSpace(v) }
	return strings.ToLower(get("type")) + "\x00" + get("store") + "\x00" + get("transaction_id") + "\x00" + get("return_id") +
		"\x00" + get("time")
}

// next returns the next record whose rows all read well, io.EOF at the end.
// Rows it cannot use are reported and their whole transaction skipped: a
// basket is recorded with all its lines or not at all.
func (c *csvReader) next() (*Record, error) {
	for !c.done {
		rows, err := c.group()
		if err != nil {
			return nil, err
		}
		if len(rows) == 0 {
			continue
		}
		if c.done && !c.tail.endsWithNewline() {
			last := rows[len(rows)-1]
			c.report(tabular.RowError{Row: last.Row, Reason: "truncated last line: the file does not end with a line end, so its last transaction was not recorded"})
			return nil, io.EOF
		}
		if c.broken {
			c.broken = false
			c.report(tabular.RowError{Row: rows[0].Row, Column: "transaction_id",
				Reason: "transaction not recorded: a row next to it could not be read (see above); fix it and send the file again"})
			continue
		}
		rec, errs := buildCSVRecord(rows, c.currency)
		if len(errs) > 0 {
			for _, e := range errs {
				c.report(e)
			}
			continue
		}
		return rec, nil
	}
	return nil, io.EOF
}

// group reads the rows of one transaction (consecutive rows with the same
// key). It sets c.done at the end of the file.
func (c *csvReader) group() ([]tabular.Record, error) {
	var rows []tabular.Record
	key := ""
	if c.pending != nil {
		rows, key = append(rows, *c.pending), groupKey(c.pending)
		c.pending = nil
	}
	for {
		rec, err := c.r.Next()
		if err == io.EOF {
			c.done = true
			return rows, nil
		}
		var re *tabular.RowError
		if errors.As(err, &re) {
			c.report(*re)
			c.broken = true
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("read transactions: %w", err)
		}
		k := groupKey(&rec)
		if len(rows) > 0 && k != key {
			c.pending = &rec
			return rows, nil
		}
		rows, key = append(rows, rec), k
	}
}

// buildCSVRecord turns one transaction's rows into a record, or lists every
// row error in it.
func buildCSVRecord(rows []tabular.Record, currency string) (*Record, []tabular.RowError) {
	var errs []tabular.RowError
	bad := func(row int, col, format string, args ...any) {
		errs = append(errs, tabular.RowError{Row: row, Column: col, Reason: fmt.Sprintf(format, args...)})
	}
	first := rows[0]
	get := func(rec tabular.Record, col string) string { v, _ := rec.Get(col); return strings.TrimSpace(v) }
	// Transaction-wide values must agree on every row.
	for _, col := range []string{"terminal", "member", "currency", "redeem_points"} {
		for _, r := range rows[1:] {
			if get(r, col) != get(first, col) {
				bad(r.Row, col, "differs from row %d of the same transaction (%q)", first.Row, get(first, col))
			}
		}
	}
	rec := &Record{Row: first.Row}
	if t := get(first, "time"); t != "" {
		at, err := time.Parse(time.RFC3339, t)
		if err != nil {
			bad(first.Row, "time", "%q is not a time like 2026-12-04T18:30:00Z or 2026-12-04T18:30:00+01:00", t)
		}
		rec.At = at.UTC()
	}
	store, txn := get(first, "store"), get(first, "transaction_id")
	switch kind := Kind(strings.ToLower(get(first, "type"))); kind {
	case "", Sale:
		rec.Kind = Sale
		rec.Sale, rec.Given, rec.itemRows = saleOf(rows, currency, bad)
	case Return:
		rec.Kind = Return
		rec.Return = &checkout.ReturnRequest{Store: store, TransactionID: txn, ReturnID: get(first, "return_id")}
		for _, r := range rows {
			line, err := strconv.Atoi(get(r, "line"))
			if err != nil {
				bad(r.Row, "line", "%q is not a line number of the transaction", get(r, "line"))
			}
			q, fe := parseQuantity(get(r, "quantity"), get(r, "unit"))
			if fe != nil {
				bad(r.Row, fe.column, "%s", fe.reason)
			}
			rec.Return.Items = append(rec.Return.Items, checkout.ReturnItem{Line: line, Quantity: q.whole, Measure: q.measure})
			rec.itemRows = append(rec.itemRows, r.Row)
		}
	case Void:
		rec.Kind = Void
		rec.Void = &checkout.VoidRequest{Store: store, TransactionID: txn}
	default:
		bad(first.Row, "type", "%q is not sale, return or void", kind)
	}
	return rec, errs
}

// saleOf reads a sale's rows into a checkout request and the offers the
// till gave.
func saleOf(rows []tabular.Record, currency string, bad func(int, string, string, ...any)) (*checkout.Request, []checkout.Given, []int) {
	get := func(rec tabular.Record, col string) string { v, _ := rec.Get(col); return strings.TrimSpace(v) }
	first := rows[0]
	req := &checkout.Request{Store: get(first, "store"), Terminal: get(first, "terminal"), TransactionID: get(first, "transaction_id"),
		Member: checkout.Key(get(first, "member")), Currency: get(first, "currency")}
	if req.Currency == "" {
		req.Currency = currency
	}
	if p := get(first, "redeem_points"); p != "" {
		n, err := strconv.ParseInt(p, 10, 64)
		if err != nil {
			bad(first.Row, "redeem_points", "%q is not a whole number of points", p)
		}
		req.RedeemPoints = n
	}
	var given []checkout.Given
	byOffer := map[string]int{}
	itemRows := make([]int, 0, len(rows))
	for i, r := range rows {
		it := checkout.Item{Line: i + 1, SKU: get(r, "sku")}
		if l := get(r, "line"); l != "" {
			n, err := strconv.Atoi(l)
			if err != nil {
				bad(r.Row, "line", "%q is not a line number", l)
			}
			it.Line = n
		}
		it.Barcode = get(r, "barcode") // the catalogue finds its product
		q, fe := parseQuantity(get(r, "quantity"), get(r, "unit"))
		if fe != nil {
			bad(r.Row, fe.column, "%s", fe.reason)
		}
		it.Quantity, it.Measure, it.Unit = q.whole, q.measure, q.unit
		p, err := strconv.ParseInt(get(r, "unit_price"), 10, 64)
		if err != nil {
			bad(r.Row, "unit_price", "%q is not a whole number of minor units (pence, cents)", get(r, "unit_price"))
		}
		it.UnitPrice = p
		if cats := get(r, "categories"); cats != "" {
			it.Categories = splitList(cats)
		}
		if offers := get(r, "offers"); offers != "" {
			for _, o := range splitList(offers) {
				id, amount, ok := strings.Cut(o, ":")
				d, err := strconv.ParseInt(strings.TrimSpace(amount), 10, 64)
				if !ok || err != nil || d < 0 || strings.TrimSpace(id) == "" {
					bad(r.Row, "offers", "%q is not OFFER_ID:DISCOUNT (discount in minor units, 0 for a points offer)", o)
					continue
				}
				id = strings.TrimSpace(id)
				j, seen := byOffer[id]
				if !seen {
					j = len(given)
					byOffer[id] = j
					given = append(given, checkout.Given{OfferID: id})
				}
				given[j].Discount += d
				if d > 0 {
					given[j].Lines = append(given[j].Lines, engine.LineShare{Line: it.Line, Discount: d})
				}
			}
		}
		req.Items = append(req.Items, it)
		itemRows = append(itemRows, r.Row)
	}
	return req, given, itemRows
}

// splitList splits a ";" (or "|") separated list, dropping empty entries.
func splitList(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ';' || r == '|' })
	out := f[:0]
	for _, v := range f {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// tailReader remembers the last byte read, to tell a file that ends with a
// line end from one cut off in transfer.
type tailReader struct {
	r    io.Reader
	last byte
	n    int64
}

func (t *tailReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		t.last = p[n-1]
		t.n += int64(n)
	}
	return n, err
}

func (t *tailReader) endsWithNewline() bool { return t.n == 0 || t.last == '\n' }
