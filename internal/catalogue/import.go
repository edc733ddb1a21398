package catalogue

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/money"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/tabular"
)

// ImportStats counts an import's rows. A row equal to what the catalogue
// already holds is unchanged and not written, so importing a file again
// writes nothing.
type ImportStats struct {
	Rows      int `json:"rows"`
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Rejected  int `json:"rejected"`
}

// ImportOptions tune an import.
type ImportOptions struct {
	BatchSize  int                           // rows per transaction (1000 if 0)
	OnError    func(*tabular.RowError) error // each rejected row, with its row and column
	OnProgress func(ImportStats)             // after each batch
	Currency   money.Currency                // how prices are written ("3.20"); the zero Currency: two decimals
}

// Product file columns. Lists (categories, barcodes) are separated by "|",
// or by "," in a pipe-separated file.
var productColumns = []string{"sku", "name", "categories", "barcodes", "brand", "unit", "price", "cost_price"}

// Store file columns; closed is yes/no (or true/false, 1/0), or a status
// column says open or closed.
var storeColumns = []string{"id", "name", "timezone", "region", "address", "closed", "status"}

// ImportProducts creates or updates the products of a CSV/TSV file, row by
// row as far as the result goes (a later row for the same SKU wins), in
// batches of transactions. Rejected rows go to OnError; the rest are
// written. The snapshot is reloaded once at the end.
func (c *Catalogue) ImportProducts(ctx context.Context, r io.Reader, opt ImportOptions) (ImportStats, error) {
	rd, err := newImportReader(r, productColumns, "sku", "name")
	if err != nil {
		return ImportStats{}, err
	}
	sep := listSeparator(rd)
	snap, err := c.Snapshot(ctx)
	if err != nil {
		return ImportStats{}, err
	}
	var st ImportStats
	var batch []*Product
	skus, codes := map[string]bool{}, map[string]bool{}
	// What this import has made of a SKU, compared before the snapshot so
	// that a row is weighed against the row before it for the same SKU.
	latest := map[string]*Product{}
	current := func(sku string) (*Product, bool) {
		if p, ok := latest[sku]; ok {
			return p, true
		}
		return snap.Product(sku)
	}
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := c.tx(ctx, func(tx *sql.Tx, now time.Time) error { return c.putChunk(ctx, tx, batch, now) })
		if err != nil {
			return err
		}
		batch = batch[:0]
		clear(skus)
		clear(codes)
		if opt.OnProgress != nil {
			opt.OnProgress(st)
		}
		return nil
	}
	err = eachRow(rd, &st, opt, func(rec tabular.Record) error {
		p := &Product{SKU: field(rec, "sku"), Name: field(rec, "name"), Brand: field(rec, "brand"), Unit: Unit(field(rec, "unit")),
			Categories: list(field(rec, "categories"), sep), Barcodes: list(field(rec, "barcodes"), sep)}
		var err error
		if p.Price, err = price(opt.Currency, field(rec, "price"), "price"); err != nil {
			return err
		}
		if v := field(rec, "cost_price"); v != "" {
			cost, err := price(opt.Currency, v, "cost_price")
			if err != nil {
				return err
			}
			p.CostPrice = &cost
		}
		if err := p.clean(); err != nil {
			return err
		}
		old, ok := current(p.SKU)
		if !st.tally(ok, ok && sameProduct(old, p)) {
			return nil
		}
		latest[p.SKU] = p
		if claim(p, skus, codes) != nil {
			// The same SKU or barcode again in this batch: write what is
			// there first, so the later row wins as it would row by row.
			if err := flush(); err != nil {
				return err
			}
			_ = claim(p, skus, codes)
		}
		batch = append(batch, p)
		if len(batch) >= batchSize(opt) {
			return flush()
		}
		return nil
	})
	return st, c.finish(ctx, err, flush)
}

// ImportStores creates or updates the stores of a CSV/TSV file.
func (c *Catalogue) ImportStores(ctx context.Context, r io.Reader, opt ImportOptions) (ImportStats, error) {
	rd, err := newImportReader(r, storeColumns, "id", "name", "timezone")
	if err != nil {
		return ImportStats{}, err
	}
	snap, err := c.Snapshot(ctx)
	if err != nil {
		return ImportStats{}, err
	}
	var st ImportStats
	var batch []Store
	seen := map[string]int{} // id -> position in batch
	latest := map[string]Store{}
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := c.tx(ctx, func(tx *sql.Tx, now time.Time) error {
			for i := range batch {
				if err := putStore(ctx, tx, &batch[i], now); err != nil {
					return err
				}
			}
			return nil
		})
		batch = batch[:0]
		clear(seen)
		if err == nil && opt.OnProgress != nil {
			opt.OnProgress(st)
		}
		return err
	}
	err = eachRow(rd, &st, opt, func(rec tabular.Record) error {
		s := Store{ID: field(rec, "id"), Name: field(rec, "name"), Timezone: field(rec, "timezone"), Region: field(rec, "region"),
			Address: field(rec, "address")}
		closed, err := closedFlag(field(rec, "closed"), field(rec, "status"))
		if err != nil {
			return err
		}
		s.Closed = closed
		if err := s.clean(""); err != nil {
			return err
		}
		old, ok := snap.Store(s.ID)
		if l, seen := latest[s.ID]; seen {
			old, ok = &l, true
		}
		if !st.tally(ok, ok && sameStore(old, &s)) {
			return nil
		}
		latest[s.ID] = s
		if i, ok := seen[s.ID]; ok {
			batch[i] = s // the later row wins
			return nil
		}
		seen[s.ID] = len(batch)
		batch = append(batch, s)
		if len(batch) >= batchSize(opt) {
			return flush()
		}
		return nil
	})
	return st, c.finish(ctx, err, flush)
}

