package webhook

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/id"
	"github.com/perk-platform/perk/internal/problem"
)

// Endpoint is a URL subscribed to event types.
type Endpoint struct {
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	Description string   `json:"description"`
	EventTypes  []string `json:"event_types"`
	// Secret is shown once, when the endpoint is created or its secret
	// rotated; listings leave it out.
	Secret string `json:"secret,omitempty"`
	// PreviousUntil is when a rotated-out secret stops signing, nil when
	// only one secret is in force.
	PreviousUntil *time.Time `json:"previous_secret_until,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	UpdatedAt     time.Time  `json:"updated_at"`

	secret, previous string // the signing secrets, for the dispatcher

	// The secrets' HMAC keys, decoded once when the dispatcher's cache
	// loads the endpoint (keyErr if one is not a valid secret).
	key, previousKey []byte
	keyErr           error
}

// decodeKeys fills the endpoint's HMAC keys from its secrets.
func (e *Endpoint) decodeKeys() {
	e.key, e.keyErr = secretKey(e.secret)
	if e.keyErr == nil && e.previous != "" {
		e.previousKey, e.keyErr = secretKey(e.previous)
	}
}

// keys are the HMAC keys that sign a delivery at t: the current secret's,
// and the previous one's during its grace period.
func (e *Endpoint) keys(t time.Time) ([][]byte, error) {
	if e.keyErr != nil {
		return nil, e.keyErr
	}
	if e.rotating(t) {
		return [][]byte{e.key, e.previousKey}, nil
	}
	return [][]byte{e.key}, nil
}

// rotating is true while a rotated-out secret still signs beside the new one.
func (e *Endpoint) rotating(t time.Time) bool {
	return e.previous != "" && e.PreviousUntil != nil && t.Before(*e.PreviousUntil)
}

// Spec is what a client sets on an endpoint.
type Spec struct {
	URL         string   `json:"url"`
	Description string   `json:"description"`
	EventTypes  []string `json:"event_types"`
}

// Errors callers branch on.
var (
	ErrNotFound   = problem.New(problem.NotFound, "webhook_not_found", "no such webhook endpoint")
	ErrNoDelivery = problem.New(problem.NotFound, "delivery_not_found", "no such delivery")
)

func (s *Service) clean(ctx context.Context, sp Spec) (Spec, error) {
	sp.URL = strings.TrimSpace(sp.URL)
	u, err := checkURL(ctx, sp.URL, s.opt.AllowPrivate, s.opt.Resolver)
	if errors.Is(err, ErrPrivateTarget) {
		return sp, problem.InvalidField("url", "url_private", nil, "refused: %v (--webhooks-allow-private allows it)", err)
	}
	if err != nil {
		return sp, problem.InvalidField("url", "url_invalid", err, "%v", err)
	}
	sp.URL = u.String()
	if len(sp.Description) > 500 {
		return sp, problem.InvalidField("description", "description_too_long", nil, "at most 500 characters")
	}
	if len(sp.EventTypes) == 0 {
		return sp, problem.InvalidField("event_types", "event_types_empty", nil, "name at least one event type")
	}
	types := slices.Clone(sp.EventTypes)
	for i, t := range types {
		if !slices.Contains(change.Types, t) {
			return sp, problem.InvalidField(fmt.Sprintf("event_types[%d]", i), "event_type_unknown", nil,
				"unknown event type %q (known: %s)", t, strings.Join(change.Types, ", "))
		}
	}
	slices.Sort(types)
	sp.EventTypes = slices.Compact(types)
	return sp, nil
}

// Create registers an endpoint with a fresh secret, which the answer holds.
func (s *Service) Create(ctx context.Context, sp Spec) (*Endpoint, error) {
	sp, err := s.clean(ctx, sp)
	if err != nil {
		return nil, err
	}
	now := s.utc()
	e := &Endpoint{ID: id.New("whe", now), URL: sp.URL, Description: sp.Description, EventTypes: sp.EventTypes,
		Secret: NewSecret(), CreatedAt: now, UpdatedAt: now}
	types, _ := json.Marshal(e.EventTypes)
	_, err = s.db.W.ExecContext(ctx, `INSERT INTO webhook_endpoints (id, url, description, event_types, secret, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6)`, e.ID, e.URL, e.Description, string(types), e.Secret, now)
	if err != nil {
		return nil, fmt.Errorf("webhook create: %w", err)
	}
	s.cache.invalidate()
	return e, nil
}

// Update replaces an endpoint's URL, description and event types.
func (s *Service) Update(ctx context.Context, endpointID string, sp Spec) (*Endpoint, error) {
	sp, err := s.clean(ctx, sp)
	if err != nil {
		return nil, err
	}
	types, _ := json.Marshal(sp.EventTypes)
	res, err := s.db.W.ExecContext(ctx, `UPDATE webhook_endpoints SET url = $2, description = $3, event_types = $4, updated_at = $5
		WHERE id = $1`, endpointID, sp.URL, sp.Description, string(types), s.utc())
	if err != nil {
		return nil, fmt.Errorf("webhook update: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, ErrNotFound
	}
	s.cache.invalidate()
	return s.Get(ctx, endpointID)
}

// Rotate gives an endpoint a new secret, returned in the answer. The old
// one keeps signing beside it for Options.Grace (or grace, if positive), so
// receivers can switch without missing a delivery.
func (s *Service) Rotate(ctx context.Context, endpointID string, grace time.Duration) (*Endpoint, error) {
	if grace <= 0 {
		grace = s.opt.Grace
	}
	now := s.utc()
	secret := NewSecret()
	res, err := s.db.W.ExecContext(ctx, `UPDATE webhook_endpoints SET previous_secret = secret, previous_until = $2,
		secret = $3, updated_at = $4 WHERE id = $1`, endpointID, now.Add(grace), secret, now)
	if err != nil {
		return nil, fmt.Errorf("webhook rotate: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, ErrNotFound
	}
	s.cache.invalidate()
	e, err := s.Get(ctx, endpointID)
	if err != nil {
		return nil, err
	}
	e.Secret = secret
	return e, nil
}

// Delete removes an endpoint with its deliveries and their log.
func (s *Service) Delete(ctx context.Context, endpointID string) error {
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM webhook_endpoints WHERE id = $1`, endpointID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM webhook_deliveries WHERE endpoint_id = $1`, endpointID)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		return err
	}
	if err != nil {
		return fmt.Errorf("webhook delete: %w", err)
	}
	s.cache.invalidate()
	return nil
}

const endpointCols = `id, url, description, event_types, secret, previous_secret, previous_until, created_at, updated_at`

func scanEndpoint(sc interface{ Scan(...any) error }) (*Endpoint, error) {
	var e Endpoint
	var types string
	var until sql.NullTime
	if err := sc.Scan(&e.ID, &e.URL, &e.Description, &types, &e.secret, &e.previous, &until, &e.CreatedAt, &e.UpdatedAt); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(types), &e.EventTypes); err != nil {
		return nil, fmt.Errorf("endpoint %s event types: %w", e.ID, err)
	}
	if until.Valid {
		t := until.Time.UTC()
		e.PreviousUntil = &t
	}
	e.CreatedAt, e.UpdatedAt = e.CreatedAt.UTC(), e.UpdatedAt.UTC()
	return &e, nil
}

// Get returns one endpoint, without its secret.
func (s *Service) Get(ctx context.Context, endpointID string) (*Endpoint, error) {
	e, err := scanEndpoint(s.db.R.QueryRowContext(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints WHERE id = $1`, endpointID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("webhook get: %w", err)
	}
	return e, nil
}

// List returns every endpoint, oldest first, without secrets.
func (s *Service) List(ctx context.Context) ([]*Endpoint, error) {
	return s.list(ctx, s.db.R)
}

type querier interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}

func (s *Service) list(ctx context.Context, q querier) ([]*Endpoint, error) {
	rows, err := q.QueryContext(ctx, `SELECT `+endpointCols+` FROM webhook_endpoints ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("webhook list: %w", err)
	}
	defer rows.Close()
	out := []*Endpoint{}
	for rows.Next() {
		e, err := scanEndpoint(rows)
		if err != nil {
			return nil, fmt.Errorf("webhook list: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

// ErrInFlight is returned when replaying a delivery that is being attempted.
var ErrInFlight = problem.New(problem.Conflict, "delivery_in_flight", "the delivery is being attempted; try again when it has settled")
