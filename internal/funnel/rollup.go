package funnel

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/store"
)

// The rollup (table funnel_rollup, migration 0022) folds the event stream
// per person, UTC day, type, campaign, channel and store into one row that
// keeps the number of events and, exactly, the first and the last of them
// (time in microseconds and arrival id). Funnels read it instead of the
// stream when their steps filter on columns only (rollupExact); run.go says
// when its answer is exact and what is read from the stream instead.
//
// It is kept by Refresh from the events table in commit order (Refresh), so
// the write path knows nothing of it: a late event (occurred long ago) is a
// new event and folds into its own day's row; a merge (an anonymous id becoming a member)
// moves rows of events already folded, and is seen as its identity_merged
// event, which the stream writes after moving the events. Erasure keeps a
// member's events and their member id, and the rollup holds nothing else of
// them (no properties, no anonymous id of a member's event).

// dayMicros is a UTC day in microseconds.
const dayMicros = int64(24 * time.Hour / time.Microsecond)

// foldChunk is how many events one Refresh transaction folds at most.
//
// On SQLite that transaction holds the one writer, 2-4 s for a full
// chunk. Chunks of 5,000 and 25,000 were tried (docs/benchmarks.md, "The
// fold's chunk on SQLite"): under `perk bench events` they cut the p99 of
// an event batch from 1.9-2.5 s to 0.8-1.7 s but ingested 10-15% fewer
// events for 8-15% more CPU an event, each short commit writing again the
// random rollup pages a long one writes once; so one size for both.
const foldChunk = 200_000

// rollupKey is one rollup row's identity.
type rollupKey struct {
	person, typ, campaign, channel, store string
	day                                   int64
}

// rollupRow is one rollup row's figures.
type rollupRow struct {
	n                 int64
	firstUS, firstID  int64
	lastUS, lastID    int64
	firstSet, lastSet bool
}

func (r *rollupRow) fold(us, id int64) {
	r.n++
	if !r.firstSet || us < r.firstUS || (us == r.firstUS && id < r.firstID) {
		r.firstUS, r.firstID, r.firstSet = us, id, true
	}
	if !r.lastSet || us > r.lastUS || (us == r.lastUS && id > r.lastID) {
		r.lastUS, r.lastID, r.lastSet = us, id, true
	}
}

func dayOf(us int64) int64 {
	d := us / dayMicros
	if us < 0 && us%dayMicros != 0 {
		d--
	}
	return d
}

// cursor is the rollup's progress: every event at or before (tx, id) in
// commit order is folded in (tx is always 0 on SQLite, whose one writer
// commits ids in order). gen counts the folds, for the report cache.
type cursor struct{ tx, id, gen int64 }

// readCursor reads the rollup's cursor in q, locking its row when lock is
// set (PostgreSQL; SQLite's one writer needs none).
func readCursor(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, d store.Dialect, lock bool) (cursor, error) {
	text := `SELECT done_tx, done_id, gen FROM funnel_rollup_state WHERE one = 1`
	if lock && d == store.Postgres {
		text += ` FOR UPDATE`
	}
	var c cursor
	err := q.QueryRowContext(ctx, text).Scan(&c.tx, &c.id, &c.gen)
	return c, err
}

