package event

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/store"
)

// Record writes Perk's own events inside tx, the transaction of the change
// they describe, so an event exists exactly when its change does. Events
// naming both an anonymous id and a member tie the two (identity.go); events
// with only an anonymous id already tied go to its member. A resent
// EventID is ignored. d is the database's dialect. This is the one hook
// domain packages call.
func Record(ctx context.Context, tx *sql.Tx, d store.Dialect, evs ...Event) error {
	for i := range evs {
		if evs[i].Source == "" {
			evs[i].Source = SourcePerk
		}
		evs[i].Time = Normal(evs[i].Time)
		if evs[i].ReceivedAt.IsZero() {
			evs[i].ReceivedAt = evs[i].Time
		}
		evs[i].ReceivedAt = Normal(evs[i].ReceivedAt)
		if len(evs[i].Properties) == 0 {
			evs[i].Properties = []byte(`{}`)
		}
	}
	_, err := write(ctx, tx, d, evs, nil)
	return err
}

// RecordEach writes, inside tx, one of Perk's own events of type typ at
// time at for each row of sel, a SELECT of (event_id, member_id,
// properties) with parameters args, in the order it gives them: what Record
// writes for such events, in one statement, for events raised in bulk over
// a table (a profile refresh's segment_entered, up to one per member) that
// would otherwise be read into Go and sent back. The rows name members,
// never anonymous ids, so nothing is tied. A resent event_id is ignored. It
// returns how many events were new.
func RecordEach(ctx context.Context, tx *sql.Tx, d store.Dialect, typ string, at time.Time, sel string, args ...any) (int64, error) {
	pType, pAt := "$"+strconv.Itoa(len(args)+1), "$"+strconv.Itoa(len(args)+2)
	args = append(args, typ, Normal(at))
	cols := `INSERT INTO events (event_id, type, occurred_at, received_at, channel, source, member_id, properties)`
	vals := `CAST(` + pType + ` AS TEXT), ` + d.TimeParam(pAt) + `, ` + d.TimeParam(pAt) + `, '', '` + SourcePerk + `', `
	if d == store.Postgres {
		return recordEachPG(ctx, tx, d, typ, cols, vals, pAt, sel, args)
	}
	// OR IGNORE, not an upsert clause: see insert.
	q := `WITH s (event_id, member_id, properties) AS (` + sel + `) ` + strings.Replace(cols, "INSERT", "INSERT OR IGNORE", 1) +
		` SELECT event_id, ` + vals + `member_id, properties FROM s`
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, fmt.Errorf("event: record %s: %w", typ, err)
	}
	return res.RowsAffected()
}

