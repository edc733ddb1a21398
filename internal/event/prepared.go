package event

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"

	"github.com/perk-platform/perk/internal/store"
)

// insertSizes are the row counts of the prepared SQLite inserts, largest
// first: a batch of 1,000 is one statement, any other size at most 9 of each
// smaller one.
var insertSizes = [...]int{MaxBatch, 100, 10, 1}

// inserts holds the SQLite multi-row inserts of a Service, prepared once on
// the writer pool (one connection) instead of compiled for every batch: a
// statement of 13,000 parameters took SQLite's parser a tenth of the
// insert's time, and binding "?" costs no look-up of a "$N" name.
type inserts struct {
	mu    sync.Mutex // guards stmts
	stmts [len(insertSizes)]*sql.Stmt
}

// prepare makes the statements on first use (again after a failure, which
// may have been the caller's context ending).
func (p *inserts) prepare(ctx context.Context, db *store.DB) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stmts[0] != nil {
		return nil
	}
	var made [len(insertSizes)]*sql.Stmt
	for i, n := range insertSizes {
		st, err := db.W.PrepareContext(ctx, insertSQL(n))
		if err != nil {
			for _, m := range made[:i] {
				m.Close()
			}
			return fmt.Errorf("event: prepare insert: %w", err)
		}
		made[i] = st
	}
	p.stmts = made
	return nil
}

// insertSQL is insert's statement for n rows, with "?" parameters.
func insertSQL(n int) string {
	var q strings.Builder
	row := "(" + strings.TrimSuffix(strings.Repeat("?, ", insertCols), ", ") + ")"
	q.Grow(200 + n*(len(row)+2))
	q.WriteString(`INSERT OR IGNORE INTO events (event_id, type, occurred_at, received_at, channel, source, anonymous_id,
		member_id, session_id, campaign, store_id, order_id, properties) VALUES `)
	for i := range n {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteString(row)
	}
	return q.String()
}

// insertPrepared is insert on SQLite through the prepared statements,
// within tx (a transaction of the writer pool, where database/sql reuses
// the statement already prepared on its connection).
// The statements must be prepared (inserts.prepare) before tx began: the
// writer pool's one connection is tx's until it ends.
func (s *Service) insertPrepared(ctx context.Context, tx *sql.Tx, evs []Event) (int, error) {
	args := make([]any, 0, min(len(evs), MaxBatch)*insertCols)
	total := 0
	for i, n := range insertSizes {
		var stmt *sql.Stmt
		for len(evs) >= n {
			if stmt == nil {
				stmt = tx.StmtContext(ctx, s.inserts.stmts[i])
			}
			args = args[:0]
			for _, e := range evs[:n] {
				args = appendInsertArgs(args, &e)
			}
			res, err := stmt.ExecContext(ctx, args...)
			if err != nil {
				return total, fmt.Errorf("event: insert: %w", err)
			}
			k, err := res.RowsAffected()
			if err != nil {
				return total, fmt.Errorf("event: insert: %w", err)
			}
			total += int(k)
			evs = evs[n:]
		}
	}
	return total, nil
}

// appendInsertArgs appends e's values in insertCols' order.
func appendInsertArgs(args []any, e *Event) []any {
	return append(args, e.EventID, e.Type, e.Time, e.ReceivedAt, string(e.Channel), e.Source,
		store.NullString(e.AnonymousID), store.NullString(e.MemberID), store.NullString(e.SessionID),
		e.Campaign, e.Store, store.NullString(e.OrderID), string(e.Properties))
}