// Refresh folds every event committed since the last call into the rollup
// (and the tracked funnels' per-person state) and returns how many it read.
// It is safe to call from several goroutines and instances at once: each
// transaction takes the cursor row first, so two never fold the same
// events.
//
// Arrival ids are handed out at INSERT, not at commit, so on PostgreSQL an
// id can become visible after a larger one. Refresh therefore follows the
// order the CRM feed does (store.Dialect.LogBoundary): by the writing
// transaction's id (events.tx), up to the oldest transaction of this
// database still in progress, below which every event is final. An event
// writer is never waited for, nor made to wait: its events are folded by
// the first Refresh after it ends. Refresh first waits, up to 10 s
// (Service.settle), for the transactions of this database that had begun
// writing when it was called to end (store.DB.WaitLog), so a report asked
// right after a write includes it; they are usually milliseconds away. A
// longer one (a migration, a bulk import) only delays what is folded: the
// rest waits for the next Refresh, never skipped nor folded twice. On SQLite the one writer commits ids in order and the
// position is the id.
func (s *Service) Refresh(ctx context.Context) (int, error) {
	d := s.db.Dialect
	floor, err := s.db.WaitLog(ctx, d.LogBoundaryOf("events", "id"), s.settle)
	if err != nil {
		return 0, fmt.Errorf("funnel: rollup: %w", err)
	}
	var boundary int64
	if err := s.db.R.QueryRowContext(ctx, d.LogBoundaryOf("events", "id")).Scan(&boundary); err != nil {
		return 0, fmt.Errorf("funnel: rollup boundary: %w", err)
	}
	boundary = max(boundary, floor)
	c, err := readCursor(ctx, s.db.R, d, false)
	if err != nil {
		return 0, fmt.Errorf("funnel: rollup cursor: %w", err)
	}
	var more bool
	if err := s.db.R.QueryRowContext(ctx, `SELECT EXISTS (`+s.pendingQuery(1)+`)`, s.pendingArgs(c, boundary)...).Scan(&more); err != nil {
		return 0, fmt.Errorf("funnel: rollup: %w", err)
	}
	total := 0
	for more {
		var n int
		err := s.db.Tx(ctx, func(tx *sql.Tx) error {
			var err error
			n, err = s.refreshChunk(ctx, tx, boundary)
			return err
		})
		if err != nil {
			return total, fmt.Errorf("funnel: rollup: %w", err)
		}
		total += n
		more = n == s.chunk
	}
	return total, nil
}

// pendingQuery selects the next events after a cursor and below a boundary
// (pendingArgs), in the order they are folded, at most limit of them.
func (s *Service) pendingQuery(limit int) string {
	cols := `SELECT id, type, occurred_at, channel, campaign, store_id, COALESCE(member_id, ''), COALESCE(anonymous_id, ''), `
	if s.db.Dialect == store.Postgres {
		return cols + `tx FROM events WHERE (tx, id) > ($1, $2) AND tx < $3 ORDER BY tx, id LIMIT ` + strconv.Itoa(limit)
	}
	return cols + `0 FROM events WHERE id > $1 AND id < $2 ORDER BY id LIMIT ` + strconv.Itoa(limit)
}

func (s *Service) pendingArgs(c cursor, boundary int64) []any {
	if s.db.Dialect == store.Postgres {
		return []any{c.tx, c.id, boundary}
	}
	return []any{c.id, boundary}
}

// folded is the condition on events that selects what the rollup at c
// holds, its placeholders numbered from next on, and its arguments.
func (s *Service) folded(c cursor, next int) (string, []any) {
	d := s.db.Dialect
	if d == store.Postgres {
		return `(tx, id) <= (` + d.Placeholders(next, 2) + `)`, []any{c.tx, c.id}
	}
	return `id <= ` + d.Placeholders(next, 1), []any{c.id}
}

