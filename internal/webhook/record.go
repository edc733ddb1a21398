package webhook

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/id"
	"github.com/perk-platform/perk/internal/store"
)

var (
	_ change.Recorder = (*Service)(nil)
	_ change.Filter   = (*Service)(nil)
)

// Wants reports whether an endpoint may want events of type t, from the
// cached subscriptions; when they are due for a reload it says yes, and
// Record decides.
func (s *Service) Wants(t string) bool { return s.cache.wants(t) }

// Payload is the JSON body of every delivery.
type Payload struct {
	Type      string         `json:"type"`
	Timestamp time.Time      `json:"timestamp"`
	Data      map[string]any `json:"data"`
}

const deliveryCols = 8 // columns of one outbox row in the INSERT below

// Record writes one outbox row per endpoint subscribed to each event's
// type, in tx, the transaction of the change. An event nobody subscribed to
// costs nothing (the subscriptions are cached); otherwise one query reads
// the members' CRM ids and one statement writes every row.
func (s *Service) Record(ctx context.Context, tx *sql.Tx, events ...change.Event) error {
	_, subs, err := s.cache.get(ctx, tx, false)
	if err != nil {
		return fmt.Errorf("webhook record: %w", err)
	}
	wanted := events[:0:0]
	for _, e := range events {
		if len(subs[e.Type]) > 0 {
			wanted = append(wanted, e)
		}
	}
	if len(wanted) == 0 {
		return nil
	}
	ext, err := externalIDs(ctx, tx, s.db.Dialect, wanted)
	if err != nil {
		return fmt.Errorf("webhook record: %w", err)
	}
	now := s.utc()
	expires := now.Add(s.opt.RetryFor)
	var args []any
	rows := 0
	for _, e := range wanted {
		data := make(map[string]any, len(e.Data)+2)
		for k, v := range e.Data {
			data[k] = v
		}
		if e.MemberID != "" {
			data["member_id"] = e.MemberID
			data["external_id"] = nil
			x := ext[e.MemberID]
			if e.ExternalID != nil {
				x = *e.ExternalID
			}
			if x != "" {
				data["external_id"] = x
			}
		}
		body, err := json.Marshal(Payload{Type: e.Type, Timestamp: now, Data: data})
		if err != nil {
			return fmt.Errorf("webhook record %s: %w", e.Type, err)
		}
		eventID := id.New("evt", now)
		for _, ep := range subs[e.Type] {
			args = append(args, id.New("whd", now), ep.ID, eventID, e.Type, string(body), now, now, expires)
			rows++
		}
	}
	// At most insertRows rows a statement: an import reports a whole
	// batch of members at once, and PostgreSQL takes at most 65,535
	// parameters a statement.
	for len(args) > 0 {
		n := min(rows, insertRows)
		var b strings.Builder
		b.WriteString(`INSERT INTO webhook_deliveries (id, endpoint_id, event_id, event_type, payload, next_at, created_at, expires_at) VALUES `)
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString("(" + s.db.Dialect.Placeholders(1+i*deliveryCols, deliveryCols) + ")")
		}
		if _, err := tx.ExecContext(ctx, b.String(), args[:n*deliveryCols]...); err != nil {
			return fmt.Errorf("webhook record: %w", err)
		}
		args, rows = args[n*deliveryCols:], rows-n
	}
	return nil
}

const insertRows = 1000

// externalIDs reads the CRM ids of the events' members, as they stand in
// tx (so an erasure reports the id it is about to clear).
// A member for whom one of the events names the CRM id is not looked up:
// the ledger's points.changed recorded with the checkout's events takes the
// id the checkout passed, and the till's commit needs no query.
func externalIDs(ctx context.Context, tx *sql.Tx, d store.Dialect, events []change.Event) (map[string]string, error) {
	out := map[string]string{}
	for _, e := range events {
		if e.MemberID != "" && e.ExternalID != nil {
			out[e.MemberID] = *e.ExternalID
		}
	}
	var ids []any
	seen := map[string]bool{}
	for _, e := range events {
		if _, known := out[e.MemberID]; e.MemberID != "" && !known && !seen[e.MemberID] {
			seen[e.MemberID] = true
			ids = append(ids, e.MemberID)
		}
	}
	if len(ids) == 0 {
		return out, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, COALESCE(external_id, '') FROM members WHERE id IN (`+d.Placeholders(1, len(ids))+`)`, ids...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var m, x string
		if err := rows.Scan(&m, &x); err != nil {
			return nil, err
		}
		out[m] = x
	}
	return out, rows.Err()
}
