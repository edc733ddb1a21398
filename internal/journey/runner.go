package journey

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/perk-platform/perk/internal/id"
	"github.com/perk-platform/perk/internal/store"
)

// Enrolment states and the reasons one ends.
const (
	stateActive = "active"
	stateEnded  = "ended"

	ExitCompleted = "completed" // ran past its last step
	ExitStep      = "exit"      // reached an exit step
	ExitGoal      = "goal"      // reached the goal
	ExitHoldout   = "holdout"   // a holdout member's goal window passed
	ExitFailed    = "failed"    // a step failed MaxAttempts times
)

// maxStepsPerRun bounds the steps one claim runs (a journey has at most
// MaxSteps and only jumps forward, so this is a safeguard).
const maxStepsPerRun = MaxSteps + 1

// claimBatch is how many due enrolments one RunDue claims.
const claimBatch = 200

// due selects enrolments whose time has come and which no runner holds; it
// is repeated in the UPDATE so that on PostgreSQL a row another runner
// claimed meanwhile is re-checked after its lock and skipped.
const due = `state = 'active' AND next_at <= $1 AND (lease_until IS NULL OR lease_until <= $1)`

// RunDue claims due enrolments under a lease and advances each; it returns
// how many it advanced (or tried to). Call it until it returns 0 to catch up.
func (s *Service) RunDue(ctx context.Context) (int, error) {
	now := s.now()
	token := id.Token(10)
	// On PostgreSQL concurrent claimers skip each other's rows instead of
	// queueing on them and then finding them taken.
	skip := ""
	if s.db.Dialect == store.Postgres {
		skip = " FOR UPDATE SKIP LOCKED"
	}
	rows, err := s.db.W.QueryContext(ctx, `UPDATE journey_enrolments SET claim_token = $2, lease_until = $3
		WHERE id IN (SELECT id FROM journey_enrolments WHERE `+due+` ORDER BY next_at LIMIT $4`+skip+`) AND `+due+` RETURNING id`,
		now, token, now.Add(s.opt.Lease), claimBatch)
	if err != nil {
		return 0, fmt.Errorf("journey: claim: %w", err)
	}
	var ids []string
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			rows.Close()
			return 0, fmt.Errorf("journey: claim: %w", err)
		}
		ids = append(ids, e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("journey: claim: %w", err)
	}
	// One transaction for the whole claim: a commit per member made the
	// runner fire timers slower than it started them, so a burst of entries
	// came due faster than it could run them (docs/benchmarks.md). If any
	// member's step fails, the batch rolls back and each is run alone, so
	// one failure neither blocks nor repeats the others.
	if err := s.advanceBatch(ctx, ids, token); err == nil {
		return len(ids), nil
	} else if ctx.Err() != nil {
		return 0, ctx.Err()
	}
	for _, e := range ids {
		if err := s.advance(ctx, e, token); err != nil {
			if ctx.Err() != nil {
				return 0, ctx.Err()
			}
			if ferr := s.failed(ctx, e, token, err); ferr != nil {
				return 0, ferr
			}
		}
	}
	return len(ids), nil
}

// runDue runs Workers claims at once: one on SQLite, whose single writer
// would only queue them.
func (s *Service) runDue(ctx context.Context) (int, error) {
	if s.opt.Workers <= 1 {
		return s.RunDue(ctx)
	}
	var wg sync.WaitGroup
	ns := make([]int, s.opt.Workers)
	errs := make([]error, s.opt.Workers)
	for i := range s.opt.Workers {
		wg.Go(func() { ns[i], errs[i] = s.RunDue(ctx) })
	}
	wg.Wait()
	n := 0
	for _, k := range ns {
		n += k
	}
	return n, errors.Join(errs...)
}

// Poll reads the stream and runs due enrolments until both are caught up:
// one tick of the runner.
func (s *Service) Poll(ctx context.Context) error {
	s.pollMu.Lock()
	defer s.pollMu.Unlock()
	for {
		n, err := s.ReadEvents(ctx)
		if err != nil {
			return err
		}
		a, err := s.Abandon(ctx)
		if err != nil {
			return err
		}
		g, err := s.Segments(ctx)
		if err != nil {
			return err
		}
		c, err := s.CampaignLaunches(ctx)
		if err != nil {
			return err
		}
		m, err := s.runDue(ctx)
		if err != nil {
			return err
		}
		if n == 0 && a == 0 && g == 0 && c == 0 && m == 0 {
			return nil
		}
	}
}

// Run polls every interval until ctx ends, and sooner when a timer falls
// due before the next tick: a wait ends within milliseconds of its time, not
// up to a tick late. Errors are logged and retried at the next tick: the
// state is in the database, so nothing is lost.
func (s *Service) Run(ctx context.Context, every time.Duration) {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		wait := every
		if err := s.Poll(ctx); err != nil {
			if ctx.Err() != nil {
				return
			}
			s.opt.Log.Error("journeys", "err", err)
		} else if next, ok, err := s.nextDue(ctx); err != nil {
			s.opt.Log.Error("journeys: next timer", "err", err) // polls every tick meanwhile
		} else if ok {
			wait = min(every, max(next.Sub(s.opt.Now()), minWait))
		}
		t.Reset(wait)
	}
}

// minWait is the shortest pause between two polls, so a timer held by
// another runner's lease does not make this one spin.
const minWait = 5 * time.Millisecond

