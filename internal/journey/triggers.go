package journey

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"time"

	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/id"
)

// readBatch is how many events one ReadEvents transaction takes.
const readBatch = 1000

// live is a live journey's current version, as the trigger reader sees it.
type live struct {
	name        string
	version     int
	launchedSeq int64
	def         Definition
}

// ReadEvents reads the event stream past the cursor, in order of arrival,
// and acts on each event of a known member in one transaction with the
// cursor's move, so each event is acted on once: a goal event converts the
// enrolments it is the goal of, an awaited event wakes the members waiting
// for it, and a trigger enrols the member in each live journey it starts
// (re-entry rules and the holdout applied). It returns how many events it
// read; call it until it returns 0 to catch up.
func (s *Service) ReadEvents(ctx context.Context) (int, error) {
	n := 0
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		cursor, err := s.cursor(ctx, tx)
		if err != nil {
			return err
		}
		evs, err := s.nextEvents(ctx, tx, cursor)
		if err != nil || len(evs) == 0 {
			return err
		}
		lives, err := s.liveJourneys(ctx, tx)
		if err != nil {
			return err
		}
		goals, waits, err := s.awaited(ctx, tx)
		if err != nil {
			return err
		}
		q := newStmts(tx)
		for i := range evs {
			e := &evs[i]
			if err := s.watchCart(ctx, tx, e); err != nil {
				return err
			}
			if e.MemberID == "" {
				continue
			}
			if goals[e.Type] {
				if err := s.convert(ctx, tx, e); err != nil {
					return err
				}
			}
			if waits[e.Type] {
				if err := s.wake(ctx, tx, e); err != nil {
					return err
				}
			}
			for _, l := range lives {
				if e.Seq > l.launchedSeq && l.def.Trigger.Matches(e) {
					if err := s.enrol(ctx, q, l, e); err != nil {
						return err
					}
				}
			}
		}
		last := evs[len(evs)-1].Seq
		res, err := tx.ExecContext(ctx, `UPDATE journey_cursor SET last_seq = $2 WHERE name = 'events' AND last_seq = $1`, cursor, last)
		if err != nil {
			return err
		}
		if k, _ := res.RowsAffected(); k == 0 {
			return errCursorMoved
		}
		n = len(evs)
		return nil
	})
	if errors.Is(err, errCursorMoved) {
		return 0, nil // another instance read these events
	}
	if err != nil {
		return 0, fmt.Errorf("journey: read events: %w", err)
	}
	return n, nil
}

var errCursorMoved = errors.New("journey cursor moved")

// cursor returns the last event id read; the first time, the stream's end,
// so a new installation does not replay its history into journeys.
func (s *Service) cursor(ctx context.Context, tx *sql.Tx) (int64, error) {
	if err := startCursor(ctx, tx); err != nil {
		return 0, err
	}
	var c int64
	err := tx.QueryRowContext(ctx, `SELECT last_seq FROM journey_cursor WHERE name = 'events'`).Scan(&c)
	return c, err
}

