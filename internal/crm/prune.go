package crm

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"time"

	"github.com/perk-platform/perk/internal/store"
)

// pruneChunk bounds one pruning transaction, so the one SQLite writer is
// never held for long and tills keep committing in between.
const pruneChunk = 5000

// Prune deletes the feed's log rows written more than keep before now, a
// chunk at a time, and records how far it went: an export from a cursor that
// needed a deleted row is then refused (ErrCursorExpired) rather than
// silently missing changes. The newest row is always kept, because on SQLite
// the export's boundary is the highest seq in the log. It returns the number
// of rows deleted.
func Prune(ctx context.Context, db *store.DB, now time.Time, keep time.Duration) (int64, error) {
	before := now.Add(-keep).UTC()
	pos := db.Dialect.LogPosition() // a constant of the dialect's
	var total int64
	for {
		var n int64
		err := db.Tx(ctx, func(tx *sql.Tx) error {
			n = 0
			rows, err := tx.QueryContext(ctx, `DELETE FROM `+feedTable+` WHERE seq IN (
	SELECT seq FROM `+feedTable+` WHERE at < $1 AND seq < (SELECT MAX(seq) FROM `+feedTable+`)
	ORDER BY seq LIMIT `+strconv.Itoa(pruneChunk)+`)
RETURNING `+pos, before)
			if err != nil {
				return err
			}
			top := int64(-1)
			for rows.Next() {
				var p int64
				if err := rows.Scan(&p); err != nil {
					rows.Close()
					return err
				}
				n, top = n+1, max(top, p)
			}
			if err := rows.Close(); err != nil {
				return err
			}
			if n == 0 {
				return nil
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO crm_feed_pruned (id, position, pruned_at) VALUES (1, $1, $2)
	ON CONFLICT (id) DO UPDATE SET position = excluded.position, pruned_at = excluded.pruned_at
	WHERE crm_feed_pruned.position < excluded.position`, top, now.UTC())
			return err
		})
		if err != nil {
			return total, fmt.Errorf("crm feed prune: %w", err)
		}
		total += n
		if n < pruneChunk {
			return total, nil
		}
	}
}
