package funnel

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/store"
)

// A tracked funnel (Track) has its outcome kept per person, day and
// breakdown value in funnel_state (migration 0045): for each day in which a
// person has an event matching step 1, how far they went and how long it
// took had they entered at the first such event of that day. Refresh keeps
// it in the transaction that folds the events, for the people whose rollup
// rows it changed, recomputed from their rollup rows (or, when an event
// hidden inside a row could change the answer, their events). A report of a
// tracked funnel then reads one small row per entrant in one range of the
// table's key and adds them up in the database (runState), instead of
// reading every entrant's rows.
//
// Why a day is enough to make a range exact: a person's entry in [from, to)
// is their first step-1 event in it. A state row counts when its entry lies
// in the range and the person's last step-1 event before that day (prev_us)
// lies before from: then no earlier step-1 event is in the range, so it is
// the person's entry, and its outcome is the row's. Only a row of the day
// holding from can have step-1 events on both sides of from (entry_us <
// from <= last_us); those people are read from the stream.

// stateRow is one funnel_state row.
type stateRow struct {
	day             int64
	key             string
	entryUS, lastUS int64
	prevUS          sql.NullInt64
	reached         int
	spanUS          int64
}

// states computes a person's state rows for c's funnel from their events
// in stream order (as runRollup gives them: a rollup row's first and last
// event, and the rows of three events or more as spans); ok is false when
// an event hidden in spans could change an outcome, and the person's events
// must be given instead.
func (c *Counter) states(evs []event.Event, spans []hidden) (rows []stateRow, ok bool) {
	props := make([]map[string]any, len(evs))
	step0 := c.def.Steps[0]
	latest := map[string]int{} // breakdown value: its last row in rows
	for i := range evs {
		e := &evs[i]
		if !matches(step0, e, props, i) {
			continue
		}
		key := breakdownOf(c.def.Breakdown, e)
		us := e.Time.UnixMicro()
		day := dayOf(us)
		j, seen := latest[key]
		if seen && rows[j].day == day {
			rows[j].lastUS = us
			continue
		}
		r := stateRow{day: day, key: key, entryUS: us, lastUS: us}
		if seen {
			r.prevUS = sql.NullInt64{Int64: rows[j].lastUS, Valid: true}
		}
		reached, span, ok := c.follow(evs, i, props, spans)
		if !ok {
			return nil, false
		}
		r.reached = reached
		if reached == len(c.def.Steps)-1 {
			r.spanUS = int64(span / time.Microsecond)
		}
		latest[key] = len(rows)
		rows = append(rows, r)
	}
	return rows, true
}

// tracked is a funnel kept per person.
type tracked struct {
	id  int64
	def Definition
}

// specOf is the key a definition is tracked by: its JSON after Validate.
func specOf(def Definition) string {
	b, _ := json.Marshal(def)
	return string(b)
}

