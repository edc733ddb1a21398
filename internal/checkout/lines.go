package checkout

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/perk-platform/perk/internal/catalogue"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/problem"
)

// Refusals of the store a till names, when the catalogue lists stores
// (catalogue.TradingStore).
var (
	ErrStoreUnknown = problem.InvalidField("store", "store_unknown", nil, "no such store in the catalogue")
	ErrStoreClosed  = problem.InvalidField("store", "store_closed", nil, "the store is closed")
)

// Sources of a line's category, for ?explain=true.
const (
	SourceCatalogue = "catalogue"
	SourceTill      = "till"
	SourceBoth      = "both"
)

// LineCategory is one category a line matched offers by, and where it
// came from; a parent of a category the line is in has that one's source.
type LineCategory struct {
	Category string `json:"category"`
	Source   string `json:"source"` // catalogue, till or both
}

// LineInfo is what Perk made of a basket line, for ?explain=true.
type LineInfo struct {
	Line       int            `json:"line"`
	SKU        string         `json:"sku"`
	Known      bool           `json:"known"` // the catalogue has the product
	Brand      string         `json:"brand,omitempty"`
	Unit       string         `json:"unit"`
	Quantity   string         `json:"quantity"` // a measured line's, with three decimals; units otherwise
	Value      int64          `json:"value"`    // quantity x unit price, a measured line's rounded half up once
	Categories []LineCategory `json:"categories"`
}

// basketLine is a request line resolved against the catalogue.
type basketLine struct {
	item    *Item
	sku     string
	product *catalogue.Product // nil: not in the catalogue (or no catalogue)
	amount
	cats []string // what the engine matches: the product's and the till's categories with their parents
}

func (l *basketLine) value() int64 { return int64(l.qty) * l.price }

// prepared is a validated request: its lines and the store's zone.
type prepared struct {
	lines []basketLine
	loc   *time.Location
}

// prepare validates the request against the catalogue (when the service
// has one): the store must be known and open; each line's product is found
// by SKU or barcode, and gives its unit and categories.
func (s *Service) prepare(ctx context.Context, req *Request, commit bool) (*prepared, error) {
	cat := s.opt.Catalogue
	if cat == nil {
		amounts, err := req.validate(s.opt.Currency, commit, nil)
		if err != nil {
			return nil, err
		}
		loc, err := s.storeZone(ctx, req.Store)
		if err != nil {
			return nil, err
		}
		p := &prepared{lines: make([]basketLine, len(req.Items)), loc: loc}
		for i := range req.Items {
			it := &req.Items[i]
			p.lines[i] = basketLine{item: it, sku: it.SKU, amount: amounts[i], cats: it.Categories}
		}
		return p, nil
	}
	if err := req.validateHead(s.opt.Currency, commit); err != nil {
		return nil, err
	}
	snap, err := cat.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	st, ok := snap.TradingStore(req.Store)
	if !ok {
		return nil, ErrStoreUnknown
	}
	loc := time.UTC // a catalogue with no stores checks none (catalogue.TradingStore)
	if st != nil {
		if st.Closed {
			return nil, ErrStoreClosed
		}
		loc = st.Location()
	}
	products := make([]*catalogue.Product, len(req.Items))
	for i := range req.Items {
		it := &req.Items[i]
		var p *catalogue.Product
		if it.SKU != "" {
			p, _ = snap.Product(it.SKU)
		}
		if p == nil && it.Barcode != "" {
			p, _ = snap.Barcode(it.Barcode)
		}
		products[i] = p
	}
	amounts, err := req.validateItems(products)
	if err != nil {
		return nil, err
	}
	p := &prepared{lines: make([]basketLine, len(req.Items)), loc: loc}
	for i := range req.Items {
		it, prod := &req.Items[i], products[i]
		l := basketLine{item: it, sku: it.SKU, product: prod, amount: amounts[i]}
		switch {
		case prod != nil:
			l.sku = prod.SKU
			l.cats = prod.EngineCategories()
			if !subset(it.Categories, l.cats) {
				l.cats = catalogue.Expand(append(slices.Clip(prod.Categories), it.Categories...))
			}
		case it.SKU == "":
			l.sku = it.Barcode // an unknown barcode stands for itself
			l.cats = catalogue.Expand(it.Categories)
		default:
			l.cats = catalogue.Expand(it.Categories)
		}
		p.lines[i] = l
	}
	return p, nil
}

// basket is the engine's view of the prepared lines.
func (p *prepared) basket(req *Request, m *member.Member, now time.Time) engine.Basket {
	b := engine.Basket{Store: req.Store, Time: now, Location: p.loc, Currency: req.Currency, Member: m != nil,
		Lines: make([]engine.Line, len(p.lines))}
	for i := range p.lines {
		l := &p.lines[i]
		b.Lines[i] = engine.Line{Line: l.item.Line, SKU: l.sku, Categories: l.cats, Quantity: l.qty, UnitPrice: l.price}
	}
	return b
}

func (p *prepared) subtotal() int64 {
	var t int64
	for i := range p.lines {
		t += p.lines[i].value()
	}
	return t
}

// explain tells where each line's categories came from.
func (p *prepared) explain() []LineInfo {
	out := make([]LineInfo, len(p.lines))
	for i := range p.lines {
		l := &p.lines[i]
		info := LineInfo{Line: l.item.Line, SKU: l.sku, Known: l.product != nil, Unit: string(l.unit), Value: l.value(),
			Categories: []LineCategory{}}
		if info.Unit == "" {
			info.Unit = string(catalogue.Each)
		}
		if l.unit.Measured() {
			info.Quantity = l.measure.String()
		} else {
			info.Quantity = strconv.Itoa(l.qty)
		}
		var fromCat, fromTill []string
		if l.product != nil {
			info.Brand = l.product.Brand
			fromCat = l.product.EngineCategories()
		}
		fromTill = catalogue.Expand(l.item.Categories)
		for _, c := range l.cats {
			src := SourceTill
			switch inCat, inTill := slices.Contains(fromCat, c), slices.Contains(fromTill, c); {
			case inCat && inTill:
				src = SourceBoth
			case inCat:
				src = SourceCatalogue
			}
			info.Categories = append(info.Categories, LineCategory{Category: c, Source: src})
		}
		out[i] = info
	}
	return out
}

// noteUnknown counts the committed lines whose SKU the catalogue lacks.
func (s *Service) noteUnknown(p *prepared, store string, now time.Time) {
	if s.opt.Catalogue == nil {
		return
	}
	for i := range p.lines {
		if p.lines[i].product == nil {
			s.opt.Catalogue.NoteUnknown(p.lines[i].sku, store, now)
		}
	}
}

// subset reports whether every one of a is in b: a till that sends what
// the catalogue already says costs no allocation.
func subset(a, b []string) bool {
	for _, c := range a {
		if !slices.Contains(b, c) {
			return false
		}
	}
	return true
}
