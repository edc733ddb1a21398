package catalogue

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/problem"
)

// Limits on products.
const (
	MaxProductsPerPut = 10_000 // products in one PutProducts call
	maxPerProduct     = 20     // barcodes, and categories, of one product
	maxPrice          = 10_000_000_000
	putChunk          = 500 // products per statement
)

// ItemError is why one product of a bulk write was refused; the others are
// written.
type ItemError struct {
	Index   int    `json:"index"` // position in the request
	SKU     string `json:"sku,omitempty"`
	Code    string `json:"code"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

// clean checks a product and normalises it (trimmed text, unit name,
// non-nil lists).
func (p *Product) clean() error {
	p.SKU, p.Name, p.Brand = strings.TrimSpace(p.SKU), strings.TrimSpace(p.Name), strings.TrimSpace(p.Brand)
	if err := checkText("sku", p.SKU, true, 100); err != nil {
		return err
	}
	if err := checkText("name", p.Name, true, 200); err != nil {
		return err
	}
	if err := checkText("brand", p.Brand, false, 100); err != nil {
		return err
	}
	u, ok := ParseUnit(string(p.Unit))
	if !ok {
		return problem.InvalidField("unit", "unit_invalid", nil, "%q is not a unit (%s)", p.Unit, UnitNames)
	}
	p.Unit = u
	if p.Price < 0 || p.Price > maxPrice {
		return problem.InvalidField("price", "price_invalid", nil, "must be 0 to %d minor units", int64(maxPrice))
	}
	if p.CostPrice != nil && (*p.CostPrice < 0 || *p.CostPrice > maxPrice) {
		return problem.InvalidField("cost_price", "price_invalid", nil, "must be 0 to %d minor units", int64(maxPrice))
	}
	if len(p.Categories) > maxPerProduct {
		return problem.InvalidField("categories", "too_many", nil, "at most %d categories", maxPerProduct)
	}
	for i, c := range p.Categories {
		p.Categories[i] = strings.TrimSpace(c)
		if !ValidCategory(p.Categories[i]) {
			return problem.InvalidField(fmt.Sprintf("categories[%d]", i), "category_invalid", nil,
				"%q is not a category path (segments separated by /, at most %d characters)", c, maxCategoryLen)
		}
	}
	if len(p.Barcodes) > maxPerProduct {
		return problem.InvalidField("barcodes", "too_many", nil, "at most %d barcodes", maxPerProduct)
	}
	for i, b := range p.Barcodes {
		p.Barcodes[i] = strings.TrimSpace(b)
		if err := checkText(fmt.Sprintf("barcodes[%d]", i), p.Barcodes[i], true, 100); err != nil {
			return err
		}
	}
	if p.Categories == nil {
		p.Categories = []string{}
	}
	if p.Barcodes == nil {
		p.Barcodes = []string{}
	}
	return nil
}

// PutProducts creates or replaces up to MaxProductsPerPut products. Each
// invalid one is refused with its own error and the rest are written, in
// one transaction. A product's barcodes replace those it had; a barcode
// another product had moves to this one. The same SKU or barcode twice in
// one call refuses the later item.
func (c *Catalogue) PutProducts(ctx context.Context, products []Product) ([]ItemError, error) {
	if len(products) > MaxProductsPerPut {
		return nil, problem.InvalidField("products", "too_many", nil, "at most %d products per request", MaxProductsPerPut)
	}
	var errs []ItemError
	good := make([]*Product, 0, len(products))
	skus, codes := map[string]bool{}, map[string]bool{}
	for i := range products {
		p := &products[i]
		err := p.clean()
		if err == nil {
			err = claim(p, skus, codes)
		}
		if err != nil {
			var pe *problem.Error
			if !errors.As(err, &pe) {
				return nil, err
			}
			errs = append(errs, ItemError{Index: i, SKU: p.SKU, Code: pe.Code, Field: pe.Field, Message: pe.Message})
			continue
		}
		good = append(good, p)
	}
	if len(good) == 0 {
		return errs, nil
	}
	err := c.write(ctx, func(tx *sql.Tx, now time.Time) error {
		for lo := 0; lo < len(good); lo += putChunk {
			if err := c.putChunk(ctx, tx, good[lo:min(lo+putChunk, len(good))], now); err != nil {
				return err
			}
		}
		return nil
	})
	return errs, err
}

// claim refuses a SKU or barcode already earlier in the same call.
func claim(p *Product, skus, codes map[string]bool) error {
	if skus[p.SKU] {
		return problem.InvalidField("sku", "sku_duplicate", nil, "%s appears earlier in this request", p.SKU)
	}
	for i, b := range p.Barcodes {
		if codes[b] {
			return problem.InvalidField(fmt.Sprintf("barcodes[%d]", i), "barcode_duplicate", nil, "%s appears earlier in this request", b)
		}
	}
	skus[p.SKU] = true
	for _, b := range p.Barcodes {
		codes[b] = true
	}
	return nil
}

// putChunk writes some products with three statements: the products, the
// removal of their old barcodes, their barcodes.
func (c *Catalogue) putChunk(ctx context.Context, tx *sql.Tx, ps []*Product, now time.Time) error {
	d := c.db.Dialect
	var b strings.Builder
	b.WriteString(`INSERT INTO products (sku, name, categories, brand, unit, price, currency, cost_price, updated_at) VALUES `)
	args := make([]any, 0, 9*len(ps))
	for i, p := range ps {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(" + d.Placeholders(len(args)+1, 9) + ")")
		cats, _ := json.Marshal(p.Categories)
		var cost sql.NullInt64
		if p.CostPrice != nil {
			cost = sql.NullInt64{Int64: *p.CostPrice, Valid: true}
		}
		args = append(args, p.SKU, p.Name, string(cats), p.Brand, string(p.Unit), p.Price, c.opt.Currency, cost, now)
	}
	b.WriteString(` ON CONFLICT (sku) DO UPDATE SET name = excluded.name, categories = excluded.categories, brand = excluded.brand,
		unit = excluded.unit, price = excluded.price, currency = excluded.currency, cost_price = excluded.cost_price, updated_at = excluded.updated_at`)
	if _, err := tx.ExecContext(ctx, b.String(), args...); err != nil {
		return fmt.Errorf("put products: %w", err)
	}
	keys := make([]any, len(ps))
	for i, p := range ps {
		keys[i] = p.SKU
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM product_barcodes WHERE sku IN (`+d.Placeholders(1, len(keys))+`)`, keys...); err != nil {
		return fmt.Errorf("put products: old barcodes: %w", err)
	}
	b.Reset()
	args = args[:0]
	for _, p := range ps {
		for _, code := range p.Barcodes {
			if len(args) > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(" + d.Placeholders(len(args)+1, 2) + ")")
			args = append(args, code, p.SKU)
		}
	}
	if len(args) == 0 {
		return nil
	}
	q := `INSERT INTO product_barcodes (barcode, sku) VALUES ` + b.String() + ` ON CONFLICT (barcode) DO UPDATE SET sku = excluded.sku`
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("put products: barcodes: %w", err)
	}
	return nil
}

// DeleteProduct removes a product and its barcodes. ErrProductNotFound if
// there is none.
func (c *Catalogue) DeleteProduct(ctx context.Context, sku string) error {
	return c.write(ctx, func(tx *sql.Tx, _ time.Time) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM product_barcodes WHERE sku = $1`, sku); err != nil {
			return fmt.Errorf("delete product: %w", err)
		}
		r, err := tx.ExecContext(ctx, `DELETE FROM products WHERE sku = $1`, sku)
		if err != nil {
			return fmt.Errorf("delete product: %w", err)
		}
		if n, _ := r.RowsAffected(); n == 0 {
			return ErrProductNotFound
		}
		return nil
	})
}
