package catalogue

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Snapshot is the whole catalogue at one version, read-only and shared by
// every till request until the next one replaces it.
//
// Products live in one slice, indexed by SKU and barcode, and products with
// the same categories share one list of them: a catalogue of 100,000
// products is then a few large objects rather than a million small ones,
// which the garbage collector would otherwise mark on every cycle of a
// busy till server.
type Snapshot struct {
	Version  int64
	stores   map[string]*Store
	slab     []Product
	products *index   // SKU -> position in slab
	barcodes *index   // barcode -> position in slab
	skus     []string // sorted, for listing
	storeIDs []string // sorted
}

// TradingStore applies Perk's one rule for a store id that a till's basket,
// a pos key or a member's home store names: a store the catalogue lists is
// returned; once it lists any store, an id it does not list is refused (ok
// false); while it lists none, every id is accepted (nil, true) and trades in
// UTC. A programme that keeps no store catalogue (tills that send their own
// categories, a CRM that knows its stores) then works, and loading the
// first store turns the check on for all of them (docs/checkout-rules.md). The
// member package applies the same rule in SQL (a test checks they agree).
func (s *Snapshot) TradingStore(id string) (st *Store, ok bool) {
	if st, ok := s.stores[id]; ok {
		return st, true
	}
	return nil, len(s.stores) == 0
}

// Store returns the store with this id.
func (s *Snapshot) Store(id string) (*Store, bool) {
	st, ok := s.stores[id]
	return st, ok
}

// Product returns the product with this SKU.
func (s *Snapshot) Product(sku string) (*Product, bool) {
	i := s.products.find(sku, func(pos, _ int32) string { return s.slab[pos].SKU })
	if i < 0 {
		return nil, false
	}
	return &s.slab[i], true
}

// Barcode returns the product a scanned barcode belongs to.
func (s *Snapshot) Barcode(code string) (*Product, bool) {
	i := s.barcodes.find(code, func(pos, k int32) string { return s.slab[pos].Barcodes[k] })
	if i < 0 {
		return nil, false
	}
	return &s.slab[i], true
}

// Stores returns every store, by id.
func (s *Snapshot) Stores() []*Store {
	out := make([]*Store, len(s.storeIDs))
	for i, id := range s.storeIDs {
		out[i] = s.stores[id]
	}
	return out
}

// Len is the number of products.
func (s *Snapshot) Len() int { return len(s.slab) }

// Snapshot returns the catalogue as this instance knows it: loaded on
// first use, reloaded at once after a write through this Catalogue, and
// within Options.Refresh of another instance's write. Only the first call
// waits for a load; a later version check is one primary-key read made by
// one caller while the others go on with the snapshot they have.
func (c *Catalogue) Snapshot(ctx context.Context) (*Snapshot, error) {
	s := c.snap.Load()
	if s == nil {
		return c.refresh(ctx, true)
	}
	if time.Duration(c.opt.Now().UnixNano()-c.checked.Load()) >= c.opt.Refresh && c.checking.CompareAndSwap(false, true) {
		defer c.checking.Store(false)
		return c.refresh(ctx, false)
	}
	return s, nil
}

// refresh reloads the snapshot when the stored version differs from the
// one held (always, if force).
func (c *Catalogue) refresh(ctx context.Context, force bool) (*Snapshot, error) {
	c.checked.Store(c.opt.Now().UnixNano())
	cur := c.snap.Load()
	if !force && cur != nil {
		var v int64
		if err := c.db.R.QueryRowContext(ctx, `SELECT version FROM catalogue_version WHERE id = 1`).Scan(&v); err != nil {
			return cur, fmt.Errorf("catalogue version: %w", err)
		}
		if v == cur.Version {
			return cur, nil
		}
	}
	c.loadMu.Lock()
	defer c.loadMu.Unlock()
	s, err := load(ctx, c.db.ReadSnapshot)
	if err != nil {
		if cur != nil {
			return cur, err
		}
		return nil, err
	}
	if old := c.snap.Load(); old == nil || old.Version <= s.Version {
		c.snap.Store(s)
	}
	return c.snap.Load(), nil
}

