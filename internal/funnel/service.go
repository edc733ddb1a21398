package funnel

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
)

// Errors callers branch on.
var (
	ErrNotFound    = problem.New(problem.NotFound, "funnel_not_found", "no funnel of that name")
	ErrNotLaunched = problem.New(problem.Invalid, "campaign_not_launched", "the campaign has not been launched")
)

// Service stores funnel definitions and computes reports from the stream.
type Service struct {
	db  *store.DB
	now func() time.Time

	// settle bounds how long Refresh waits for event writers in flight.
	settle time.Duration
	// chunk is how many events one Refresh transaction folds at most:
	// foldChunk, smaller in tests of the chunking itself.
	chunk int

	mu    sync.Mutex              // guards cache and hits
	cache map[string]cachedReport // reports from the rollup, by definition and range
	hits  int                     // reports answered from cache, for tests
}

// cachedReport is a report from the rollup and the rollup cursor it was
// computed at.
type cachedReport struct {
	report Report
	done   int64
}

// maxCached bounds the report cache; when full it is emptied.
const maxCached = 256

// NewService returns a Service on db; now is its clock (time.Now if nil).
func NewService(db *store.DB, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, now: now, settle: 10 * time.Second, chunk: foldChunk, cache: map[string]cachedReport{}}
}

// Save validates def and stores it under its name, replacing any before it,
// and tracks it (Track) when the rollup can answer it, untracking the
// definition it replaces. It reports whether the definition is new or
// changed, so applying one file twice says "unchanged".
func (s *Service) Save(ctx context.Context, def Definition) (changed bool, err error) {
	if err := def.Validate(); err != nil {
		return false, err
	}
	spec, _ := json.Marshal(def)
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		var old string
		err := tx.QueryRowContext(ctx, `SELECT spec FROM funnels WHERE name = $1`, def.Name).Scan(&old)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			changed = true
			_, err = tx.ExecContext(ctx, `INSERT INTO funnels (name, spec, updated_at) VALUES ($1, $2, $3)`, def.Name, string(spec), s.now().UTC())
		case err == nil && old != string(spec):
			changed = true
			_, err = tx.ExecContext(ctx, `UPDATE funnels SET spec = $2, updated_at = $3 WHERE name = $1`, def.Name, string(spec), s.now().UTC())
			if err == nil {
				err = untrack(ctx, tx, old)
			}
		}
		return err
	})
	if err != nil {
		return false, fmt.Errorf("funnel: save %s: %w", def.Name, err)
	}
	// A stored funnel's reports read its per-person state (runState); it
	// is computed now for the people the rollup holds, then kept by the
	// fold.
	if changed && rollupExact(def) {
		if _, err := s.Track(ctx, def); err != nil {
			return true, err
		}
	}
	return changed, nil
}

