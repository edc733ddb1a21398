package campaign

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"sync"
	"time"

	"github.com/perk-platform/perk/internal/id"
	"github.com/perk-platform/perk/internal/links"
	"github.com/perk-platform/perk/internal/money"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/report/figures"
	"github.com/perk-platform/perk/internal/rollup"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/store"
)

// Status is where a campaign is in its life.
type Status string

// Campaign statuses. Scheduled becomes active at the start and anything
// launched becomes ended at the end without a write: Status is computed from
// the stored status and the clock whenever a campaign is read.
const (
	Draft     Status = "draft"     // being written; may change freely
	Scheduled Status = "scheduled" // launched, start still ahead
	Active    Status = "active"    // live at the tills
	Paused    Status = "paused"    // launched, withheld from the tills until resumed
	Ended     Status = "ended"     // past its end, or a limit was reached
)

// Campaign is a stored campaign with its counters.
type Campaign struct {
	ID            string     `json:"id"`
	Spec          Spec       `json:"spec"`
	Status        Status     `json:"status"`
	EndedReason   string     `json:"ended_reason,omitempty"`
	Start         time.Time  `json:"start"`
	End           time.Time  `json:"end"`
	Redemptions   int64      `json:"redemptions"`
	DiscountGiven int64      `json:"discount_given"`
	PointsGiven   int64      `json:"points_given"`
	AudienceSize  int64      `json:"audience_size"`
	ControlSize   int64      `json:"control_size"`
	Version       int64      `json:"version"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`
	LaunchedAt    *time.Time `json:"launched_at,omitempty"`
}

// Launched reports whether the campaign has left draft.
func (c *Campaign) Launched() bool { return c.LaunchedAt != nil }

// Errors callers branch on.
var (
	ErrNotFound    = problem.New(problem.NotFound, "campaign_not_found", "campaign not found")
	ErrNameTaken   = problem.New(problem.Conflict, "campaign_name_taken", "another campaign has this name")
	ErrNotDraft    = problem.New(problem.Conflict, "campaign_launched", "the campaign has been launched; only a draft can be launched or deleted")
	ErrEnded       = problem.New(problem.Conflict, "campaign_ended", "the campaign has ended")
	ErrNotPaused   = problem.New(problem.Conflict, "campaign_not_paused", "only a paused campaign can be resumed")
	ErrStaleUpdate = problem.New(problem.Conflict, "campaign_changed", "the campaign changed since it was read; reload and try again")
)

// Options configure the service.
type Options struct {
	Zone      *time.Location // the programme's zone, for specs that name none
	PublicURL string         // for card links in announcements
	Programme string
	// Currency shows the amounts of benefits the operator left undescribed
	// (the zero Currency: two decimals, no symbol).
	Currency money.Currency
	Links    *links.Service // shortens {{link}} in announcements; nil leaves addresses as they are
	Now      func() time.Time
	Log      *slog.Logger
	// CounterShards is how many rows a limited campaign's total counters
	// are spread over on PostgreSQL (DefaultCounterShards when 0); SQLite
	// always has one. A campaign keeps the count of the server whose take
	// made its shards, so a changed setting applies to campaigns that have
	// not taken yet.
	CounterShards int
}

// Service stores campaigns, computes audiences and launches.
type Service struct {
	db     *store.DB
	opt    Options
	active *activeCache

	kindsMu sync.Mutex // guards kinds
	kinds   map[string]KindLauncher
}

// NewService returns a campaign service.
func NewService(db *store.DB, opt Options) *Service {
	if opt.Zone == nil {
		opt.Zone = time.UTC
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	s := &Service{db: db, opt: opt}
	s.active = newActiveCache(s)
	return s
}

func (s *Service) now() time.Time { return s.opt.Now().UTC() }

// The counters are the sums over the campaign's counter shards
// (CountersSQL); the campaigns row's own counters are no longer written.
const campaignCols = `id, spec, status, ended_reason, starts_at, ends_at, ` + CountersSQL + `,
	audience_size, control_size, version, created_at, updated_at, launched_at`

type scanner interface{ Scan(...any) error }

func (s *Service) scan(row scanner) (*Campaign, error) {
	c, spec, err := s.scanRaw(row)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(spec), &c.Spec); err != nil {
		return nil, fmt.Errorf("campaign %s: stored spec: %w", c.ID, err)
	}
	return c, nil
}

