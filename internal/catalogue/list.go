package catalogue

import (
	"encoding/base64"
	"sort"
	"strings"

	"github.com/perk-platform/perk/internal/problem"
)

// ProductQuery selects products to list.
type ProductQuery struct {
	Query    string // case-insensitive part of the SKU, name or brand, or a whole barcode
	Category string // the category or any below it
	Cursor   string // from the previous page's Next
	Limit    int    // 1..1000, 100 if 0
}

// ProductPage is one page of a listing, in SKU order.
type ProductPage struct {
	Products []*Product `json:"products"`
	Next     string     `json:"next_cursor,omitempty"` // empty on the last page
}

// ErrCursor refuses a cursor this listing did not hand out.
var ErrCursor = problem.InvalidField("cursor", "cursor_invalid", nil, "is not a cursor from a previous page")

// Products lists the snapshot's products matching q, a page at a time. The
// cursor is the last SKU of the page, so a product added or removed between
// pages neither repeats nor hides another.
func (s *Snapshot) Products(q ProductQuery) (*ProductPage, error) {
	if q.Limit <= 0 {
		q.Limit = 100
	}
	q.Limit = min(q.Limit, 1000)
	start := 0
	if q.Cursor != "" {
		after, err := base64.RawURLEncoding.DecodeString(q.Cursor)
		if err != nil {
			return nil, ErrCursor
		}
		start = sort.SearchStrings(s.skus, string(after))
		if start < len(s.skus) && s.skus[start] == string(after) {
			start++
		}
	}
	needle := strings.ToLower(strings.TrimSpace(q.Query))
	page := &ProductPage{Products: []*Product{}}
	for i := start; i < len(s.skus); i++ {
		p, _ := s.Product(s.skus[i])
		if !p.matches(needle, q.Category) {
			continue
		}
		if len(page.Products) == q.Limit {
			page.Next = base64.RawURLEncoding.EncodeToString([]byte(page.Products[q.Limit-1].SKU))
			break
		}
		page.Products = append(page.Products, p)
	}
	return page, nil
}

func (p *Product) matches(needle, category string) bool {
	if category != "" {
		in := false
		for _, c := range p.Categories {
			if Within(c, category) {
				in = true
				break
			}
		}
		if !in {
			return false
		}
	}
	if needle == "" {
		return true
	}
	for _, b := range p.Barcodes {
		if strings.ToLower(b) == needle {
			return true
		}
	}
	return strings.Contains(strings.ToLower(p.SKU), needle) || strings.Contains(strings.ToLower(p.Name), needle) ||
		strings.Contains(strings.ToLower(p.Brand), needle)
}
