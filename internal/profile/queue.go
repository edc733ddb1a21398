package profile

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/perk-platform/perk/internal/store"
)

// DrainBatch is how many queued members one Drain transaction recomputes.
const DrainBatch = 500

// Enqueue marks a member's profile as out of date, inside tx, the
// transaction of the basket that changed it: one statement, a primary-key
// upsert on the member's own row (no row shared between members, so tills
// do not wait on each other).
func Enqueue(ctx context.Context, tx *sql.Tx, memberID string, now time.Time) error {
	if memberID == "" {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO profile_queue (member_id, queued_at) VALUES ($1, $2)
		ON CONFLICT (member_id) DO UPDATE SET queued_at = excluded.queued_at`, memberID, now.UTC()); err != nil {
		return fmt.Errorf("profile: enqueue: %w", err)
	}
	return nil
}

// Drain recomputes the profiles of queued members, DrainBatch at a time,
// with the refresh's SQL restricted to them, and scores them against the
// last refresh's cut points (members stay unscored until a first refresh).
// It returns how many it recomputed; it stops when the queue is empty.
func (s *Service) Drain(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := s.drainOnce(ctx)
		total += n
		if err != nil || n < DrainBatch {
			return total, err
		}
	}
}

func (s *Service) drainOnce(ctx context.Context) (int, error) {
	if !s.refreshing.TryLock() {
		return 0, nil // a refresh runs; the queue keeps its members for the next drain
	}
	defer s.refreshing.Unlock()
	now := s.opt.Now().UTC()
	n := 0
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if s.db.Dialect == store.Postgres {
			// Not while a refresh runs: it replaces member_profiles and
			// member_affinities, and what this wrote to the tables it drops
			// would be lost. The queue keeps the members for the next drain.
			var free bool
			if err := tx.QueryRowContext(ctx, `SELECT pg_try_advisory_xact_lock($1)`, refreshLock).Scan(&free); err != nil {
				return fmt.Errorf("profile: refresh lock: %w", err)
			}
			if !free {
				return nil
			}
		}
		// The queue rows are deleted before the history is read: a basket
		// committed after the delete queues its member again (on
		// PostgreSQL its insert waits for this transaction), and one
		// committed before it is seen by the statements below, which on
		// PostgreSQL each read a fresh snapshot.
		rows, err := tx.QueryContext(ctx, `DELETE FROM profile_queue WHERE member_id IN
			(SELECT member_id FROM profile_queue ORDER BY queued_at LIMIT $1) RETURNING member_id`, DrainBatch)
		if err != nil {
			return fmt.Errorf("profile: take queue: %w", err)
		}
		var ids []string
		for rows.Next() {
			var id string
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("profile: take queue: %w", err)
			}
			ids = append(ids, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("profile: take queue: %w", err)
		}
		if len(ids) == 0 {
			return nil
		}
		n = len(ids)
		return s.recompute(ctx, tx, scope{ids: ids}, now)
	})
	return n, err
}

// recompute brings the profiles of sc's members up to date in tx, scored
// against the last refresh's cut points (unscored before the first).
func (s *Service) recompute(ctx context.Context, tx *sql.Tx, sc scope, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM member_affinities WHERE 1 = 1`+sc.on("member_id", 1), sc.args()...); err != nil {
		return fmt.Errorf("profile: clear affinities: %w", err)
	}
	if err := s.stageFigures(ctx, tx, drainStaging, s.inline(ctx, tx, sc, now)); err != nil {
		return err
	}
	st, err := loadState(ctx, tx)
	if err != nil {
		return err
	}
	_, _, err = s.write(ctx, tx, drainStaging.figures, sc, now, st)
	return err
}

// loadState reads the last refresh's cut points; nil before the first.
func loadState(ctx context.Context, tx *sql.Tx) (*state, error) {
	var st state
	var cuts string
	err := tx.QueryRowContext(ctx, `SELECT refreshed_at, cuts FROM profile_state WHERE id = 1`).Scan(&st.At, &cuts)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("profile: state: %w", err)
	}
	if err := json.Unmarshal([]byte(cuts), &st.Cuts); err != nil {
		return nil, fmt.Errorf("profile: state cuts: %w", err)
	}
	return &st, nil
}

// Run drains the queue every interval and refreshes every profile daily at
// hour (UTC, 0-23; negative: never), until ctx ends. Failures are logged
// and retried at the next tick.
func (s *Service) Run(ctx context.Context, interval time.Duration, hour int) {
	t := time.NewTicker(interval)
	defer t.Stop()
	lastDay := ""
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		now := s.opt.Now().UTC()
		if day := now.Format(time.DateOnly); hour >= 0 && now.Hour() == hour && day != lastDay {
			lastDay = day
			if _, err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
				s.log.ErrorContext(ctx, "profile refresh", "err", err)
			}
		}
		if _, err := s.Drain(ctx); err != nil && ctx.Err() == nil {
			s.log.ErrorContext(ctx, "profile drain", "err", err)
		}
	}
}