// Track has def's outcome kept per person from now on, computing it for
// everyone the rollup already holds, so its reports read aggregates
// (runState). It reports whether def was not tracked before. Only a funnel
// the rollup can answer (no property filters) can be tracked.
func (s *Service) Track(ctx context.Context, def Definition) (bool, error) {
	if err := def.Validate(); err != nil {
		return false, err
	}
	if !rollupExact(def) {
		return false, invalid("steps", "a funnel that filters on properties is read from the stream, not tracked")
	}
	spec := specOf(def)
	added := false
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		cur, err := readCursor(ctx, tx, s.db.Dialect, true) // no fold runs meanwhile
		if err != nil {
			return err
		}
		var id int64
		err = tx.QueryRowContext(ctx, `SELECT id FROM funnel_tracked WHERE spec = $1`, spec).Scan(&id)
		if err == nil {
			return nil
		}
		if err != sql.ErrNoRows {
			return err
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO funnel_tracked (spec) VALUES ($1) RETURNING id`, spec).Scan(&id); err != nil {
			return err
		}
		added = true
		types := def.Steps[0].Types
		rows, err := tx.QueryContext(ctx, `SELECT DISTINCT person FROM funnel_rollup WHERE type IN (`+
			s.db.Dialect.Placeholders(1, len(types))+`)`, anySlice(types)...)
		if err != nil {
			return err
		}
		var people []string
		for rows.Next() {
			var p string
			if err := rows.Scan(&p); err != nil {
				rows.Close()
				return err
			}
			people = append(people, p)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		return s.keepStates(ctx, tx, cur, []tracked{{id, def}}, people)
	})
	if err != nil {
		return false, fmt.Errorf("funnel: track %s: %w", def.Name, err)
	}
	return added, nil
}

func anySlice(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// trackedFunnels lists the tracked funnels.
func trackedFunnels(ctx context.Context, q querier) ([]tracked, error) {
	rows, err := q.QueryContext(ctx, `SELECT id, spec FROM funnel_tracked ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []tracked
	for rows.Next() {
		var t tracked
		var spec string
		if err := rows.Scan(&t.id, &spec); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(spec), &t.def); err != nil {
			return nil, fmt.Errorf("tracked funnel %d: %w", t.id, err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// keepTracked recomputes, in a fold's transaction at cursor cur, the state
// of the people whose rollup rows of the given types changed ("" for all
// types: a merge moved their rows).
func (s *Service) keepTracked(ctx context.Context, tx *sql.Tx, cur cursor, touched map[string]map[string]bool) error {
	funnels, err := trackedFunnels(ctx, tx)
	if err != nil || len(funnels) == 0 {
		return err
	}
	var people []string
	for p, types := range touched {
		for _, f := range funnels {
			if types[""] || slices.ContainsFunc(f.def.Types(), func(t string) bool { return types[t] }) {
				people = append(people, p)
				break
			}
		}
	}
	slices.Sort(people)
	return s.keepStates(ctx, tx, cur, funnels, people)
}

// stateChunk is how many people keepStates reads and writes at once.
const stateChunk = 500

// keepStates replaces the state rows of funnels of people by their outcome
// in the rollup at cur.
func (s *Service) keepStates(ctx context.Context, tx *sql.Tx, cur cursor, funnels []tracked, people []string) error {
	seen := map[string]bool{}
	var types []string
	for _, f := range funnels {
		for _, t := range f.def.Types() {
			if !seen[t] {
				seen[t] = true
				types = append(types, t)
			}
		}
	}
	for start := 0; start < len(people); start += stateChunk {
		chunk := people[start:min(start+stateChunk, len(people))]
		if err := s.keepChunk(ctx, tx, cur, funnels, types, chunk); err != nil {
			return fmt.Errorf("funnel state: %w", err)
		}
	}
	return nil
}

// personRows is one person's events as the rollup gives them.
type personRows struct {
	evs    []event.Event
	spans  []hidden
	lo, hi time.Time // the first and last event's times
}

func (s *Service) keepChunk(ctx context.Context, tx *sql.Tx, cur cursor, funnels []tracked, types, people []string) error {
	// By person only, through the primary key, the types picked here: with
	// a condition on type too, a planner may walk the entry index (type,
	// ...) through every person's rows, once per chunk.
	rows, err := tx.QueryContext(ctx, s.rollupOfPeople(), s.db.Dialect.TextListArg(people))
	if err != nil {
		return err
	}
	byPerson := map[string]*personRows{}
	for rows.Next() {
		var p string
		var e event.Event
		var channel string
		var n, firstUS, lastUS, lastID int64
		if err := rows.Scan(&p, &e.Type, &e.Campaign, &channel, &e.Store, &n, &firstUS, &e.Seq, &lastUS, &lastID); err != nil {
			rows.Close()
			return err
		}
		if !slices.Contains(types, e.Type) {
			continue
		}
		e.Channel, e.Time = event.Channel(channel), time.UnixMicro(firstUS).UTC()
		pr := byPerson[p]
		if pr == nil {
			pr = &personRows{lo: e.Time, hi: e.Time}
			byPerson[p] = pr
		}
		pr.evs = append(pr.evs, e)
		last := e
		last.Seq, last.Time = lastID, time.UnixMicro(lastUS).UTC()
		if n >= 2 {
			pr.evs = append(pr.evs, last)
			if n >= 3 {
				pr.spans = append(pr.spans, hidden{lo: e, hi: last})
			}
		}
		pr.lo, pr.hi = minTime(pr.lo, e.Time), maxTime(pr.hi, last.Time)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	out := make([][][]any, len(funnels)) // rows to write, per funnel
	var fallback []string                // people whose events must be read
	for _, p := range people {
		pr := byPerson[p]
		if pr == nil {
			continue
		}
		sortStream(pr.evs)
		var got [][]stateRow
		for _, f := range funnels {
			rs, ok := NewCounter(f.def, time.Time{}, time.Time{}).states(pr.evs, pr.spans)
			if !ok {
				got = nil
				fallback = append(fallback, p)
				break
			}
			got = append(got, rs)
		}
		for i, rs := range got {
			out[i] = appendState(out[i], p, rs)
		}
	}
	if len(fallback) > 0 {
		var lo, hi time.Time
		for i, p := range fallback {
			pr := byPerson[p]
			if i == 0 {
				lo, hi = pr.lo, pr.hi
			}
			lo, hi = minTime(lo, pr.lo), maxTime(hi, pr.hi)
		}
		var members, anons []string
		for _, p := range fallback {
			if a, ok := strings.CutPrefix(p, "anon:"); ok {
				anons = append(anons, a)
			} else {
				members = append(members, p)
			}
		}
		for _, side := range []struct {
			col string
			ids []string
		}{{"member_id", members}, {"anonymous_id", anons}} {
			if len(side.ids) == 0 {
				continue
			}
			q, qargs := s.historyQuery(side.col, side.ids, types, lo, hi, &cur)
			err := stream(ctx, tx, q, qargs, func(p string, evs []event.Event) {
				for i, f := range funnels {
					rs, _ := NewCounter(f.def, time.Time{}, time.Time{}).states(evs, nil)
					out[i] = appendState(out[i], p, rs)
				}
			})
			if err != nil {
				return err
			}
		}
	}
	for i, f := range funnels {
		if _, err := tx.ExecContext(ctx, s.deleteStateOfPeople(), f.id, s.db.Dialect.TextListArg(people)); err != nil {
			return err
		}
		if err := s.insertStates(ctx, tx, f.id, out[i]); err != nil {
			return err
		}
	}
	return nil
}

// The fold reads the rollup rows and replaces the state rows of 500
// people at a time, a person at a time through an index whatever the
// tables' statistics say: in a long fold autovacuum falls behind, and
// plans made from statistics taken when the tables were a hundredth of
// their size filtered every state row of the funnel against the 500 people
// (person IN ($2, ..., $501): 0.9 s a statement at 1.2M events) or hashed
// the people and scanned the whole rollup (0.3 s). The people are one
// parameter (store.Dialect.TextListArg); on SQLite IN over its TextList
// probes the index with each value.

// rollupOfPeople reads the rollup rows of the people in parameter 1. On
// PostgreSQL a LATERAL subquery (OFFSET 0 keeps it from being flattened
// into a join the planner may hash) looks each person up.
func (s *Service) rollupOfPeople() string {
	const cols = `person, type, campaign, channel, store_id, n, first_us, first_id, last_us, last_id`
	if s.db.Dialect == store.Postgres {
		return `SELECT r.* FROM unnest($1::text[]) AS p(person)
			CROSS JOIN LATERAL (SELECT ` + cols + ` FROM funnel_rollup WHERE person = p.person OFFSET 0) AS r`
	}
	return `SELECT ` + cols + ` FROM funnel_rollup WHERE person IN (` + s.db.Dialect.TextList("?") + `)`
}

// deleteStateOfPeople deletes the state rows of funnel 1 of the people in
// parameter 2. On PostgreSQL it finds the rows' addresses person by
// person as rollupOfPeople does and deletes them by address (a TID scan).
func (s *Service) deleteStateOfPeople() string {
	if s.db.Dialect == store.Postgres {
		return `DELETE FROM funnel_state WHERE ctid = ANY (ARRAY(SELECT r.ctid FROM unnest($2::text[]) AS p(person)
			CROSS JOIN LATERAL (SELECT ctid FROM funnel_state WHERE funnel = $1 AND person = p.person OFFSET 0) AS r))`
	}
	return `DELETE FROM funnel_state WHERE funnel = ? AND person IN (` + s.db.Dialect.TextList("?") + `)`
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// sortStream puts evs in stream order: time, then arrival.
func sortStream(evs []event.Event) {
	slices.SortFunc(evs, func(a, b event.Event) int {
		if c := a.Time.Compare(b.Time); c != 0 {
			return c
		}
		return int(a.Seq - b.Seq)
	})
}

// stateCols is how many columns a funnel_state row has besides funnel.
const stateCols = 8

func appendState(out [][]any, person string, rs []stateRow) [][]any {
	for _, r := range rs {
		out = append(out, []any{r.day, person, r.key, r.entryUS, r.lastUS, r.prevUS, r.reached, r.spanUS})
	}
	return out
}

// insertStates writes rows of funnel: on PostgreSQL one statement of
// arrays through unnest, on SQLite multi-row statements.
func (s *Service) insertStates(ctx context.Context, tx *sql.Tx, funnel int64, rows [][]any) error {
	if len(rows) == 0 {
		return nil
	}
	const cols = `INSERT INTO funnel_state (funnel, day, person, key, entry_us, last_us, prev_us, reached, span_us) `
	if s.db.Dialect == store.Postgres {
		n := len(rows)
		days, entries, lasts, reached, spans := make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n), make([]int64, 0, n)
		persons, keys := make([]string, 0, n), make([]string, 0, n)
		prevs := make([]*int64, 0, n)
		for _, r := range rows {
			days, persons, keys = append(days, r[0].(int64)), append(persons, r[1].(string)), append(keys, r[2].(string))
			entries, lasts = append(entries, r[3].(int64)), append(lasts, r[4].(int64))
			var prev *int64
			if p := r[5].(sql.NullInt64); p.Valid {
				prev = &p.Int64
			}
			prevs, reached, spans = append(prevs, prev), append(reached, int64(r[6].(int))), append(spans, r[7].(int64))
		}
		_, err := tx.ExecContext(ctx, cols+`SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::bigint[],
			$6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[])`, funnel, days, persons, keys, entries, lasts, prevs, reached, spans)
		return err
	}
	const per = 100
	one := "(?, " + strings.TrimSuffix(strings.Repeat("?, ", stateCols), ", ") + ")"
	for start := 0; start < len(rows); start += per {
		chunk := rows[start:min(start+per, len(rows))]
		args := make([]any, 0, len(chunk)*(stateCols+1))
		for _, r := range chunk {
			args = append(append(args, funnel), r...)
		}
		q := cols + `VALUES ` + strings.TrimSuffix(strings.Repeat(one+", ", len(chunk)), ", ")
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return err
		}
	}
	return nil
}

// trackedID returns the id def is tracked under, or 0.
func trackedID(ctx context.Context, q interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}, def Definition) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `SELECT id FROM funnel_tracked WHERE spec = $1`, specOf(def)).Scan(&id)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return id, err
}

// runState computes tracked funnel id's report over [from, to) from its
// state rows, in one snapshot: the rows whose entry is the person's first
// in the range summed in the database, and the people whose entry the day's
// row cannot tell (step-1 events on both sides of from in from's day) from
// the stream, up to the rollup's cursor.
func (s *Service) runState(ctx context.Context, tx *sql.Tx, id int64, def Definition, from, to time.Time) (Report, int, error) {
	cur, err := readCursor(ctx, tx, s.db.Dialect, false)
	if err != nil {
		return Report{}, 0, err
	}
	fromUS, toUS := from.UnixMicro(), to.UnixMicro()
	first := dayOf(fromUS)
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT person FROM funnel_state
		WHERE funnel = $1 AND day = $2 AND entry_us < $3 AND last_us >= $3 AND entry_us < $4`, id, first, fromUS, toUS)
	if err != nil {
		return Report{}, 0, err
	}
	var members, anons []string
	split := 0
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			rows.Close()
			return Report{}, 0, err
		}
		split++
		if a, ok := strings.CutPrefix(p, "anon:"); ok {
			anons = append(anons, a)
		} else {
			members = append(members, p)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Report{}, 0, err
	}
	c := NewCounter(def, from, to)
	rows, err = tx.QueryContext(ctx, `SELECT key, reached, span_us, COUNT(*) FROM funnel_state s
		WHERE funnel = $1 AND day >= $2 AND day <= $3 AND entry_us >= $4 AND entry_us < $5 AND (prev_us IS NULL OR prev_us < $4)
		AND person NOT IN (SELECT a.person FROM funnel_state a
			WHERE a.funnel = $1 AND a.day = $2 AND a.entry_us < $4 AND a.last_us >= $4 AND a.entry_us < $5)
		GROUP BY key, reached, span_us`, id, first, dayOf(toUS-1), fromUS, toUS)
	if err != nil {
		return Report{}, 0, err
	}
	for rows.Next() {
		var key string
		var reached int
		var spanUS, n int64
		if err := rows.Scan(&key, &reached, &spanUS, &n); err != nil {
			rows.Close()
			return Report{}, 0, err
		}
		c.addOutcome(key, reached, time.Duration(spanUS)*time.Microsecond, int(n))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Report{}, 0, err
	}
	slices.Sort(members)
	if err := s.histories(ctx, tx, c, def, from, to, members, anons, &cur); err != nil {
		return Report{}, 0, err
	}
	return c.Report(), split, nil
}

// runTracked computes def from its state when it is tracked; the report is
// nil when it is not. It also returns how many people it read from the
// stream.
func (s *Service) runTracked(ctx context.Context, def Definition, from, to time.Time) (*Report, int, error) {
	tx, err := s.db.ReadSnapshot(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("funnel: run %s: %w", def.Name, err)
	}
	defer tx.Rollback()
	id, err := trackedID(ctx, tx, def)
	if err != nil || id == 0 {
		return nil, 0, err
	}
	r, n, err := s.runState(ctx, tx, id, def, from, to)
	if err != nil {
		return nil, 0, fmt.Errorf("funnel: run %s: %w", def.Name, err)
	}
	return &r, n, nil
}
