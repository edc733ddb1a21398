package journey

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/links"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
)

// Errors callers branch on.
var (
	ErrNotFound = problem.New(problem.NotFound, "journey_not_found", "no journey of that name")
	ErrStatus   = problem.New(problem.Conflict, "journey_status", "the journey is not in a state that allows this")
)

// Statuses of a journey. Only a live journey enrols members; members inside
// a stopped journey finish it.
const (
	Draft   = "draft"
	Live    = "live"
	Stopped = "stopped"
)

// OfferGiver gives personal offers: campaign.Service. Giving the same offer
// to a member twice leaves them one, which is what makes the offer step
// safe to repeat after a crash.
type OfferGiver interface {
	GivePersonal(ctx context.Context, o campaign.PersonalOffer, memberIDs []string, announce bool) (*campaign.Given, error)
}

// Options configure a Service.
type Options struct {
	Now  func() time.Time // time.Now if nil
	Log  *slog.Logger
	Zone *time.Location // the programme's zone, for members without one (UTC if nil)
	// Offers gives the offer steps' offers; a journey with an offer step
	// fails that step without it.
	Offers OfferGiver
	// Webhooks records webhook steps' journey.webhook events; nil records
	// nothing.
	Webhooks change.Recorder
	// Links shortens {{link}} in SMS steps; nil leaves addresses as written.
	Links     *links.Service
	PublicURL string // card links: PublicURL + "/c/" + token
	Programme string
	// Lease is how long a runner owns a claimed enrolment (30 s if zero).
	Lease time.Duration
	// GapWait is how long the trigger reader waits for a missing event id
	// (a transaction not yet committed) before reading past it (5 s if zero).
	GapWait time.Duration
	// MaxAttempts fails an enrolment whose step errs that many times (5).
	MaxAttempts int
	// AbandonAfter is how long after a cart_updated without a purchase
	// by the same person cart_abandoned is raised (DefaultAbandonAfter if
	// zero).
	AbandonAfter time.Duration
	// Workers is how many claims of due members run at once: 4 on
	// PostgreSQL if zero (each on its own connection), always 1 on SQLite,
	// which has one writer.
	Workers int
	// SegmentEvery is how often segment triggers are evaluated (a minute
	// if zero).
	SegmentEvery time.Duration
}

// Service stores journeys and runs them.
type Service struct {
	db  *store.DB
	opt Options

	mu       sync.Mutex            // guards versions, gapSince and segmentsAt
	versions map[verKey]Definition // immutable once written, so cached for good
	gapSince map[int64]time.Time   // a missing event id and when it was first seen
	// segmentsAt is when the last segment pass began.
	segmentsAt time.Time

	// pollMu serialises Poll within the process: the stream's cursor is
	// read and moved in one transaction without a row lock, so two passes
	// at once (the runner's tick and a simulated clock's catch-up, perk
	// serve --clock simulated) would read the same events twice.
	pollMu sync.Mutex
}

type verKey struct {
	name    string
	version int
}

// NewService returns a Service on db.
func NewService(db *store.DB, opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	if opt.Zone == nil {
		opt.Zone = time.UTC
	}
	if opt.Lease <= 0 {
		opt.Lease = 30 * time.Second
	}
	if opt.GapWait <= 0 {
		opt.GapWait = 5 * time.Second
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 5
	}
	if opt.Workers <= 0 {
		opt.Workers = 4
	}
	if db.Dialect != store.Postgres {
		opt.Workers = 1
	}
	if opt.SegmentEvery <= 0 {
		opt.SegmentEvery = time.Minute
	}
	if opt.AbandonAfter <= 0 {
		opt.AbandonAfter = DefaultAbandonAfter
	}
	return &Service{db: db, opt: opt, versions: map[verKey]Definition{}, gapSince: map[int64]time.Time{}}
}

func (s *Service) now() time.Time { return s.opt.Now().UTC().Truncate(time.Microsecond) }

// Journey is a stored journey: its current version's definition and state.
type Journey struct {
	Name       string     `json:"name"`
	Version    int        `json:"version"`
	Status     string     `json:"status"`
	Definition Definition `json:"definition"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
}

// Applied is the outcome of Apply.
type Applied struct {
	Journey *Journey `json:"journey"`
	// Outcome is created, updated (a new version) or unchanged.
	Outcome string `json:"outcome"`
}

// Apply stores def: a new journey is created as a draft at version 1; a
// changed definition becomes a new version, which members entering from now
// on follow while those inside finish on theirs; the same definition again
// changes nothing, so applying a file twice is harmless.
func (s *Service) Apply(ctx context.Context, def Definition) (*Applied, error) {
	if err := def.Validate(); err != nil {
		return nil, err
	}
	spec, err := json.Marshal(def)
	if err != nil {
		return nil, fmt.Errorf("journey: apply %s: %w", def.Name, err)
	}
	out := &Applied{}
	now := s.now()
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		var version int
		var old string
		err := tx.QueryRowContext(ctx, `SELECT j.version, v.spec FROM journeys j
			JOIN journey_versions v ON v.journey = j.name AND v.version = j.version WHERE j.name = $1`, def.Name).Scan(&version, &old)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			out.Outcome, version = "created", 1
			if _, err := tx.ExecContext(ctx, `INSERT INTO journeys (name, version, status, created_at, updated_at)
				VALUES ($1, 1, $2, $3, $3)`, def.Name, Draft, now); err != nil {
				return err
			}
		case err != nil:
			return err
		case old == string(spec):
			out.Outcome = "unchanged"
			return nil
		default:
			out.Outcome = "updated"
			version++
			if _, err := tx.ExecContext(ctx, `UPDATE journeys SET version = $2, updated_at = $3 WHERE name = $1`,
				def.Name, version, now); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO journey_versions (journey, version, spec, created_at) VALUES ($1, $2, $3, $4)`,
			def.Name, version, string(spec), now)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("journey: apply %s: %w", def.Name, err)
	}
	if out.Journey, err = s.Get(ctx, def.Name); err != nil {
		return nil, err
	}
	return out, nil
}

