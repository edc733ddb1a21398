package funnel

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/event"
)

// rollupExact reports whether def can be answered from the rollup: its
// filters are on columns the rollup keeps (campaign, channel, store), not
// on properties.
func rollupExact(def Definition) bool {
	for _, s := range def.Steps {
		for k := range s.Where {
			if strings.HasPrefix(k, "properties.") {
				return false
			}
		}
	}
	return true
}

// runRollup computes def from the rollup, in one query and one snapshot.
//
// Why it is exact. A rollup row gives two of its events exactly, its first
// and its last (time and arrival id); a row of one or two events gives all
// of them. The counter is given those events, and the spans inside rows of
// three or more events are "hidden". The funnel's answer depends only on
// the earliest event of each step after a point, so a hidden event matters
// only when that point falls strictly inside its row's span: an entry range
// starting inside a step-1 row, or the event that met step k lying inside a
// row matching step k+1 (and not meeting it itself). The counter then
// gives up on that person (Counter.add reports false) and their events are
// read from the stream instead, up to the rollup's cursor, so the figures
// are those of the stream at that cursor. Times are kept to the
// microsecond, as the stream keeps them, so the window and the median time
// to convert are exact too.
//
// The query: per person, the entry (t1: the earliest given event of step 1
// in the range) and whether a step-1 row straddles `from` with hidden
// events (amb); then that person's rows of the funnel's types overlapping
// [t1, t1 + window] (with a breakdown, up to `to` plus the window, since
// each breakdown value enters on its own), through the primary key
// (person, day, ...).
//
// It also returns how many people it read from the stream.
func (s *Service) runRollup(ctx context.Context, def Definition, from, to time.Time) (Report, int, error) {
	tx, err := s.db.ReadSnapshot(ctx)
	if err != nil {
		return Report{}, 0, fmt.Errorf("funnel: run %s: %w", def.Name, err)
	}
	defer tx.Rollback()
	cur, err := readCursor(ctx, tx, s.db.Dialect, false)
	if err != nil {
		return Report{}, 0, fmt.Errorf("funnel: run %s: %w", def.Name, err)
	}
	done := cur.gen
	key, valid, err := s.fromCache(ctx, tx, def, from, to)
	if err != nil {
		return Report{}, 0, fmt.Errorf("funnel: run %s: %w", def.Name, err)
	}
	if r, ok := valid(done); ok {
		return r, 0, nil
	}
	c := NewCounter(def, from, to)
	q, args := s.rollupQuery(def, from, to)
	rows, err := tx.QueryContext(ctx, q, args...)
	if err != nil {
		return Report{}, 0, fmt.Errorf("funnel: run %s: %w", def.Name, err)
	}
	var (
		fallback []string // people whose events the rollup cannot stand for
		person   string
		amb      bool
		evs      []event.Event
		spans    []hidden
	)
	flush := func() {
		if person == "" {
			return
		}
		slices.SortFunc(evs, func(a, b event.Event) int {
			if c := a.Time.Compare(b.Time); c != 0 {
				return c
			}
			return int(a.Seq - b.Seq)
		})
		if amb || !c.add(evs, spans) {
			fallback = append(fallback, person)
		}
		evs, spans = evs[:0], spans[:0]
	}
	for rows.Next() {
		var (
			p                                   string
			a                                   int
			typ, campaign, channel, store       sql.NullString
			n, firstUS, firstID, lastUS, lastID sql.NullInt64
		)
		if err := rows.Scan(&p, &a, &typ, &campaign, &channel, &store, &n, &firstUS, &firstID, &lastUS, &lastID); err != nil {
			rows.Close()
			return Report{}, 0, fmt.Errorf("funnel: run %s: %w", def.Name, err)
		}
		if p != person {
			flush()
			person, amb = p, a == 1
		}
		if !typ.Valid {
			continue // nobody's rows: a person entering ambiguously
		}
		first := event.Event{Seq: firstID.Int64, Type: typ.String, Time: time.UnixMicro(firstUS.Int64).UTC(),
			Channel: event.Channel(channel.String), Campaign: campaign.String, Store: store.String}
		evs = append(evs, first)
		if n.Int64 >= 2 {
			last := first
			last.Seq, last.Time = lastID.Int64, time.UnixMicro(lastUS.Int64).UTC()
			evs = append(evs, last)
			if n.Int64 >= 3 {
				spans = append(spans, hidden{lo: first, hi: last})
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Report{}, 0, fmt.Errorf("funnel: run %s: %w", def.Name, err)
	}
	flush()
	var members, anons []string
	for _, p := range fallback {
		if a, ok := strings.CutPrefix(p, "anon:"); ok {
			anons = append(anons, a)
		} else {
			members = append(members, p)
		}
	}
	if err := s.histories(ctx, tx, c, def, from, to, members, anons, &cur); err != nil {
		return Report{}, 0, fmt.Errorf("funnel: run %s: %w", def.Name, err)
	}
	r := c.Report()
	s.mu.Lock()
	if len(s.cache) >= maxCached {
		clear(s.cache)
	}
	s.cache[key] = cachedReport{report: cloneReport(r), done: done}
	s.mu.Unlock()
	return r, len(fallback), nil
}

// fromCache looks up the cached report of def over [from, to) and returns
// its key and a function that, given the rollup's cursor now, returns a
// copy of it if no day the report reads (from `from` to `to` plus the
// window) changed since it was computed: no late event, no merge.
func (s *Service) fromCache(ctx context.Context, tx *sql.Tx, def Definition, from, to time.Time) (string, func(done int64) (Report, bool), error) {
	spec, _ := json.Marshal(def)
	key := string(spec) + "|" + from.Format(time.RFC3339Nano) + "|" + to.Format(time.RFC3339Nano)
	s.mu.Lock()
	c, ok := s.cache[key]
	s.mu.Unlock()
	if !ok {
		return key, func(int64) (Report, bool) { return Report{}, false }, nil
	}
	var changed int64
	err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(changed_id), 0) FROM funnel_rollup_days WHERE day >= $1 AND day <= $2`,
		dayOf(from.UnixMicro()), dayOf(to.Add(time.Duration(def.Window)).UnixMicro())).Scan(&changed)
	if err != nil {
		return "", nil, err
	}
	return key, func(done int64) (Report, bool) {
		if changed > c.done || done < c.done {
			return Report{}, false
		}
		s.mu.Lock()
		s.hits++
		s.mu.Unlock()
		return cloneReport(c.report), true
	}, nil
}

// cloneReport copies r deeply enough that the caller may change it.
func cloneReport(r Report) Report {
	r.Groups = slices.Clone(r.Groups)
	for i := range r.Groups {
		r.Groups[i].Steps = slices.Clone(r.Groups[i].Steps)
	}
	return r
}

// rollupQuery is runRollup's query: one row per rollup row of each person
// who entered, ordered by person; a person who may have entered inside a
// row's hidden span comes as one row with amb = 1 and nothing else.
func (s *Service) rollupQuery(def Definition, from, to time.Time) (string, []any) {
	fromUS, toUS := from.UnixMicro(), to.UnixMicro()
	w := int64(time.Duration(def.Window) / time.Microsecond)
	args := []any{fromUS, toUS, dayOf(fromUS), dayOf(toUS - 1)}
	p := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	in := func(types []string) string {
		ps := make([]string, len(types))
		for i, t := range types {
			ps[i] = p(t)
		}
		return strings.Join(ps, ", ")
	}
	step := def.Steps[0]
	entry := `type IN (` + in(step.Types) + `)`
	for _, col := range []string{"campaign", "channel", "store"} {
		if v, ok := step.Where[col]; ok {
			if col == "store" {
				col = "store_id"
			}
			entry += ` AND ` + col + ` = ` + p(v)
		}
	}
	// Where the person's rows stop: entry plus the window, or, with a
	// breakdown, the last entry possible plus the window.
	end := `e.t1 + ` + p(w)
	if def.Breakdown != "" {
		args = args[:len(args)-1]
		end = p(toUS - 1 + w)
	}
	day := strconv.FormatInt(dayMicros, 10)
	q := `WITH ent AS (
		SELECT person,
			MIN(CASE WHEN first_us >= $1 AND first_us < $2 THEN first_us WHEN last_us >= $1 AND last_us < $2 THEN last_us END) AS t1,
			MAX(CASE WHEN n >= 3 AND first_us < $1 AND last_us >= $1 THEN 1 ELSE 0 END) AS amb
		FROM funnel_rollup WHERE day >= $3 AND day <= $4 AND ` + entry + `
		GROUP BY person)
	SELECT e.person, e.amb, r.type, r.campaign, r.channel, r.store_id, r.n, r.first_us, r.first_id, r.last_us, r.last_id
	FROM ent e LEFT JOIN funnel_rollup r ON e.amb = 0 AND r.person = e.person
		AND r.day >= e.t1 / ` + day + ` AND r.day <= (` + end + `) / ` + day + `
		AND r.type IN (` + in(def.Types()) + `) AND r.last_us >= e.t1 AND r.first_us <= ` + end + `
	WHERE e.t1 IS NOT NULL OR e.amb = 1
	ORDER BY e.person`
	return q, args
}