// nextDue is when the next enrolment no runner holds falls due, if one will
// after now (one due already is another runner's, or was just run).
func (s *Service) nextDue(ctx context.Context) (time.Time, bool, error) {
	// The column itself, not MIN(next_at): SQLite's driver turns a stored
	// time back into a time.Time only for a column it knows is a
	// TIMESTAMP, and an aggregate's value is text (the runner then polled
	// only every tick, timers up to a second late).
	var next time.Time
	err := s.db.R.QueryRowContext(ctx, `SELECT next_at FROM journey_enrolments
	WHERE state = 'active' AND next_at > $1 ORDER BY next_at LIMIT 1`, s.now()).Scan(&next)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("journeys: next timer: %w", err)
	}
	return next.UTC(), true, nil
}

// enrolment is the state a runner advances.
type enrolment struct {
	id, journey, memberID, waitingFor string
	version, step, stepsRun, attempts int
	holdout, waiting, woken           bool
	enteredAt, nextAt                 time.Time
	// dueAt is when this claim was due: the steps it runs log it beside
	// the time they ran, which is the timers' lag.
	dueAt             time.Time
	state, exitReason string
}

func (s *Service) load(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, enrolmentID, token string) (*enrolment, error) {
	var e enrolment
	var hold, waiting, woken int
	err := q.QueryRowContext(ctx, `SELECT id, journey, version, member_id, holdout, step, waiting, woken, waiting_for,
		steps_run, attempts, entered_at, next_at FROM journey_enrolments WHERE id = $1 AND claim_token = $2 AND state = 'active'`,
		enrolmentID, token).Scan(&e.id, &e.journey, &e.version, &e.memberID, &hold, &e.step, &waiting, &woken,
		&e.waitingFor, &e.stepsRun, &e.attempts, &e.enteredAt, &e.dueAt)
	if err != nil {
		return nil, err
	}
	e.holdout, e.waiting, e.woken, e.state = hold == 1, waiting == 1, woken == 1, stateActive
	e.enteredAt, e.dueAt = e.enteredAt.UTC(), e.dueAt.UTC()
	return &e, nil
}

// advance runs the enrolment's steps from where it stands until one waits
// or the journey ends, in one transaction with every effect that is a row
// (the SMS queued, tags, the webhook's outbox row, the log), which commits
// only while this runner's claim holds: so a step fires once even if the
// runner dies or its lease is taken over. An offer step is given before
// that transaction (the campaign service has its own); giving it again
// after a crash leaves the member one offer.
func (s *Service) advance(ctx context.Context, enrolmentID, token string) error {
	e, err := s.load(ctx, s.db.R, enrolmentID, token)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // ended (a goal) or claimed by another runner meanwhile
	}
	if err != nil {
		return err
	}
	def, err := s.version(ctx, s.db.R, e.journey, e.version)
	if err != nil {
		return err
	}
	given := false
	if !e.holdout && e.step < len(def.Steps) && def.Steps[e.step].Offer != nil {
		if s.opt.Offers == nil {
			return errors.New("offer step: no campaign service configured")
		}
		if _, err := s.opt.Offers.GivePersonal(ctx, *def.Steps[e.step].Offer, []string{e.memberID}, false); err != nil {
			return fmt.Errorf("offer step %s: %w", def.Steps[e.step].ID, err)
		}
		given = true
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		r := &run{s: s, tx: tx, q: newStmts(tx), e: e, def: &def, now: s.now()}
		if err := r.steps(ctx, given); err != nil {
			return err
		}
		return r.save(ctx, token)
	})
}

// advanceBatch advances the claimed enrolments in one transaction, as
// advance does each; it refuses a batch in which a member stands at an
// offer step, whose offer is given outside the transaction.
func (s *Service) advanceBatch(ctx context.Context, ids []string, token string) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		q := newStmts(tx)
		for _, id := range ids {
			e, err := s.load(ctx, q, id, token)
			if errors.Is(err, sql.ErrNoRows) {
				continue // ended (a goal) or claimed by another runner meanwhile
			}
			if err != nil {
				return err
			}
			def, err := s.version(ctx, tx, e.journey, e.version)
			if err != nil {
				return err
			}
			if !e.holdout && e.step < len(def.Steps) && def.Steps[e.step].Offer != nil {
				return errOfferInBatch
			}
			r := &run{s: s, tx: tx, q: q, e: e, def: &def, now: s.now()}
			if err := r.steps(ctx, false); err != nil {
				return err
			}
			if err := r.save(ctx, token); err != nil {
				return err
			}
		}
		return nil
	})
}

var errOfferInBatch = errors.New("journey: an offer step is run alone")

// RetryAfter is how long a failed step waits before it is tried again.
const RetryAfter = time.Minute

// failed records a step's failure: the enrolment is retried with back-off,
// and ends as failed after MaxAttempts.
func (s *Service) failed(ctx context.Context, enrolmentID, token string, cause error) error {
	now := s.now()
	s.opt.Log.Warn("journey step failed", "enrolment", enrolmentID, "err", cause)
	msg := cause.Error()
	if len(msg) > 500 {
		msg = msg[:500]
	}
	_, err := s.db.W.ExecContext(ctx, `UPDATE journey_enrolments SET attempts = attempts + 1, last_error = $3,
		next_at = CASE WHEN attempts + 1 >= $4 THEN NULL ELSE $5 END,
		state = CASE WHEN attempts + 1 >= $4 THEN 'ended' ELSE state END,
		exit_reason = CASE WHEN attempts + 1 >= $4 THEN 'failed' ELSE exit_reason END,
		ended_at = CASE WHEN attempts + 1 >= $4 THEN $6 ELSE ended_at END,
		claim_token = NULL, lease_until = NULL
		WHERE id = $1 AND claim_token = $2`, enrolmentID, token, msg, s.opt.MaxAttempts,
		now.Add(RetryAfter), now)
	if err != nil {
		return fmt.Errorf("journey: record failure of %s: %w", enrolmentID, err)
	}
	return nil
}