// finish writes the last batch of an import whose rows ended with err (nil
// at the end of the file), then reloads the snapshot.
func (c *Catalogue) finish(ctx context.Context, err error, flush func() error) error {
	if err == nil {
		err = flush()
	}
	if _, rerr := c.refresh(ctx, false); rerr != nil && err == nil {
		err = rerr
	}
	return err
}

// tally counts a row as created, updated or unchanged, and reports whether
// it is to be written.
func (st *ImportStats) tally(known, same bool) bool {
	switch {
	case same:
		st.Unchanged++
		return false
	case known:
		st.Updated++
	default:
		st.Created++
	}
	return true
}

func batchSize(opt ImportOptions) int {
	if opt.BatchSize <= 0 {
		return 1000
	}
	return opt.BatchSize
}

func newImportReader(r io.Reader, known []string, required ...string) (*tabular.Reader, error) {
	rd, err := tabular.NewReader(r)
	if err != nil {
		return nil, err
	}
	header := rd.Header()
	for _, h := range header {
		if !slices.Contains(known, h) {
			return nil, &tabular.HeaderError{Columns: []string{h}, Reason: fmt.Sprintf("unknown column %q (known: %s)", h, strings.Join(known, ", "))}
		}
	}
	for _, req := range required {
		if !slices.Contains(header, req) {
			return nil, &tabular.HeaderError{Reason: fmt.Sprintf("column %q is required", req)}
		}
	}
	return rd, nil
}

// eachRow hands each readable row to fn and turns what fn refuses (a
// problem naming a field) into a row error on that field's column.
func eachRow(rd *tabular.Reader, st *ImportStats, opt ImportOptions, fn func(tabular.Record) error) error {
	reject := func(e *tabular.RowError) error {
		st.Rejected++
		if opt.OnError != nil {
			return opt.OnError(e)
		}
		return nil
	}
	for {
		rec, err := rd.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		var re *tabular.RowError
		if errors.As(err, &re) {
			st.Rows++
			if err := reject(re); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		st.Rows++
		err = fn(rec)
		var pe *problem.Error
		if errors.As(err, &pe) && pe.Kind == problem.Invalid {
			col, _, _ := strings.Cut(pe.Field, "[")
			if err := reject(&tabular.RowError{Row: rec.Row, Column: col, Reason: pe.Message}); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
	}
}

func field(rec tabular.Record, col string) string {
	v, _ := rec.Get(col)
	return strings.TrimSpace(v)
}

func listSeparator(rd *tabular.Reader) string {
	if rd.Delimiter() == '|' {
		return ","
	}
	return "|"
}

func list(v, sep string) []string {
	if v == "" {
		return []string{}
	}
	out := strings.Split(v, sep)
	for i := range out {
		out[i] = strings.TrimSpace(out[i])
	}
	return out
}

func price(cur money.Currency, v, col string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := cur.Parse(v)
	if err != nil {
		return 0, problem.InvalidField(col, "price_invalid", err, "%q is not an amount (e.g. 3.20)", v)
	}
	return n, nil
}

func closedFlag(closed, status string) (bool, error) {
	switch strings.ToLower(closed) {
	case "yes", "true", "1", "y":
		return true, nil
	case "no", "false", "0", "n", "":
	default:
		return false, problem.InvalidField("closed", "closed_invalid", nil, "%q is not yes or no", closed)
	}
	switch strings.ToLower(status) {
	case "", statusOpen:
		return false, nil
	case statusClosed:
		return true, nil
	}
	return false, problem.InvalidField("status", "status_invalid", nil, "%q is not open or closed", status)
}

func sameProduct(a, b *Product) bool {
	costEq := (a.CostPrice == nil) == (b.CostPrice == nil) && (a.CostPrice == nil || *a.CostPrice == *b.CostPrice)
	return a.Name == b.Name && a.Brand == b.Brand && a.Unit == b.Unit && a.Price == b.Price && costEq &&
		slices.Equal(a.Categories, b.Categories) && sameSet(a.Barcodes, b.Barcodes)
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func sameStore(a, b *Store) bool {
	return a.Name == b.Name && a.Timezone == b.Timezone && a.Region == b.Region && a.Address == b.Address && a.Closed == b.Closed
}
