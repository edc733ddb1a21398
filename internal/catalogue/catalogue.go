// Package catalogue owns the retailer's stores and products: stores with
// their time zone and whether they trade, products with their barcodes,
// category paths (a tree: "drinks/coffee" is within "drinks"), brand, unit
// and cost price. The tills read it from memory: a Snapshot, swapped
// atomically, reloaded on this instance after each write and on the others
// when a one-row version counter says it moved, so a basket line never costs
// a query. It also counts the SKUs the tills sell that it lacks.
//
// It is not for prices at the till (the till sends what it charges) nor for
// matching offers (checkout/engine).
package catalogue

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
)

// Store is a shop of the retailer.
type Store struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Timezone string `json:"timezone"`         // IANA zone; day and time-of-day conditions use it
	Region   string `json:"region,omitempty"` // region or area, for grouping
	Address  string `json:"address,omitempty"`
	Closed   bool   `json:"closed"` // a closed store's tills are refused

	loc *time.Location
}

// Location is the store's time zone (UTC if it does not load).
func (s *Store) Location() *time.Location {
	if s.loc == nil {
		return time.UTC
	}
	return s.loc
}

// Product is an item the retailer sells.
type Product struct {
	SKU        string   `json:"sku"`
	Name       string   `json:"name"`
	Barcodes   []string `json:"barcodes"`
	Categories []string `json:"categories"`
	Brand      string   `json:"brand,omitempty"`
	Unit       Unit     `json:"unit"`
	Price      int64    `json:"price"`                // shelf price per unit, minor units (informational)
	CostPrice  *int64   `json:"cost_price,omitempty"` // minor units per unit; nil when not known

	expanded []string // Categories with all their ancestors, for the engine
}

// EngineCategories is the product's categories with all their ancestors,
// each once: what a checkout line of it matches. Shared; do not change it.
func (p *Product) EngineCategories() []string { return p.expanded }

// Errors callers branch on.
var (
	ErrStoreNotFound   = problem.New(problem.NotFound, "store_not_found", "no such store")
	ErrProductNotFound = problem.New(problem.NotFound, "product_not_found", "no such product")
)

// Options configure a Catalogue.
type Options struct {
	Currency string // the programme's currency, the products' currency
	Now      func() time.Time
	Log      *slog.Logger
	// Metrics receives perk_catalogue_unknown_sku_lines_total; nil: nowhere.
	Metrics prometheus.Registerer
	// Refresh is how often a Snapshot call checks the version row for
	// another instance's change (2s if zero).
	Refresh time.Duration
}

// Catalogue is the stores and products, in the database and in memory.
type Catalogue struct {
	db  *store.DB
	opt Options

	snap     atomic.Pointer[Snapshot]
	checked  atomic.Int64 // UnixNano of the last version check
	checking atomic.Bool  // one caller checks at a time; the others use what is there
	loadMu   sync.Mutex   // serialises loads, so an older load never replaces a newer one

	unknown  *unknownCounter
	unknownN prometheus.Counter
}

// New returns a catalogue over db. The snapshot is loaded on first use.
func New(db *store.DB, opt Options) *Catalogue {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Currency == "" {
		opt.Currency = "GBP"
	}
	if opt.Refresh == 0 {
		opt.Refresh = 2 * time.Second
	}
	c := &Catalogue{db: db, opt: opt, unknown: newUnknownCounter()}
	c.unknownN = prometheus.NewCounter(prometheus.CounterOpts{Name: "perk_catalogue_unknown_sku_lines_total",
		Help: "Basket lines committed with a SKU the catalogue does not know."})
	if opt.Metrics != nil {
		opt.Metrics.MustRegister(c.unknownN)
	}
	return c
}

// Run keeps the catalogue fresh and writes the unknown-SKU counts every
// interval until ctx ends, then writes them a last time.
func (c *Catalogue) Run(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			flush, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			if err := c.FlushUnknown(flush); err != nil {
				c.opt.Log.Warn("catalogue: unknown SKUs not written", "err", err)
			}
			cancel()
			return
		case <-t.C:
			if _, err := c.refresh(ctx, false); err != nil {
				c.opt.Log.Warn("catalogue: refresh", "err", err)
			}
			if err := c.FlushUnknown(ctx); err != nil {
				c.opt.Log.Warn("catalogue: unknown SKUs not written", "err", err)
			}
		}
	}
}
