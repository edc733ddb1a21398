package event

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// copyInsert is insert for a batch sent to PostgreSQL on conn, inside tx
// (a transaction of conn): the event_ids are claimed with one statement,
// and only the events whose claim was new go to events with COPY, which
// the server reads with no statement to parse or arrays to unpack.
func copyInsert(ctx context.Context, conn *sql.Conn, tx *sql.Tx, evs []Event) (int, error) {
	evs = firstOfEachID(evs)
	ids, times := make([]string, len(evs)), make([]time.Time, len(evs))
	for i, e := range evs {
		ids[i], times[i] = e.EventID, e.Time
	}
	rows, err := tx.QueryContext(ctx, `INSERT INTO event_ids (event_id, occurred_at)
		SELECT * FROM unnest($1::text[], $2::timestamptz[]) ON CONFLICT (event_id) DO NOTHING RETURNING event_id`, ids, times)
	if err != nil {
		return 0, fmt.Errorf("event: claim event ids: %w", err)
	}
	fresh := make(map[string]bool, len(evs))
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("event: claim event ids: %w", err)
		}
		fresh[id] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("event: claim event ids: %w", err)
	}
	keep := evs[:0:0]
	for _, e := range evs {
		if fresh[e.EventID] {
			keep = append(keep, e)
		}
	}
	if len(keep) == 0 {
		return 0, nil
	}
	opt := func(s string) any {
		if s == "" {
			return nil
		}
		return s
	}
	var n int64
	err = conn.Raw(func(dc any) error {
		c := dc.(*stdlib.Conn).Conn()
		var err error
		n, err = c.CopyFrom(ctx, pgx.Identifier{"events"}, []string{"event_id", "type", "occurred_at", "received_at",
			"channel", "source", "anonymous_id", "member_id", "session_id", "campaign", "store_id", "order_id", "properties"},
			pgx.CopyFromSlice(len(keep), func(i int) ([]any, error) {
				e := &keep[i]
				return []any{e.EventID, e.Type, e.Time, e.ReceivedAt, string(e.Channel), e.Source, opt(e.AnonymousID),
					opt(e.MemberID), opt(e.SessionID), e.Campaign, e.Store, opt(e.OrderID), string(e.Properties)}, nil
			}))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("event: copy events: %w", err)
	}
	return int(n), nil
}