// refreshChunk folds the next events below boundary in tx, keeps the
// tracked funnels' state of the people they touch, and moves the cursor.
func (s *Service) refreshChunk(ctx context.Context, tx *sql.Tx, boundary int64) (n int, err error) {
	c, err := readCursor(ctx, tx, s.db.Dialect, true)
	if err != nil {
		return 0, err
	}
	folded := map[rollupKey]*rollupRow{}
	type merge struct{ anon, member string }
	var merges []merge
	next := c
	err = s.db.Dialect.InIndexOrder(ctx, tx, func() error {
		rows, err := tx.QueryContext(ctx, s.pendingQuery(s.chunk), s.pendingArgs(c, boundary)...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var id, xid int64
			var at time.Time
			var k rollupKey
			var member, anon string
			if err := rows.Scan(&id, &k.typ, &at, &k.channel, &k.campaign, &k.store, &member, &anon, &xid); err != nil {
				return err
			}
			n++
			next.tx, next.id = xid, id
			k.person = member
			if k.person == "" {
				k.person = anonPerson(anon)
			}
			us := at.UnixMicro()
			k.day = dayOf(us)
			r := folded[k]
			if r == nil {
				r = &rollupRow{}
				folded[k] = r
			}
			r.fold(us, id)
			if k.typ == event.IdentityMerged && anon != "" && member != "" {
				merges = append(merges, merge{anon, member})
			}
		}
		return rows.Err()
	})
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	next.gen++
	if err := s.upsert(ctx, tx, folded); err != nil {
		return 0, err
	}
	// A merge moved the anonymous id's events to the member before its
	// event was written, so the events read above already name the member:
	// only rows folded before the merge still name the anonymous id.
	days := map[int64]bool{}
	touched := map[string]map[string]bool{} // person: types folded or moved
	touch := func(person, typ string) {
		if touched[person] == nil {
			touched[person] = map[string]bool{}
		}
		touched[person][typ] = true
	}
	for k := range folded {
		days[k.day] = true
		touch(k.person, k.typ)
	}
	for _, m := range merges {
		if err := rekey(ctx, tx, anonPerson(m.anon), m.member, days); err != nil {
			return 0, err
		}
		touch(anonPerson(m.anon), "")
		touch(m.member, "")
	}
	if err := markDays(ctx, tx, days, next.gen); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE funnel_rollup_state SET done_tx = $1, done_id = $2, gen = $3 WHERE one = 1`,
		next.tx, next.id, next.gen); err != nil {
		return 0, err
	}
	if err := s.keepTracked(ctx, tx, next, touched); err != nil {
		return 0, err
	}
	return n, nil
}

// anonPerson is the person key of an anonymous id never tied to a member,
// the same as the stream queries' 'anon:' || anonymous_id.
func anonPerson(anon string) string { return "anon:" + anon }

// mergeSet is the ON CONFLICT clause that folds a row into an existing one.
const mergeSet = ` ON CONFLICT (person, day, type, campaign, channel, store_id) DO UPDATE SET
	n = funnel_rollup.n + excluded.n,
	first_us = CASE WHEN excluded.first_us < funnel_rollup.first_us OR (excluded.first_us = funnel_rollup.first_us AND excluded.first_id < funnel_rollup.first_id) THEN excluded.first_us ELSE funnel_rollup.first_us END,
	first_id = CASE WHEN excluded.first_us < funnel_rollup.first_us OR (excluded.first_us = funnel_rollup.first_us AND excluded.first_id < funnel_rollup.first_id) THEN excluded.first_id ELSE funnel_rollup.first_id END,
	last_us = CASE WHEN excluded.last_us > funnel_rollup.last_us OR (excluded.last_us = funnel_rollup.last_us AND excluded.last_id > funnel_rollup.last_id) THEN excluded.last_us ELSE funnel_rollup.last_us END,
	last_id = CASE WHEN excluded.last_us > funnel_rollup.last_us OR (excluded.last_us = funnel_rollup.last_us AND excluded.last_id > funnel_rollup.last_id) THEN excluded.last_id ELSE funnel_rollup.last_id END`

// rekey moves the rows of person from to person to, folding them into the
// rows to already has, and adds the days it changes to days.
func rekey(ctx context.Context, tx *sql.Tx, from, to string, days map[int64]bool) error {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT day FROM funnel_rollup WHERE person = $1`, from)
	if err != nil {
		return fmt.Errorf("move %s: %w", from, err)
	}
	for rows.Next() {
		var d int64
		if err := rows.Scan(&d); err != nil {
			rows.Close()
			return fmt.Errorf("move %s: %w", from, err)
		}
		days[d] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("move %s: %w", from, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO funnel_rollup (person, day, type, campaign, channel, store_id, n, first_us, first_id, last_us, last_id)
		SELECT $2, day, type, campaign, channel, store_id, n, first_us, first_id, last_us, last_id FROM funnel_rollup WHERE person = $1`+mergeSet,
		from, to); err != nil {
		return fmt.Errorf("move %s: %w", from, err)
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM funnel_rollup WHERE person = $1`, from); err != nil {
		return fmt.Errorf("move %s: %w", from, err)
	}
	return nil
}