// untrack stops keeping the state of the funnel tracked as spec, if any.
func untrack(ctx context.Context, tx *sql.Tx, spec string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM funnel_state WHERE funnel IN (SELECT id FROM funnel_tracked WHERE spec = $1)`, spec); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `DELETE FROM funnel_tracked WHERE spec = $1`, spec)
	return err
}

// Get returns the stored definition called name.
func (s *Service) Get(ctx context.Context, name string) (Definition, error) {
	var spec string
	err := s.db.R.QueryRowContext(ctx, `SELECT spec FROM funnels WHERE name = $1`, name).Scan(&spec)
	if errors.Is(err, sql.ErrNoRows) {
		return Definition{}, ErrNotFound
	}
	if err != nil {
		return Definition{}, fmt.Errorf("funnel: get %s: %w", name, err)
	}
	var d Definition
	return d, json.Unmarshal([]byte(spec), &d)
}

// List returns every stored definition by name.
func (s *Service) List(ctx context.Context) ([]Definition, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT spec FROM funnels ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("funnel: list: %w", err)
	}
	defer rows.Close()
	out := []Definition{}
	for rows.Next() {
		var spec string
		var d Definition
		if err := rows.Scan(&spec); err != nil {
			return nil, fmt.Errorf("funnel: list: %w", err)
		}
		if err := json.Unmarshal([]byte(spec), &d); err != nil {
			return nil, fmt.Errorf("funnel: list: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Run computes def over entries in [from, to). A funnel whose steps filter
// on columns only is answered, after folding in what arrived since the last
// refresh, from its per-person state when it is tracked (runState), else
// from the rollup (runRollup); one with property filters reads the stream
// (runStream). Both give the same figures: the tests hold each to a
// plain-SQL recomputation and a Go reference.
func (s *Service) Run(ctx context.Context, def Definition, from, to time.Time) (Report, error) {
	if err := def.Validate(); err != nil {
		return Report{}, err
	}
	from, to = event.Normal(from), event.Normal(to)
	if rollupExact(def) {
		if _, err := s.Refresh(ctx); err != nil {
			return Report{}, fmt.Errorf("funnel: run %s: %w", def.Name, err)
		}
		if r, _, err := s.runTracked(ctx, def, from, to); err != nil || r != nil {
			if err != nil {
				return Report{}, err
			}
			return *r, nil
		}
		r, _, err := s.runRollup(ctx, def, from, to)
		return r, err
	}
	return s.runStream(ctx, def, from, to)
}

// runStream computes def in two passes over the stream. First it finds who
// entered: the people with an event matching step 1's types and column
// filters (campaign, channel, store) in the range, through the
// (type, occurred_at) index. Then it reads only those people's events of the
// funnel's types, from `from` to `to` plus the window, through the
// per-person indexes, in chunks, and feeds them to a Counter one person at
// a time. An entry step as selective as one campaign's texts so reads a
// small part of a large stream.
func (s *Service) runStream(ctx context.Context, def Definition, from, to time.Time) (Report, error) {
	members, anons, err := s.entrants(ctx, def.Steps[0], from, to)
	if err != nil {
		return Report{}, fmt.Errorf("funnel: run %s: %w", def.Name, err)
	}
	c := NewCounter(def, from, to)
	if err := s.histories(ctx, s.db.R, c, def, from, to, members, anons, nil); err != nil {
		return Report{}, fmt.Errorf("funnel: run %s: %w", def.Name, err)
	}
	return c.Report(), nil
}

// querier is a pool or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// histories feeds c the events of def's types of the given members and
// anonymous ids, from `from` to `to` plus the window, 500 people a query;
// with upTo set only the events the rollup at upTo holds.
func (s *Service) histories(ctx context.Context, q querier, c *Counter, def Definition, from, to time.Time, members, anons []string, upTo *cursor) error {
	add := func(_ string, evs []event.Event) { c.Add(evs) }
	types := def.Types()
	for _, side := range []struct {
		col string
		ids []string
	}{{"member_id", members}, {"anonymous_id", anons}} {
		for start := 0; start < len(side.ids); start += entrantChunk {
			chunk := side.ids[start:min(start+entrantChunk, len(side.ids))]
			text, args := s.historyQuery(side.col, chunk, types, from, to.Add(time.Duration(def.Window)), upTo)
			if err := stream(ctx, q, text, args, add); err != nil {
				return err
			}
		}
	}
	return nil
}

// entrantChunk is how many people one history query reads.
const entrantChunk = 500

// entrants lists the people with an event matching step's types and column
// filters in [from, to): members by id, and anonymous ids never tied to one.
func (s *Service) entrants(ctx context.Context, step Step, from, to time.Time) (members, anons []string, err error) {
	d := s.db.Dialect
	args := []any{from, to}
	q := `SELECT DISTINCT COALESCE(member_id, ''), COALESCE(anonymous_id, '') FROM events
		WHERE occurred_at >= ` + d.Placeholders(1, 1) + ` AND occurred_at < ` + d.Placeholders(2, 1) + `
		AND type IN (` + d.Placeholders(3, len(step.Types)) + `)`
	for _, t := range step.Types {
		args = append(args, t)
	}
	for _, col := range []string{"campaign", "channel", "store"} {
		if v, ok := step.Where[col]; ok {
			if col == "store" {
				col = "store_id"
			}
			q += ` AND ` + col + ` = ` + d.Placeholders(len(args)+1, 1)
			args = append(args, v)
		}
	}
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	seenAnon := map[string]bool{}
	for rows.Next() {
		var m, a string
		if err := rows.Scan(&m, &a); err != nil {
			return nil, nil, err
		}
		switch {
		case m != "":
			members = append(members, m)
		case a != "" && !seenAnon[a]:
			seenAnon[a] = true
			anons = append(anons, a)
		}
	}
	members = slices.Compact(slices.Sorted(slices.Values(members)))
	return members, anons, rows.Err()
}

// historyQuery reads the events of types of the people in ids (by col) in
// [from, until] (only those the rollup at upTo holds, when set), person by
// person in stream order.
func (s *Service) historyQuery(col string, ids, types []string, from, until time.Time, upTo *cursor) (string, []any) {
	d := s.db.Dialect
	person := `member_id`
	extra := ``
	if col == "anonymous_id" {
		person, extra = `'anon:' || anonymous_id`, ` AND member_id IS NULL`
	}
	args := make([]any, 0, 2+len(ids)+len(types))
	args = append(args, from, until)
	for _, id := range ids {
		args = append(args, id)
	}
	for _, t := range types {
		args = append(args, t)
	}
	q := `SELECT ` + person + `, id, type, occurred_at, channel, campaign, store_id, properties FROM events
		WHERE occurred_at >= ` + d.Placeholders(1, 1) + ` AND occurred_at <= ` + d.Placeholders(2, 1) + `
		AND ` + col + ` IN (` + d.Placeholders(3, len(ids)) + `)` + extra + `
		AND type IN (` + d.Placeholders(3+len(ids), len(types)) + `)`
	if upTo != nil {
		cond, more := s.folded(*upTo, len(args)+1)
		args = append(args, more...)
		q += ` AND ` + cond
	}
	q += ` ORDER BY ` + col + `, occurred_at, id`
	return q, args
}

// stream runs q (ordered by person first) and calls fn with each person's
// events.
func stream(ctx context.Context, db querier, q string, args []any, fn func(person string, evs []event.Event)) error {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var person string
	var evs []event.Event
	for rows.Next() {
		var p, props, channel string
		var e event.Event
		if err := rows.Scan(&p, &e.Seq, &e.Type, &e.Time, &channel, &e.Campaign, &e.Store, &props); err != nil {
			return err
		}
		e.Time, e.Channel, e.Properties = e.Time.UTC(), event.Channel(channel), []byte(props)
		if p != person && len(evs) > 0 {
			fn(person, evs)
			evs = evs[:0]
		}
		person = p
		evs = append(evs, e)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(evs) > 0 {
		fn(person, evs)
	}
	return nil
}
