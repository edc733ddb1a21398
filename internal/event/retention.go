package event

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/perk-platform/perk/internal/store"
)

// DefaultPartitionsAhead is how many days ahead of today the server keeps
// PostgreSQL's day partitions of events ready.
const DefaultPartitionsAhead = 3

// retentionChunk is how many rows one SQLite retention statement deletes:
// the one writer is held for a short while at a time, so tills and
// ingestion go on between chunks.
const retentionChunk = 5000

// Cutoff is the first instant whose events are kept under retention at
// now: the start of the UTC day retention before now. Events before it are
// removed (whole days: PostgreSQL drops a day's partition) and refused at
// ingestion, so an event removed can never come back as new. The zero time
// when retention is 0 (keep everything).
func Cutoff(now time.Time, retention time.Duration) time.Time {
	if retention <= 0 {
		return time.Time{}
	}
	return day(now.Add(-retention))
}

func day(t time.Time) time.Time { return t.UTC().Truncate(24 * time.Hour) }

// Maintenance says what one Maintain did.
type Maintenance struct {
	Created []string // PostgreSQL partitions created (events_YYYYMMDD)
	Dropped []string // PostgreSQL partitions dropped by retention
	Deleted int64    // rows deleted by retention: SQLite's events, PostgreSQL's stray default rows
}

