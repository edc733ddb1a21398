package journey

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/perk-platform/perk/internal/id"
)

// Move asks to move the members at a step of one version to a step of
// another: editing a live journey makes a new version, members inside
// finish on theirs, and this is how an operator moves them on purpose.
type Move struct {
	FromVersion int    `json:"from_version"`
	FromStep    string `json:"from_step"`
	// ToVersion is the version to move to; 0 is the journey's current one.
	ToVersion int    `json:"to_version,omitempty"`
	ToStep    string `json:"to_step"`
}

// Moved is the outcome of a move.
type Moved struct {
	Journey     string `json:"journey"`
	FromVersion int    `json:"from_version"`
	FromStep    string `json:"from_step"`
	ToVersion   int    `json:"to_version"`
	ToStep      string `json:"to_step"`
	Moved       int64  `json:"moved"`
}

// moveLease is how long a move holds the rows it moves: a move is one
// transaction, so the claim only keeps runners off them until it commits.
const moveLease = 10 * time.Minute

// Move moves the treated members who are at m.FromStep of m.FromVersion
// (waiting there or due to run it) to m.ToStep of m.ToVersion. Each starts
// the new step afresh, due now (a wait begins again from the move), with
// its goal window and entry time unchanged; the holdout stays where it is,
// since it runs no step. A member a runner holds at that moment is not
// moved (run the move again); the runner's lease is taken from it, so a
// runner cannot write over a move. Each moved member gets a log row at the
// step they left (outcome "moved"), so counts add up across versions.
func (s *Service) Move(ctx context.Context, name string, m Move) (*Moved, error) {
	j, err := s.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	if m.ToVersion == 0 {
		m.ToVersion = j.Version
	}
	from, err := s.stepOf(ctx, name, j.Version, m.FromVersion, m.FromStep, "from")
	if err != nil {
		return nil, err
	}
	to, err := s.stepOf(ctx, name, j.Version, m.ToVersion, m.ToStep, "to")
	if err != nil {
		return nil, err
	}
	if m.FromVersion == m.ToVersion {
		return nil, invalid("to_version", "a move goes to another version (within one, members follow its jumps)")
	}
	out := &Moved{Journey: name, FromVersion: m.FromVersion, FromStep: m.FromStep, ToVersion: m.ToVersion, ToStep: m.ToStep}
	now := s.now()
	token := "move-" + id.Token(10)
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		// Claim first: the rows are then this move's alone, on both
		// databases, for the log rows and the update that follow.
		res, err := tx.ExecContext(ctx, `UPDATE journey_enrolments SET claim_token = $5, lease_until = $6
			WHERE journey = $1 AND version = $2 AND step = $3 AND state = 'active' AND holdout = 0
			AND (lease_until IS NULL OR lease_until <= $4)`, name, m.FromVersion, from, now, token, now.Add(moveLease))
		if err != nil {
			return err
		}
		if out.Moved, err = res.RowsAffected(); err != nil || out.Moved == 0 {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO journey_steps (enrolment_id, n, journey, version, step, kind, outcome, at)
			SELECT id, steps_run, journey, version, $2, 'move', $3, $4 FROM journey_enrolments WHERE claim_token = $1`,
			token, m.FromStep, fmt.Sprintf("moved to v%d %s", m.ToVersion, m.ToStep), now); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE journey_enrolments SET version = $2, step = $3, waiting = 0, woken = 0, waiting_for = '',
			steps_run = steps_run + 1, next_at = $4, attempts = 0, last_error = '', claim_token = NULL, lease_until = NULL
			WHERE claim_token = $1`, token, m.ToVersion, to, now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("journey: move %s: %w", name, err)
	}
	s.opt.Log.InfoContext(ctx, "journey members moved", "journey", name, "from_version", m.FromVersion, "from_step", m.FromStep,
		"to_version", m.ToVersion, "to_step", m.ToStep, "moved", out.Moved)
	return out, nil
}

// stepOf is the index of step in version v of the journey, or an error
// naming the side of the move ("from", "to") that is wrong.
func (s *Service) stepOf(ctx context.Context, name string, current, v int, step, side string) (int, error) {
	if v < 1 || v > current {
		return 0, invalid(side+"_version", "version %d does not exist (the journey is at version %d)", v, current)
	}
	d, err := s.version(ctx, s.db.R, name, v)
	if err != nil {
		return 0, err
	}
	for i, st := range d.Steps {
		if st.ID == step {
			return i, nil
		}
	}
	return 0, invalid(side+"_step", "version %d has no step %q", v, step)
}