// Get returns the journey called name at its current version.
func (s *Service) Get(ctx context.Context, name string) (*Journey, error) {
	js, err := s.list(ctx, `WHERE j.name = $1`, name)
	if err != nil {
		return nil, err
	}
	if len(js) == 0 {
		return nil, ErrNotFound
	}
	return &js[0], nil
}

// List returns every journey by name.
func (s *Service) List(ctx context.Context) ([]Journey, error) { return s.list(ctx, "") }

func (s *Service) list(ctx context.Context, where string, args ...any) ([]Journey, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT j.name, j.version, j.status, j.created_at, j.updated_at, v.spec
		FROM journeys j JOIN journey_versions v ON v.journey = j.name AND v.version = j.version `+where+` ORDER BY j.name`, args...)
	if err != nil {
		return nil, fmt.Errorf("journey: list: %w", err)
	}
	defer rows.Close()
	out := []Journey{}
	for rows.Next() {
		var j Journey
		var spec string
		if err := rows.Scan(&j.Name, &j.Version, &j.Status, &j.CreatedAt, &j.UpdatedAt, &spec); err != nil {
			return nil, fmt.Errorf("journey: list: %w", err)
		}
		if err := json.Unmarshal([]byte(spec), &j.Definition); err != nil {
			return nil, fmt.Errorf("journey %s: stored spec: %w", j.Name, err)
		}
		j.CreatedAt, j.UpdatedAt = j.CreatedAt.UTC(), j.UpdatedAt.UTC()
		out = append(out, j)
	}
	return out, rows.Err()
}

// Launch makes a draft or stopped journey live: events that arrive from now
// on enrol members (earlier ones never do).
func (s *Service) Launch(ctx context.Context, name string) (*Journey, error) {
	return s.setStatus(ctx, name, Live, Draft, Stopped)
}

// Stop ends enrolment; members inside finish on their version.
func (s *Service) Stop(ctx context.Context, name string) (*Journey, error) {
	return s.setStatus(ctx, name, Stopped, Live)
}

func (s *Service) setStatus(ctx context.Context, name, to string, from ...string) (*Journey, error) {
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var status string
		err := tx.QueryRowContext(ctx, `SELECT status FROM journeys WHERE name = $1`, name).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if !slices.Contains(from, status) {
			return ErrStatus
		}
		extra := ""
		if to == Live {
			// The cursor starts here if this is the first launch, so the
			// events of this journey's first moments are read.
			if err := startCursor(ctx, tx); err != nil {
				return err
			}
			extra = `, launched_seq = (SELECT COALESCE(MAX(id), 0) FROM events)`
			var version int
			if err := tx.QueryRowContext(ctx, `SELECT version FROM journeys WHERE name = $1`, name).Scan(&version); err != nil {
				return err
			}
			def, err := s.version(ctx, tx, name, version)
			if err != nil {
				return err
			}
			if err := skipEarlierLaunch(ctx, tx, name, def); err != nil {
				return err
			}
			// A segment trigger starts from who matches at this launch.
			for _, t := range []string{"journey_segment_passes", "journey_segment_members"} {
				if _, err := tx.ExecContext(ctx, `DELETE FROM `+t+` WHERE journey = $1`, name); err != nil {
					return err
				}
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE journeys SET status = $2, updated_at = $3`+extra+` WHERE name = $1`, name, to, s.now())
		return err
	})
	if err != nil {
		if errors.Is(err, ErrNotFound) || errors.Is(err, ErrStatus) {
			return nil, err
		}
		return nil, fmt.Errorf("journey: %s %s: %w", to, name, err)
	}
	return s.Get(ctx, name)
}

// Delete removes a journey that has never enrolled anyone; one that has is
// stopped instead, since its enrolments and log are its report.
func (s *Service) Delete(ctx context.Context, name string) error {
	if _, err := s.Get(ctx, name); err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM journey_enrolments WHERE journey = $1`, name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return problem.New(problem.Conflict, "journey_has_members", "the journey has enrolled members: stop it instead")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM journey_versions WHERE journey = $1`, name); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM journeys WHERE name = $1`, name)
		return err
	})
}

// version returns a stored version's definition, cached: versions never
// change once written.
func (s *Service) version(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, name string, v int) (Definition, error) {
	k := verKey{name, v}
	s.mu.Lock()
	d, ok := s.versions[k]
	s.mu.Unlock()
	if ok {
		return d, nil
	}
	var spec string
	if err := q.QueryRowContext(ctx, `SELECT spec FROM journey_versions WHERE journey = $1 AND version = $2`, name, v).Scan(&spec); err != nil {
		return d, fmt.Errorf("journey %s version %d: %w", name, v, err)
	}
	if err := json.Unmarshal([]byte(spec), &d); err != nil {
		return d, fmt.Errorf("journey %s version %d: stored spec: %w", name, v, err)
	}
	s.mu.Lock()
	s.versions[k] = d
	s.mu.Unlock()
	return d, nil
}
