package journey

import (
	"context"
	"database/sql"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/event"
)

// Segments runs a pass of the live journeys' segment triggers, at most
// every SegmentEvery: a member who matches a journey's segment now and did
// not at its last pass enters it. The first pass after a launch records who
// matches then and enrols nobody, as an event trigger never acts on events
// before the launch. Each journey's pass is one transaction that first
// takes its pass row, so two instances never enrol anyone twice. It returns
// how many members entered.
func (s *Service) Segments(ctx context.Context) (int, error) {
	now := s.now()
	s.mu.Lock()
	if !s.segmentsAt.IsZero() && now.Sub(s.segmentsAt) < s.opt.SegmentEvery {
		s.mu.Unlock()
		return 0, nil
	}
	s.segmentsAt = now
	s.mu.Unlock()
	return s.eachLive(ctx, "segment pass", func(l live) bool { return l.def.Trigger.Segment != nil }, s.segmentPass)
}

func (s *Service) segmentPass(ctx context.Context, tx *sql.Tx, l live) (int, error) {
	now := s.now()
	res, err := tx.ExecContext(ctx, `INSERT INTO journey_segment_passes (journey, passed_at) VALUES ($1, $2) ON CONFLICT (journey) DO NOTHING`,
		l.name, now)
	if err != nil {
		return 0, err
	}
	first, _ := res.RowsAffected()
	if first == 0 {
		// Takes the row: a second instance's pass waits for this one.
		if _, err := tx.ExecContext(ctx, `UPDATE journey_segment_passes SET passed_at = $2 WHERE journey = $1`, l.name, now); err != nil {
			return 0, err
		}
	}
	matching, err := campaign.Matching(ctx, tx, s.db.Dialect, l.def.Trigger.Segment, s.opt.Zone, now)
	if err != nil {
		return 0, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT member_id FROM journey_segment_members WHERE journey = $1`, l.name)
	if err != nil {
		return 0, err
	}
	before := map[string]bool{}
	for rows.Next() {
		var m string
		if err := rows.Scan(&m); err != nil {
			rows.Close()
			return 0, err
		}
		before[m] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	var seq int64
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM events`).Scan(&seq); err != nil {
		return 0, err
	}
	entered := 0
	for m := range matching {
		if before[m] {
			continue
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO journey_segment_members (journey, member_id) VALUES ($1, $2)`, l.name, m); err != nil {
			return 0, err
		}
		if first == 1 {
			continue
		}
		// "Since entering" is after the stream's position now.
		if err := s.enrol(ctx, tx, l, &event.Event{MemberID: m, Seq: seq}); err != nil {
			return 0, err
		}
		entered++
	}
	for m := range before {
		if !matching[m] {
			if _, err := tx.ExecContext(ctx, `DELETE FROM journey_segment_members WHERE journey = $1 AND member_id = $2`, l.name, m); err != nil {
				return 0, err
			}
		}
	}
	return entered, nil
}