// scanRaw reads a campaign row but leaves its spec undecoded, returning the
// stored text: the live set's reload reuses the spec (and the compiled
// campaign) of a row whose text has not changed.
func (s *Service) scanRaw(row scanner) (*Campaign, string, error) {
	var c Campaign
	var spec, status string
	var launched sql.NullTime
	if err := row.Scan(&c.ID, &spec, &status, &c.EndedReason, &c.Start, &c.End, &c.Redemptions, &c.DiscountGiven,
		&c.PointsGiven, &c.AudienceSize, &c.ControlSize, &c.Version, &c.CreatedAt, &c.UpdatedAt, &launched); err != nil {
		return nil, "", err
	}
	c.Start, c.End, c.CreatedAt, c.UpdatedAt = c.Start.UTC(), c.End.UTC(), c.CreatedAt.UTC(), c.UpdatedAt.UTC()
	if launched.Valid {
		t := launched.Time.UTC()
		c.LaunchedAt = &t
	}
	c.Status = effectiveStatus(Status(status), c.Start, c.End, s.now())
	if c.Status == Ended && c.EndedReason == "" {
		c.EndedReason = "finished"
	}
	return &c, spec, nil
}

func effectiveStatus(stored Status, start, end, now time.Time) Status {
	if stored == Draft || stored == Ended {
		return stored
	}
	if !now.Before(end) {
		return Ended
	}
	if stored == Scheduled && !now.Before(start) {
		return Active
	}
	return stored
}

// prepare validates a spec and encodes it for storage.
func (s *Service) prepare(spec Spec) (Window, string, error) {
	_, w, err := spec.Validate(s.opt.Zone)
	if err != nil {
		return Window{}, "", err
	}
	body, err := json.Marshal(spec.normal())
	return w, string(body), err
}

// inTx reads a campaign inside a transaction.
func (s *Service) inTx(ctx context.Context, tx *sql.Tx, cid string) (*Campaign, error) {
	c, err := s.scan(tx.QueryRowContext(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE id = $1`, cid))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	return c, err
}

// Create stores a new draft.
func (s *Service) Create(ctx context.Context, spec Spec) (*Campaign, error) {
	w, body, err := s.prepare(spec)
	if err != nil {
		return nil, err
	}
	now := s.now()
	cid := id.New("cmp", now)
	lim := spec.Limits
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO campaigns (id, name, status, spec, starts_at, ends_at, max_redemptions, budget, created_at, updated_at)
		VALUES ($1, $2, 'draft', $3, $4, $5, $6, $7, $8, $8)`,
			cid, spec.Name, body, w.Start, w.End, nullPositive(lim.MaxRedemptions), nullPositive(lim.Budget), now)
		if err != nil {
			return err
		}
		// A window that began in the past already holds baskets: the
		// uplift's roll-up counts them from the start.
		return rollup.Campaign(ctx, tx, cid)
	})
	if err != nil {
		if _, ok := store.UniqueViolation(err); ok {
			return nil, ErrNameTaken
		}
		return nil, fmt.Errorf("create campaign: %w", err)
	}
	s.active.invalidate()
	return s.Get(ctx, cid)
}

func nullPositive(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: v > 0} }

// Get returns a campaign by id.
func (s *Service) Get(ctx context.Context, cid string) (*Campaign, error) {
	return s.getBy(ctx, "id", cid)
}