// recordEachPG is RecordEach on PostgreSQL. Bulk-raised ids are new but
// for a retry, so it first claims them all with a plain INSERT into
// event_ids: ON CONFLICT DO NOTHING is a speculative insertion, three WAL
// records an id and the index searched again (6 of a first refresh's 16
// seconds of events at 1,000,000 members, and the join back to its
// RETURNING another 4). Only when an id was taken (a unique violation) is
// the statement undone, to a savepoint, and the conflict-tolerant one run:
// claim each id, insert the events whose claim was new (as insertArrays).
func recordEachPG(ctx context.Context, tx *sql.Tx, d store.Dialect, typ, cols, vals, pAt, sel string, args []any) (int64, error) {
	if _, err := tx.ExecContext(ctx, `SAVEPOINT record_each`); err != nil {
		return 0, fmt.Errorf("event: record %s: %w", typ, err)
	}
	res, err := tx.ExecContext(ctx, `WITH s (event_id, member_id, properties) AS MATERIALIZED (`+sel+`),
		ids AS (INSERT INTO event_ids (event_id, occurred_at) SELECT event_id, `+d.TimeParam(pAt)+` FROM s)
		`+cols+` SELECT event_id, `+vals+`member_id, properties FROM s`, args...)
	if err == nil {
		if _, err := tx.ExecContext(ctx, `RELEASE SAVEPOINT record_each`); err != nil {
			return 0, fmt.Errorf("event: record %s: %w", typ, err)
		}
		return res.RowsAffected()
	}
	if c, ok := store.UniqueViolation(err); !ok || c != "event_ids_pkey" {
		return 0, fmt.Errorf("event: record %s: %w", typ, err)
	}
	if _, err := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT record_each`); err != nil {
		return 0, fmt.Errorf("event: record %s: %w", typ, err)
	}
	res, err = tx.ExecContext(ctx, `WITH s (event_id, member_id, properties) AS (`+sel+`),
		b AS (SELECT event_id, member_id, properties, ROW_NUMBER() OVER () AS ord FROM s),
		fresh AS (INSERT INTO event_ids (event_id, occurred_at) SELECT event_id, `+d.TimeParam(pAt)+` FROM b
			ON CONFLICT (event_id) DO NOTHING RETURNING event_id)
		`+cols+` SELECT b.event_id, `+vals+`b.member_id, b.properties FROM b JOIN fresh ON fresh.event_id = b.event_id ORDER BY ord`, args...)
	if err != nil {
		return 0, fmt.Errorf("event: record %s: %w", typ, err)
	}
	return res.RowsAffected()
}

// write resolves anonymous events to the members their ids are tied to,
// inserts evs, then ties the new pairs (which moves the anonymous events
// just written too, so a merge's count includes them) and writes the merge
// events after the events that caused them. It returns how many of evs
// were new (not resent).
// bulk, when not nil, inserts the events themselves (PostgreSQL's COPY in
// copy.go); the merge events go through insert.
func write(ctx context.Context, tx *sql.Tx, d store.Dialect, evs []Event, bulk func([]Event) (int, error)) (int, error) {
	if bulk == nil {
		bulk = func(evs []Event) (int, error) { return insert(ctx, tx, d, evs) }
	}
	tied, err := resolveAnonymous(ctx, tx, d, evs)
	if err != nil {
		return 0, err
	}
	n := 0
	for start := 0; start < len(evs); start += MaxBatch {
		end := min(start+MaxBatch, len(evs))
		k, err := bulk(evs[start:end])
		if err != nil {
			return n, err
		}
		n += k
	}
	// tied holds the pairs known before the batch and those tied in it, so
	// only a new pair costs a statement (an event resolved to its id's
	// member, or an app naming both on every event, costs none).
	var merges []Event
	for i := range evs {
		e := &evs[i]
		if e.AnonymousID != "" && e.MemberID != "" && tied[e.AnonymousID] != e.MemberID {
			tied[e.AnonymousID] = e.MemberID
			m, err := stitch(ctx, tx, e.AnonymousID, e.MemberID, viaOf(e), e)
			if err != nil {
				return n, err
			}
			if m != nil {
				merges = append(merges, *m)
			}
		}
		if e.Type == BasketCommitted && e.OrderID != "" && e.MemberID != "" {
			m, err := tieOrder(ctx, tx, e)
			if err != nil {
				return n, err
			}
			merges = append(merges, m...)
		}
	}
	if _, err := insert(ctx, tx, d, merges); err != nil {
		return n, err
	}
	return n, nil
}

const insertCols = 13

// insert writes evs in one multi-row statement; a row whose event_id exists
// is skipped by the unique index, which is what makes a resend harmless.
// SQLite says so with OR IGNORE rather than ON CONFLICT DO NOTHING: an
// upsert clause leaves the NOT NULL checks able to abort the statement half
// way, so SQLite keeps a statement journal of every page the insert touches
// (and frees it after): 30% of the ingestion's CPU. Every value is checked
// before it gets here, so no row is ever ignored for another reason.
func insert(ctx context.Context, tx *sql.Tx, d store.Dialect, evs []Event) (int, error) {
	if len(evs) == 0 {
		return 0, nil
	}
	if d == store.Postgres {
		return insertArrays(ctx, tx, evs)
	}
	var q strings.Builder
	q.Grow(200 + len(evs)*80)
	q.WriteString(`INSERT OR IGNORE INTO events (event_id, type, occurred_at, received_at, channel, source, anonymous_id,
		member_id, session_id, campaign, store_id, order_id, properties) VALUES `)
	args := make([]any, 0, len(evs)*insertCols)
	for i, e := range evs {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteByte('(')
		q.WriteString(d.Placeholders(i*insertCols+1, insertCols))
		q.WriteByte(')')
		args = appendInsertArgs(args, &e)
	}
	res, err := tx.ExecContext(ctx, q.String(), args...)
	if err != nil {
		return 0, fmt.Errorf("event: insert: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// resolveAnonymous reads, with one query for the whole batch, whom each
// anonymous id of evs is tied to; events that name only an anonymous id get
// that member. The map holds the ids already tied (to their member), so
// write stitches only the pairs that are new.
func resolveAnonymous(ctx context.Context, tx *sql.Tx, d store.Dialect, evs []Event) (map[string]string, error) {
	tied := map[string]string{}
	var ids []any
	seen := map[string]bool{}
	for _, e := range evs {
		if e.AnonymousID != "" && !seen[e.AnonymousID] {
			seen[e.AnonymousID] = true
			ids = append(ids, e.AnonymousID)
		}
	}
	if len(ids) == 0 {
		return tied, nil
	}
	rows, err := tx.QueryContext(ctx, `SELECT anonymous_id, member_id FROM identities WHERE anonymous_id IN (`+
		d.Placeholders(1, len(ids))+`)`, ids...)
	if err != nil {
		return nil, fmt.Errorf("event: resolve anonymous ids: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a, m string
		if err := rows.Scan(&a, &m); err != nil {
			return nil, fmt.Errorf("event: resolve anonymous ids: %w", err)
		}
		tied[a] = m
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("event: resolve anonymous ids: %w", err)
	}
	for i := range evs {
		if evs[i].MemberID == "" && evs[i].AnonymousID != "" {
			evs[i].MemberID = tied[evs[i].AnonymousID]
		}
	}
	return tied, nil
}

// insertArrays is insert for PostgreSQL: one array per column and unnest,
// so a batch is 13 parameters instead of 13,000 (a third of the time went
// to binding them one by one). events is partitioned by day and cannot
// hold a unique index on event_id alone (migration 0021): the statement
// first claims each event_id in event_ids, and inserts only the events
// whose claim was new, in the batch's order, so ids follow it.
func insertArrays(ctx context.Context, tx *sql.Tx, evs []Event) (int, error) {
	evs = firstOfEachID(evs)
	n := len(evs)
	var (
		ids, types, channels, sources, campaigns, stores, props = make([]string, n), make([]string, n),
			make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		times, received               = make([]time.Time, n), make([]time.Time, n)
		anons, members, sessions, ord = make([]*string, n), make([]*string, n), make([]*string, n), make([]*string, n)
	)
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	for i, e := range evs {
		ids[i], types[i], channels[i], sources[i] = e.EventID, e.Type, string(e.Channel), e.Source
		campaigns[i], stores[i], props[i] = e.Campaign, e.Store, string(e.Properties)
		times[i], received[i] = e.Time, e.ReceivedAt
		anons[i], members[i], sessions[i], ord[i] = opt(e.AnonymousID), opt(e.MemberID), opt(e.SessionID), opt(e.OrderID)
	}
	res, err := tx.ExecContext(ctx, `WITH b AS (
			SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::text[], $6::text[],
				$7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[])
				WITH ORDINALITY AS b (event_id, type, occurred_at, received_at, channel, source, anonymous_id,
					member_id, session_id, campaign, store_id, order_id, properties, ord)),
		fresh AS (INSERT INTO event_ids (event_id, occurred_at) SELECT event_id, occurred_at FROM b
			ON CONFLICT (event_id) DO NOTHING RETURNING event_id)
		INSERT INTO events (event_id, type, occurred_at, received_at, channel, source,
			anonymous_id, member_id, session_id, campaign, store_id, order_id, properties)
		SELECT b.event_id, type, occurred_at, received_at, channel, source, anonymous_id, member_id, session_id,
			campaign, store_id, order_id, properties FROM b JOIN fresh ON fresh.event_id = b.event_id ORDER BY ord`,
		ids, types, times, received, channels, sources, anons, members, sessions, campaigns, stores, ord, props)
	if err != nil {
		return 0, fmt.Errorf("event: insert: %w", err)
	}
	k, err := res.RowsAffected()
	return int(k), err
}

// firstOfEachID keeps the first event of each event_id in evs, as a
// resend within one batch is a resend all the same.
func firstOfEachID(evs []Event) []Event {
	seen := make(map[string]bool, len(evs))
	out := evs[:0:0]
	for _, e := range evs {
		if !seen[e.EventID] {
			seen[e.EventID] = true
			out = append(out, e)
		}
	}
	return out
}