// markDays records that days changed at fold gen, for the report cache.
func markDays(ctx context.Context, tx *sql.Tx, days map[int64]bool, gen int64) error {
	if len(days) == 0 {
		return nil
	}
	args := []any{gen}
	var q strings.Builder
	q.WriteString(`INSERT INTO funnel_rollup_days (day, changed_id) VALUES `)
	for _, d := range slices.Sorted(maps.Keys(days)) {
		if len(args) > 1 {
			q.WriteString(`, `)
		}
		args = append(args, d)
		fmt.Fprintf(&q, `($%d, $1)`, len(args))
	}
	q.WriteString(` ON CONFLICT (day) DO UPDATE SET changed_id = excluded.changed_id`)
	_, err := tx.ExecContext(ctx, q.String(), args...)
	return err
}

// upsertRows is how many rows one SQLite upsert statement carries (11
// parameters each).
const upsertRows = 200

// upsert folds rows into the rollup: on PostgreSQL one statement of arrays
// through unnest, on SQLite multi-row statements with ? parameters (SQLite
// finds $N parameters by a linear scan).
func (s *Service) upsert(ctx context.Context, tx *sql.Tx, folded map[rollupKey]*rollupRow) error {
	if len(folded) == 0 {
		return nil
	}
	const cols = `INSERT INTO funnel_rollup (person, day, type, campaign, channel, store_id, n, first_us, first_id, last_us, last_id) `
	if s.db.Dialect == store.Postgres {
		n := len(folded)
		persons, types, campaigns, channels, stores := make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n), make([]string, 0, n)
		days, ns, fus, fid, lus, lid := make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n)
		for k, r := range folded {
			persons, types, campaigns, channels, stores = append(persons, k.person), append(types, k.typ), append(campaigns, k.campaign), append(channels, k.channel), append(stores, k.store)
			days, ns, fus, fid, lus, lid = append(days, k.day), append(ns, r.n), append(fus, r.firstUS), append(fid, r.firstID), append(lus, r.lastUS), append(lid, r.lastID)
		}
		_, err := tx.ExecContext(ctx, cols+`SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[],
			$7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[])`+mergeSet,
			persons, days, types, campaigns, channels, stores, ns, fus, fid, lus, lid)
		return err
	}
	// In key order, so the statement walks the B-trees forward; one
	// prepared statement of upsertRows rows reused, and one for the rest.
	keys := slices.SortedFunc(maps.Keys(folded), compareKeys)
	statement := func(rows int) string {
		return cols + `VALUES ` + strings.TrimSuffix(strings.Repeat(`(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), `, rows), `, `) + mergeSet
	}
	var full *sql.Stmt
	defer func() {
		if full != nil {
			full.Close()
		}
	}()
	args := make([]any, 0, upsertRows*11)
	for i, k := range keys {
		r := folded[k]
		args = append(args, k.person, k.day, k.typ, k.campaign, k.channel, k.store, r.n, r.firstUS, r.firstID, r.lastUS, r.lastID)
		if len(args) < upsertRows*11 && i < len(keys)-1 {
			continue
		}
		var err error
		if len(args) == upsertRows*11 {
			if full == nil {
				if full, err = tx.PrepareContext(ctx, statement(upsertRows)); err != nil {
					return err
				}
			}
			_, err = full.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, statement(len(args)/11), args...)
		}
		if err != nil {
			return err
		}
		args = args[:0]
	}
	return nil
}

// compareKeys orders rollup keys as the table's primary key does. It
// stops at the first column that differs: cmp.Or would compare all six
// (its arguments are evaluated first), which was a sixth of the fold's CPU
// on SQLite.
func compareKeys(a, b rollupKey) int {
	if c := strings.Compare(a.person, b.person); c != 0 {
		return c
	}
	if c := cmp.Compare(a.day, b.day); c != 0 {
		return c
	}
	if c := strings.Compare(a.typ, b.typ); c != 0 {
		return c
	}
	if c := strings.Compare(a.campaign, b.campaign); c != 0 {
		return c
	}
	if c := strings.Compare(a.channel, b.channel); c != 0 {
		return c
	}
	return strings.Compare(a.store, b.store)
}

// KeepRollup calls Refresh every interval until ctx ends, so a report has
// little left to fold; errors are logged and retried at the next tick.
func (s *Service) KeepRollup(ctx context.Context, every time.Duration, log *slog.Logger) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := s.Refresh(ctx); err != nil && ctx.Err() == nil && log != nil {
			log.Error("funnel rollup", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
