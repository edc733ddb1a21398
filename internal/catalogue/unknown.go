package catalogue

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"
)

// UnknownSKU is a SKU the tills sold that the catalogue lacked at the time.
type UnknownSKU struct {
	SKU       string    `json:"sku"`
	Lines     int64     `json:"lines"` // basket lines committed with it
	Store     string    `json:"store"` // where it was last seen
	FirstSeen time.Time `json:"first_seen"`
	LastSeen  time.Time `json:"last_seen"`
}

// unknownCounter gathers unknown SKUs in memory, so the till's commit
// writes nothing for them; FlushUnknown adds them to the table.
type unknownCounter struct {
	mu      sync.Mutex // guards pending
	pending map[string]*UnknownSKU
}

func newUnknownCounter() *unknownCounter {
	return &unknownCounter{pending: map[string]*UnknownSKU{}}
}

// NoteUnknown counts one committed line of a SKU the catalogue lacks.
func (c *Catalogue) NoteUnknown(sku, store string, at time.Time) {
	c.unknownN.Inc()
	u := c.unknown
	u.mu.Lock()
	defer u.mu.Unlock()
	if e := u.pending[sku]; e != nil {
		e.Lines++
		e.Store, e.LastSeen = store, at
		return
	}
	u.pending[sku] = &UnknownSKU{SKU: sku, Lines: 1, Store: store, FirstSeen: at, LastSeen: at}
}

// FlushUnknown adds the counts gathered since the last flush to the table;
// on failure they are kept for the next one.
func (c *Catalogue) FlushUnknown(ctx context.Context) error {
	u := c.unknown
	u.mu.Lock()
	batch := u.pending
	u.pending = map[string]*UnknownSKU{}
	u.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	err := c.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, e := range batch {
			_, err := tx.ExecContext(ctx, `INSERT INTO unknown_skus (sku, lines, store_id, first_seen, last_seen) VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (sku) DO UPDATE SET lines = unknown_skus.lines + excluded.lines,
					first_seen = CASE WHEN excluded.first_seen < unknown_skus.first_seen THEN excluded.first_seen ELSE unknown_skus.first_seen END,
					store_id = CASE WHEN excluded.last_seen >= unknown_skus.last_seen THEN excluded.store_id ELSE unknown_skus.store_id END,
					last_seen = CASE WHEN excluded.last_seen >= unknown_skus.last_seen THEN excluded.last_seen ELSE unknown_skus.last_seen END`,
				e.SKU, e.Lines, e.Store, e.FirstSeen.UTC(), e.LastSeen.UTC())
			if err != nil {
				return fmt.Errorf("unknown sku %s: %w", e.SKU, err)
			}
		}
		return nil
	})
	if err != nil {
		u.mu.Lock()
		for sku, e := range batch {
			if cur := u.pending[sku]; cur != nil {
				cur.Lines += e.Lines
				cur.FirstSeen = e.FirstSeen
			} else {
				u.pending[sku] = e
			}
		}
		u.mu.Unlock()
	}
	return err
}

// UnknownSKUs lists the SKUs sold that the catalogue still lacks, most
// sold first, after writing this instance's pending counts.
func (c *Catalogue) UnknownSKUs(ctx context.Context, limit int) ([]UnknownSKU, error) {
	if err := c.FlushUnknown(ctx); err != nil {
		return nil, err
	}
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := c.db.R.QueryContext(ctx, `SELECT sku, lines, store_id, first_seen, last_seen FROM unknown_skus u
		WHERE NOT EXISTS (SELECT 1 FROM products p WHERE p.sku = u.sku)
		ORDER BY lines DESC, sku LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("unknown skus: %w", err)
	}
	defer rows.Close()
	out := []UnknownSKU{}
	for rows.Next() {
		var e UnknownSKU
		if err := rows.Scan(&e.SKU, &e.Lines, &e.Store, &e.FirstSeen, &e.LastSeen); err != nil {
			return nil, fmt.Errorf("unknown skus: %w", err)
		}
		e.FirstSeen, e.LastSeen = e.FirstSeen.UTC(), e.LastSeen.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}