// startCursor puts the cursor at the stream's end unless it exists: at the
// first launch, or the first read.
func startCursor(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO journey_cursor (name, last_seq)
		SELECT 'events', (SELECT COALESCE(MAX(id), 0) FROM events)
		WHERE NOT EXISTS (SELECT 1 FROM journey_cursor WHERE name = 'events')`)
	return err
}

// nextEventsQuery reads the next events after a cursor, in id order, up to
// a limit; run in store.Dialect.InIndexOrder, so a backlog just written in
// bulk is not read whole and sorted for each batch.
const nextEventsQuery = `SELECT ` + eventCols + ` FROM events WHERE id > $1 ORDER BY id LIMIT $2`

// nextEvents reads the events after cursor up to the first missing id. On
// PostgreSQL ids are drawn before commit, so a missing id may be a
// transaction still running, whose event would be skipped for good if read
// past; it may also never come (a rollback, a resend the unique index
// refused). So a gap holds the reader back for GapWait, then is read past.
func (s *Service) nextEvents(ctx context.Context, tx *sql.Tx, cursor int64) ([]event.Event, error) {
	var out []event.Event
	err := s.db.Dialect.InIndexOrder(ctx, tx, func() (err error) {
		out, err = readEvents(tx.QueryContext(ctx, nextEventsQuery, cursor, readBatch))
		return err
	})
	if err != nil {
		return nil, err
	}
	now := s.opt.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	prev := cursor
	for i, e := range out {
		if gap := prev + 1; e.Seq != gap {
			since, seen := s.gapSince[gap]
			if !seen {
				s.gapSince[gap] = now
			}
			if !seen || now.Sub(since) < s.opt.GapWait {
				return out[:i], nil
			}
			delete(s.gapSince, gap)
		}
		prev = e.Seq
	}
	return out, nil
}

// eventCols are the columns of events that triggers, waits and goals read.
const eventCols = `id, type, occurred_at, channel, COALESCE(member_id, ''), COALESCE(anonymous_id, ''), campaign, store_id, properties`

// readEvents scans rows of eventCols.
func readEvents(rows *sql.Rows, err error) ([]event.Event, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []event.Event
	for rows.Next() {
		var e event.Event
		var ch, props string
		if err := rows.Scan(&e.Seq, &e.Type, &e.Time, &ch, &e.MemberID, &e.AnonymousID, &e.Campaign, &e.Store, &props); err != nil {
			return nil, err
		}
		e.Channel, e.Properties, e.Time = event.Channel(ch), json.RawMessage(props), e.Time.UTC()
		out = append(out, e)
	}
	return out, rows.Err()
}

// liveJourneys reads the live journeys at their current versions.
func (s *Service) liveJourneys(ctx context.Context, tx *sql.Tx) ([]live, error) {
	rows, err := tx.QueryContext(ctx, `SELECT name, version, launched_seq FROM journeys WHERE status = $1 ORDER BY name`, Live)
	if err != nil {
		return nil, err
	}
	var out []live
	for rows.Next() {
		var l live
		if err := rows.Scan(&l.name, &l.version, &l.launchedSeq); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		if out[i].def, err = s.version(ctx, tx, out[i].name, out[i].version); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// awaited returns the event types that are some version's goal and those
// some version waits for: only events of those types cost a query.
func (s *Service) awaited(ctx context.Context, tx *sql.Tx) (goals, waits map[string]bool, err error) {
	rows, err := tx.QueryContext(ctx, `SELECT journey, version FROM journey_versions`)
	if err != nil {
		return nil, nil, err
	}
	var keys []verKey
	for rows.Next() {
		var k verKey
		if err := rows.Scan(&k.name, &k.version); err != nil {
			rows.Close()
			return nil, nil, err
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	goals, waits = map[string]bool{}, map[string]bool{}
	for _, k := range keys {
		d, err := s.version(ctx, tx, k.name, k.version)
		if err != nil {
			return nil, nil, err
		}
		if d.Goal != nil {
			goals[d.Goal.Event] = true
		}
		for _, st := range d.Steps {
			if st.WaitFor != nil {
				waits[st.WaitFor.Event] = true
			}
		}
	}
	return goals, waits, nil
}

// convert marks the member's enrolments whose goal e is, and which it
// reached after their trigger (in the stream's order) and within the goal's
// window, as converted; those still inside exit.
func (s *Service) convert(ctx context.Context, tx *sql.Tx, e *event.Event) error {
	type cand struct {
		id, journey, state string
		version            int
		entered            time.Time
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, journey, version, state, entered_at FROM journey_enrolments
		WHERE member_id = $1 AND converted_at IS NULL AND trigger_seq < $2`, e.MemberID, e.Seq)
	if err != nil {
		return err
	}
	var cs []cand
	for rows.Next() {
		var c cand
		if err := rows.Scan(&c.id, &c.journey, &c.version, &c.state, &c.entered); err != nil {
			rows.Close()
			return err
		}
		cs = append(cs, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	now := s.now()
	for _, c := range cs {
		d, err := s.version(ctx, tx, c.journey, c.version)
		if err != nil {
			return err
		}
		if d.Goal == nil || !d.Goal.Matches(e) || e.Time.Sub(c.entered.UTC()) > time.Duration(d.Goal.Within) {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE journey_enrolments SET converted_at = $2 WHERE id = $1`, c.id, e.Time); err != nil {
			return err
		}
		if c.state == stateActive {
			if _, err := tx.ExecContext(ctx, `UPDATE journey_enrolments SET state = $2, ended_at = $3, exit_reason = $4,
				next_at = NULL, claim_token = NULL, lease_until = NULL WHERE id = $1`, c.id, stateEnded, now, ExitGoal); err != nil {
				return err
			}
		}
	}
	return nil
}

// wake marks the member's enrolments waiting for an event like e as due
// now, with the event seen.
func (s *Service) wake(ctx context.Context, tx *sql.Tx, e *event.Event) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, journey, version, step FROM journey_enrolments
		WHERE member_id = $1 AND state = $2 AND waiting_for = $3 AND woken = 0`, e.MemberID, stateActive, e.Type)
	if err != nil {
		return err
	}
	type cand struct {
		id, journey   string
		version, step int
	}
	var cs []cand
	for rows.Next() {
		var c cand
		if err := rows.Scan(&c.id, &c.journey, &c.version, &c.step); err != nil {
			rows.Close()
			return err
		}
		cs = append(cs, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, c := range cs {
		d, err := s.version(ctx, tx, c.journey, c.version)
		if err != nil {
			return err
		}
		if c.step >= len(d.Steps) || d.Steps[c.step].WaitFor == nil || !d.Steps[c.step].WaitFor.Matches(e) {
			continue
		}
		if _, err := tx.ExecContext(ctx, `UPDATE journey_enrolments SET woken = 1, next_at = $2 WHERE id = $1 AND woken = 0`,
			c.id, s.now()); err != nil {
			return err
		}
	}
	return nil
}

// enrol enters the member of e into l unless the re-entry rule refuses;
// a holdout member is enrolled too (to be counted) but runs no step, and
// stays for the goal's window.
func (s *Service) enrol(ctx context.Context, tx execQuerier, l live, e *event.Event) error {
	var active, total int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN state = $3 THEN 1 ELSE 0 END), 0)
		FROM journey_enrolments WHERE member_id = $1 AND journey = $2`, e.MemberID, l.name, stateActive).Scan(&total, &active)
	if err != nil {
		return err
	}
	now := s.now()
	switch {
	case total > 0 && l.def.Reentry != ReentryAfterExit:
		return nil
	case active > 0:
		return nil
	case total > 0 && l.def.Cooldown > 0:
		var lastEnd time.Time
		err := tx.QueryRowContext(ctx, `SELECT ended_at FROM journey_enrolments WHERE member_id = $1 AND journey = $2
			AND ended_at IS NOT NULL ORDER BY ended_at DESC LIMIT 1`, e.MemberID, l.name).Scan(&lastEnd)
		if err != nil {
			return err
		}
		if now.Sub(lastEnd.UTC()) < time.Duration(l.def.Cooldown) {
			return nil
		}
	}
	hold := InHoldout(l.name, e.MemberID, l.def.Holdout)
	next := now
	if hold {
		next = now.Add(time.Duration(l.def.Goal.Within))
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO journey_enrolments (id, journey, version, member_id, holdout, state, next_at,
		trigger_seq, entered_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		id.New("jen", now), l.name, l.version, e.MemberID, boolInt(hold), stateActive, next, e.Seq, now)
	return err
}

// execQuerier is a transaction, or its statements prepared once (stmts).
type execQuerier interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row
}

// InHoldout reports whether the member is in the journey's holdout of pct
// percent: a stable bucket of 0-9999 from the journey and the member, so
// a member is always in or always out of a journey's holdout, and
// different journeys hold out different members.
func InHoldout(journey, memberID string, pct int) bool {
	if pct <= 0 {
		return false
	}
	h := fnv.New32a()
	h.Write([]byte(journey))
	h.Write([]byte{0})
	h.Write([]byte(memberID))
	return int(h.Sum32()%10000) < pct*100
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