// getBy reads one campaign by a unique column (id or name) with its counts.
func (s *Service) getBy(ctx context.Context, col, v string) (*Campaign, error) {
	c, err := s.scan(s.db.R.QueryRowContext(ctx, `SELECT `+campaignCols+` FROM campaigns WHERE `+col+` = $1`, v))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get campaign: %w", err)
	}
	return c, s.counts(ctx, c)
}

// counts fills a campaign's redemption figures from the redemptions
// themselves, by the one definition of each (package figures,
// docs/figures.md). The counters on the campaign row are kept only for
// campaigns with a total limit or budget (they are what the tills take
// under a conditional update); for the others a hot row updated by every
// basket would serialise the tills on PostgreSQL.
func (s *Service) counts(ctx context.Context, c *Campaign) error {
	f, err := figures.CampaignFigures(ctx, s.db.R, c.ID)
	if err != nil {
		return err
	}
	c.Redemptions, c.DiscountGiven, c.PointsGiven = f.Redemptions, f.Discount, f.Points
	return nil
}

// ByName returns a campaign by its unique name.
func (s *Service) ByName(ctx context.Context, name string) (*Campaign, error) {
	return s.getBy(ctx, "name", name)
}

// List returns every campaign, newest first, optionally only those with
// one status.
func (s *Service) List(ctx context.Context, status Status) ([]*Campaign, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+campaignCols+` FROM campaigns ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	defer rows.Close()
	out := []*Campaign{}
	for rows.Next() {
		c, err := s.scan(rows)
		if err != nil {
			return nil, err
		}
		if status == "" || c.Status == status {
			out = append(out, c)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	for _, c := range out {
		if err := s.counts(ctx, c); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Update replaces a campaign's spec. A draft may change in any way; once
// launched the audience, control group, announcement and (once started)
// the start are fixed, because members were chosen and told. version, when
// not 0, must match the stored version (optimistic locking for the manager
// page).
func (s *Service) Update(ctx context.Context, cid string, spec Spec, version int64) (*Campaign, error) {
	w, body, err := s.prepare(spec)
	if err != nil {
		return nil, err
	}
	now := s.now()
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		cur, err := s.inTx(ctx, tx, cid)
		if err != nil {
			return err
		}
		if version != 0 && cur.Version != version {
			return ErrStaleUpdate
		}
		if cur.Status == Ended {
			return ErrEnded
		}
		if cur.Launched() {
			if err := launchedChange(cur, &spec, w, now); err != nil {
				return err
			}
		}
		lim := spec.Limits
		write := func() error {
			_, err := tx.ExecContext(ctx, `UPDATE campaigns SET name = $2, spec = $3, starts_at = $4, ends_at = $5,
			max_redemptions = $6, budget = $7, version = version + 1, updated_at = $8 WHERE id = $1`,
				cid, spec.Name, body, w.Start, w.End, nullPositive(lim.MaxRedemptions), nullPositive(lim.Budget), now)
			if _, ok := store.UniqueViolation(err); ok {
				return ErrNameTaken
			}
			return err
		}
		old := cur.Spec.Limits
		if cur.Status == Draft || (old.MaxRedemptions == lim.MaxRedemptions && old.Budget == lim.Budget) {
			// A draft takes nothing: its shards are made at its first take.
			err = write()
		} else {
			// New limits (the variance page's "raise the budget" among
			// them) are handed out again over the counter shards, so the
			// allotments sum to them before any till takes again.
			err = s.reallotLimits(ctx, tx, cid, write)
		}
		if err != nil || (w.Start.Equal(cur.Start) && w.End.Equal(cur.End)) {
			return err
		}
		// The window moved: the baskets the uplift counts changed.
		return rollup.Campaign(ctx, tx, cid)
	})
	if err != nil {
		return nil, fmt.Errorf("update campaign: %w", err)
	}
	s.active.invalidate()
	return s.Get(ctx, cid)
}

// launchedChange refuses the changes a launched campaign cannot take.
func launchedChange(cur *Campaign, next *Spec, w Window, now time.Time) error {
	fixed := func(field string) error {
		return problem.InvalidField(field, "fixed_after_launch", nil, "cannot change once the campaign is launched")
	}
	if !reflect.DeepEqual(cur.Spec.Audience, next.Audience) {
		return fixed("audience")
	}
	if cur.Spec.ControlGroup != next.ControlGroup {
		return fixed("control_group")
	}
	if cur.Spec.Message != next.Message {
		return fixed("message")
	}
	if cur.Spec.Kind != next.Kind {
		return fixed("kind")
	}
	if !reflect.DeepEqual(cur.Spec.NextBestOffer, next.NextBestOffer) {
		return fixed("next_best_offer") // its offers were given
	}
	if !cur.Start.After(now) && !w.Start.Equal(cur.Start) {
		return problem.InvalidField("start", "fixed_after_start", nil, "cannot change once the campaign has started")
	}
	return nil
}

// Delete removes a draft.
func (s *Service) Delete(ctx context.Context, cid string) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		var status string
		err := tx.QueryRowContext(ctx, `SELECT status FROM campaigns WHERE id = $1`, cid).Scan(&status)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return err
		}
		if Status(status) != Draft {
			return ErrNotDraft
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM campaign_lists WHERE campaign_id = $1`, cid); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM campaign_spend WHERE campaign_id = $1`, cid); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM campaign_counter_shards WHERE campaign_id = $1`, cid); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM campaigns WHERE id = $1`, cid)
		return err
	})
}

// Pause withholds a launched campaign from the tills, and its queued
// announcements from the sender: they are held (campaign_paused), visibly
// in the outbox, until it resumes.
func (s *Service) Pause(ctx context.Context, cid string) (*Campaign, error) {
	return s.setStatus(ctx, cid, func(c *Campaign) (Status, error) {
		switch c.Status {
		case Draft:
			return "", ErrNotLaunched
		case Ended:
			return "", ErrEnded
		}
		return Paused, nil
	}, func(tx *sql.Tx) error {
		_, err := sms.HoldCampaign(ctx, tx, cid, sms.ReasonCampaignPaused)
		return err
	})
}

// Resume puts a paused campaign back, and queues again the announcements
// the pause held (the contact policy decides them afresh: one that can no
// longer arrive before the end is dropped).
func (s *Service) Resume(ctx context.Context, cid string) (*Campaign, error) {
	return s.setStatus(ctx, cid, func(c *Campaign) (Status, error) {
		if c.Status != Paused {
			return "", ErrNotPaused
		}
		if c.Start.After(s.now()) {
			return Scheduled, nil
		}
		return Active, nil
	}, func(tx *sql.Tx) error {
		_, err := sms.ReleaseCampaign(ctx, tx, cid, sms.ReasonCampaignPaused, s.now())
		return err
	})
}

// ErrNotLaunched is returned for operations that need a launched campaign.
var ErrNotLaunched = problem.New(problem.Conflict, "campaign_not_launched", "the campaign has not been launched")

// setStatus moves a campaign to the status next gives and runs also in the
// same transaction.
func (s *Service) setStatus(ctx context.Context, cid string, next func(*Campaign) (Status, error), also func(*sql.Tx) error) (*Campaign, error) {
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		cur, err := s.inTx(ctx, tx, cid)
		if err != nil {
			return err
		}
		st, err := next(cur)
		if err != nil {
			return err
		}
		if _, err = tx.ExecContext(ctx, `UPDATE campaigns SET status = $2, version = version + 1, updated_at = $3 WHERE id = $1`, cid, string(st), s.now()); err != nil {
			return err
		}
		return also(tx)
	})
	if err != nil {
		return nil, err
	}
	s.active.invalidate()
	return s.Get(ctx, cid)
}

// Zone is the programme's time zone (campaign dates that name none, the
// dashboard's days).
func (s *Service) Zone() *time.Location { return s.opt.Zone }