// load reads the whole catalogue in one read transaction, so the version
// and the rows agree.
func load(ctx context.Context, begin func(context.Context) (*sql.Tx, error)) (*Snapshot, error) {
	tx, err := begin(ctx)
	if err != nil {
		return nil, fmt.Errorf("catalogue load: %w", err)
	}
	defer tx.Rollback()
	s := &Snapshot{stores: map[string]*Store{}}
	if err := tx.QueryRowContext(ctx, `SELECT version FROM catalogue_version WHERE id = 1`).Scan(&s.Version); err != nil {
		return nil, fmt.Errorf("catalogue version: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, name, timezone, region, address, status FROM stores`)
	if err != nil {
		return nil, fmt.Errorf("catalogue stores: %w", err)
	}
	for rows.Next() {
		st := &Store{}
		var status string
		if err := rows.Scan(&st.ID, &st.Name, &st.Timezone, &st.Region, &st.Address, &status); err != nil {
			rows.Close()
			return nil, fmt.Errorf("catalogue stores: %w", err)
		}
		st.Closed = status == "closed"
		st.loc, _ = time.LoadLocation(st.Timezone) // validated on write; a bad legacy zone trades in UTC
		s.stores[st.ID] = st
		s.storeIDs = append(s.storeIDs, st.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalogue stores: %w", err)
	}
	rows, err = tx.QueryContext(ctx, `SELECT sku, name, categories, brand, unit, price, cost_price FROM products`)
	if err != nil {
		return nil, fmt.Errorf("catalogue products: %w", err)
	}
	type catList struct{ cats, expanded []string }
	shared := map[string]catList{} // by the stored JSON text
	for rows.Next() {
		var p Product
		var cats, unit string
		var cost sql.NullInt64
		if err := rows.Scan(&p.SKU, &p.Name, &cats, &p.Brand, &unit, &p.Price, &cost); err != nil {
			rows.Close()
			return nil, fmt.Errorf("catalogue products: %w", err)
		}
		cl, ok := shared[cats]
		if !ok {
			_ = json.Unmarshal([]byte(cats), &cl.cats) // written as a JSON array
			if cl.cats == nil {
				cl.cats = []string{}
			}
			cl.expanded = Expand(cl.cats)
			shared[cats] = cl
		}
		p.Categories, p.expanded = cl.cats, cl.expanded
		p.Unit, _ = ParseUnit(unit)
		if cost.Valid {
			p.CostPrice = &cost.Int64
		}
		p.Barcodes = []string{}
		s.slab = append(s.slab, p)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalogue products: %w", err)
	}
	s.slab = slices.Clip(s.slab)
	s.products = newIndex(len(s.slab))
	s.skus = make([]string, len(s.slab))
	pos := make(map[string]int32, len(s.slab)) // for the barcodes, then dropped
	for i := range s.slab {
		s.products.add(s.slab[i].SKU, int32(i), -1)
		s.skus[i] = s.slab[i].SKU
		pos[s.slab[i].SKU] = int32(i)
	}
	rows, err = tx.QueryContext(ctx, `SELECT barcode, sku FROM product_barcodes ORDER BY sku, barcode`)
	if err != nil {
		return nil, fmt.Errorf("catalogue barcodes: %w", err)
	}
	for rows.Next() {
		var code, sku string
		if err := rows.Scan(&code, &sku); err != nil {
			rows.Close()
			return nil, fmt.Errorf("catalogue barcodes: %w", err)
		}
		if i, ok := pos[sku]; ok {
			s.slab[i].Barcodes = append(s.slab[i].Barcodes, code)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("catalogue barcodes: %w", err)
	}
	n := 0
	for i := range s.slab {
		n += len(s.slab[i].Barcodes)
	}
	s.barcodes = newIndex(n)
	for i := range s.slab {
		for k, code := range s.slab[i].Barcodes {
			s.barcodes.add(code, int32(i), int32(k))
		}
	}
	slices.Sort(s.skus)
	slices.Sort(s.storeIDs)
	return s, nil
}