// Maintain keeps the stream's storage as the options ask, at the service's
// now: on PostgreSQL it creates the day partitions up to PartitionsAhead
// days ahead, moves rows that landed in events_default into their day's
// partition, and drops the partitions (and event_ids) older than the
// retention; on SQLite it deletes the events older than the retention, in
// chunks. The server runs it at start and every hour.
func (s *Service) Maintain(ctx context.Context) (Maintenance, error) {
	now := s.Now()
	cut := Cutoff(now, s.opt.Retention)
	if s.db.Dialect != store.Postgres {
		n, err := s.deleteOld(ctx, cut)
		return Maintenance{Deleted: n}, err
	}
	var m Maintenance
	for d := range s.opt.PartitionsAhead + 1 {
		created, err := s.parts.ensure(ctx, s.db, day(now).AddDate(0, 0, d))
		if err != nil {
			return m, err
		}
		m.Created = append(m.Created, created...)
	}
	// Rows Record wrote for a day without a partition: move them into one.
	rows, err := s.db.W.QueryContext(ctx, `SELECT DISTINCT date_trunc('day', occurred_at AT TIME ZONE 'UTC') FROM events_default`)
	if err != nil {
		return m, fmt.Errorf("event: days in events_default: %w", err)
	}
	var stray []time.Time
	for rows.Next() {
		var d time.Time
		if err := rows.Scan(&d); err != nil {
			rows.Close()
			return m, fmt.Errorf("event: days in events_default: %w", err)
		}
		stray = append(stray, time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC))
	}
	rows.Close()
	for _, d := range stray {
		if !cut.IsZero() && d.Before(cut) {
			continue // deleted below
		}
		created, err := s.parts.ensure(ctx, s.db, d)
		if err != nil {
			return m, err
		}
		m.Created = append(m.Created, created...)
	}
	if cut.IsZero() {
		return m, nil
	}
	names, err := partitionNames(ctx, s.db)
	if err != nil {
		return m, err
	}
	for _, name := range names {
		d, err := time.Parse("20060102", strings.TrimPrefix(name, "events_"))
		if err != nil || d.AddDate(0, 0, 1).After(cut) {
			continue // events_default, or a day not wholly before the cutoff
		}
		if _, err := s.db.W.ExecContext(ctx, `DROP TABLE `+name); err != nil {
			return m, fmt.Errorf("event: drop %s: %w", name, err)
		}
		s.parts.forget(d)
		m.Dropped = append(m.Dropped, name)
	}
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM events_default WHERE occurred_at < $1`, cut)
	if err != nil {
		return m, fmt.Errorf("event: retention of events_default: %w", err)
	}
	m.Deleted, _ = res.RowsAffected()
	if _, err := s.db.W.ExecContext(ctx, `DELETE FROM event_ids WHERE occurred_at < $1`, cut); err != nil {
		return m, fmt.Errorf("event: retention of event_ids: %w", err)
	}
	return m, nil
}

// deleteOld deletes SQLite's events before cut, chunk by chunk, one event
// type at a time through the (type, occurred_at) index, so no index is
// added for retention's sake and no chunk scans the table: the types are
// walked as a skip-scan (each next type is one index seek).
func (s *Service) deleteOld(ctx context.Context, cut time.Time) (int64, error) {
	if cut.IsZero() {
		return 0, nil
	}
	var total int64
	typ := ""
	for {
		var next sql.NullString
		if err := s.db.W.QueryRowContext(ctx, `SELECT min(type) FROM events WHERE type > $1`, typ).Scan(&next); err != nil {
			return total, fmt.Errorf("event: retention: %w", err)
		}
		if !next.Valid {
			return total, nil
		}
		typ = next.String
		for {
			res, err := s.db.W.ExecContext(ctx, `DELETE FROM events WHERE id IN (
				SELECT id FROM events WHERE type = $1 AND occurred_at < $2 LIMIT $3)`, typ, cut, retentionChunk)
			if err != nil {
				return total, fmt.Errorf("event: retention: %w", err)
			}
			n, _ := res.RowsAffected()
			total += n
			if n < retentionChunk {
				break
			}
		}
	}
}

// partitions remembers which PostgreSQL day partitions of events exist, so
// ingestion asks the database only about a day it has not seen.
type partitions struct {
	mu   sync.Mutex // guards days
	days map[time.Time]bool
}

// partitionName is the table of the UTC day d.
func partitionName(d time.Time) string { return "events_" + d.Format("20060102") }

func (p *partitions) forget(d time.Time) {
	p.mu.Lock()
	delete(p.days, d)
	p.mu.Unlock()
}

// ensureFor makes sure every day of evs has its partition (PostgreSQL only),
// before the batch's transaction: creating one takes locks on events that
// must not wait inside it.
func (p *partitions) ensureFor(ctx context.Context, db *store.DB, evs []Event) error {
	if db.Dialect != store.Postgres {
		return nil
	}
	var last time.Time
	for i := range evs {
		d := day(evs[i].Time)
		if d.Equal(last) {
			continue
		}
		last = d
		if _, err := p.ensure(ctx, db, d); err != nil {
			return err
		}
	}
	return nil
}

// ensure creates the partition of day d unless it exists; it returns its
// name when it created it. Rows of d already in events_default move into
// it in the same transaction (a partition cannot be attached while the
// default one holds rows of its range). An advisory lock makes concurrent
// servers create each day once.
func (p *partitions) ensure(ctx context.Context, db *store.DB, d time.Time) ([]string, error) {
	p.mu.Lock()
	known := p.days[d]
	p.mu.Unlock()
	if known {
		return nil, nil
	}
	name := partitionName(d)
	lo, hi := d.Format(time.RFC3339), d.AddDate(0, 0, 1).Format(time.RFC3339)
	var created []string
	err := db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(7357021)`); err != nil {
			return err
		}
		var exists bool
		if err := tx.QueryRowContext(ctx, `SELECT to_regclass($1) IS NOT NULL`, name).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return nil
		}
		// The names and bounds come from a date, never from input.
		for _, q := range []string{
			`CREATE TABLE ` + name + ` (LIKE events INCLUDING DEFAULTS)`,
			`INSERT INTO ` + name + ` SELECT * FROM events_default WHERE occurred_at >= '` + lo + `' AND occurred_at < '` + hi + `'`,
			`DELETE FROM events_default WHERE occurred_at >= '` + lo + `' AND occurred_at < '` + hi + `'`,
			`ALTER TABLE events ATTACH PARTITION ` + name + ` FOR VALUES FROM ('` + lo + `') TO ('` + hi + `')`,
		} {
			if _, err := tx.ExecContext(ctx, q); err != nil {
				return err
			}
		}
		created = append(created, name)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("event: partition %s: %w", name, err)
	}
	p.mu.Lock()
	p.days[d] = true
	p.mu.Unlock()
	return created, nil
}

// partitionNames lists events' partitions.
func partitionNames(ctx context.Context, db *store.DB) ([]string, error) {
	rows, err := db.W.QueryContext(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'events'::regclass ORDER BY c.relname`)
	if err != nil {
		return nil, fmt.Errorf("event: list partitions: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, fmt.Errorf("event: list partitions: %w", err)
		}
		out = append(out, n)
	}
	return out, rows.Err()
}
