package variance

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/perk-platform/perk/internal/problem"
)

// An operator's targets, a campaign's and a journey's, are the same thing
// kept in two tables: points of a stage's cumulative count by hour, set
// per stage, replaced whole. These are the parts they share: the check of
// the points and their storage.

// targetTable is where one kind of owner's targets are kept: the table and
// its owner column.
type targetTable struct{ table, owner string }

var (
	campaignTargets = targetTable{table: "variance_targets", owner: "campaign_id"}
	journeyTargets  = targetTable{table: "journey_variance_targets", owner: "journey"}
)

// checkPoints checks a target's points, each hour from 0 to hours-1 and no
// cumulative count negative, naming the point at fault.
func checkPoints(points []TargetPoint, hours int) error {
	for i, p := range points {
		if p.Hour < 0 || p.Hour >= hours {
			return problem.InvalidField(fmt.Sprintf("points[%d].hour", i), "hour_invalid", nil, "must be from 0 to %d", hours-1)
		}
		if p.Cumulative < 0 {
			return problem.InvalidField(fmt.Sprintf("points[%d].cumulative", i), "cumulative_invalid", nil, "must not be negative")
		}
	}
	return nil
}

// writeTarget replaces the owner's target of a stage with points (none:
// the stage has no target). Of two points at the same hour the first is
// kept.
func (s *Service) writeTarget(ctx context.Context, t targetTable, owner string, st Stage, points []TargetPoint) error {
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM `+t.table+` WHERE `+t.owner+` = $1 AND stage = $2`, owner, string(st)); err != nil {
			return err
		}
		var args []any
		seen := map[int]bool{}
		for _, p := range points {
			if !seen[p.Hour] {
				seen[p.Hour] = true
				args = append(args, owner, string(st), p.Hour, p.Cumulative)
			}
		}
		return insertRows(ctx, tx, s.db.Dialect, `INSERT INTO `+t.table+` (`+t.owner+`, stage, hour, cumulative) VALUES `, 4, args)
	})
	if err != nil {
		return fmt.Errorf("variance: set target: %w", err)
	}
	return nil
}

// readTargets returns the owner's targets by stage, each in order of hour.
func (s *Service) readTargets(ctx context.Context, t targetTable, owner string) (map[Stage][]TargetPoint, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT stage, hour, cumulative FROM `+t.table+` WHERE `+t.owner+` = $1 ORDER BY stage, hour`, owner)
	if err != nil {
		return nil, fmt.Errorf("variance: targets: %w", err)
	}
	defer rows.Close()
	out := map[Stage][]TargetPoint{}
	for rows.Next() {
		var st Stage
		var p TargetPoint
		if err := rows.Scan(&st, &p.Hour, &p.Cumulative); err != nil {
			return nil, fmt.Errorf("variance: targets: %w", err)
		}
		out[st] = append(out[st], p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("variance: targets: %w", err)
	}
	return out, nil
}
