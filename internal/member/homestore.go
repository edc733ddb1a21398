package member

import (
	"context"
	"fmt"

	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
)

// A member's home store must be one of the stores table's, but only once that
// table holds a store: the catalogue has no management API yet (only the demo
// and data loads fill it), and refusing every home store of a retailer who
// has not loaded one would make the field unusable. An id the member already
// has is not checked again, so a store that left the catalogue does not block
// other changes to its members.

// unknownHomeStore is the refusal of a home store the catalogue lacks.
func unknownHomeStore(id string) *problem.Error {
	return problem.InvalidField("home_store", "home_store_unknown", nil, "no store %q in the store catalogue", id)
}

// checkHomeStore refuses id if it is set and unknown.
func checkHomeStore(ctx context.Context, q querier, d store.Dialect, id string) error {
	if id == "" {
		return nil
	}
	unknown, err := unknownStores(ctx, q, d, []any{id})
	if err != nil {
		return err
	}
	if unknown[id] {
		return unknownHomeStore(id)
	}
	return nil
}

// unknownStores returns those of ids (distinct, non-empty strings) that are
// not in a non-empty stores table.
func unknownStores(ctx context.Context, q querier, d store.Dialect, ids []any) (map[string]bool, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := q.QueryContext(ctx, `SELECT id FROM stores WHERE id IN (`+d.Placeholders(1, len(ids))+`)`, ids...)
	if err != nil {
		return nil, fmt.Errorf("home store lookup: %w", err)
	}
	known := make(map[string]bool, len(ids))
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, fmt.Errorf("home store lookup: %w", err)
		}
		known[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("home store lookup: %w", err)
	}
	if len(known) == len(ids) {
		return nil, nil
	}
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM stores LIMIT 1) s`).Scan(&n); err != nil {
		return nil, fmt.Errorf("home store lookup: %w", err)
	}
	if n == 0 {
		return nil, nil
	}
	unknown := map[string]bool{}
	for _, id := range ids {
		if s := id.(string); !known[s] {
			unknown[s] = true
		}
	}
	return unknown, nil
}
