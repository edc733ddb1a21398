package webhook

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Delivery is one event sent (or to be sent) to one endpoint, as the
// delivery log shows it.
type Delivery struct {
	ID          string          `json:"id"`
	EndpointID  string          `json:"endpoint_id"`
	EventID     string          `json:"event_id"` // the webhook-id header
	EventType   string          `json:"event_type"`
	Status      string          `json:"status"`
	Attempts    int             `json:"attempts"`
	NextAt      *time.Time      `json:"next_attempt_at,omitempty"` // pending only
	CreatedAt   time.Time       `json:"created_at"`
	ExpiresAt   time.Time       `json:"expires_at"`
	DeliveredAt *time.Time      `json:"delivered_at,omitempty"`
	LastCode    int             `json:"last_response_code,omitempty"`
	LastError   string          `json:"last_error,omitempty"`
	Payload     json.RawMessage `json:"payload,omitempty"` // in Delivery only
}

// Attempt is one try of a delivery.
type Attempt struct {
	Attempt   int       `json:"attempt"`
	At        time.Time `json:"at"`
	Code      int       `json:"response_code"` // 0 when no answer came
	LatencyMS float64   `json:"latency_ms"`
	Error     string    `json:"error,omitempty"`
}

const deliverySelect = `SELECT id, endpoint_id, event_id, event_type, status, attempts, next_at, created_at, expires_at,
	delivered_at, last_code, last_error, payload FROM webhook_deliveries`

func scanDelivery(sc interface{ Scan(...any) error }, withPayload bool) (*Delivery, error) {
	var d Delivery
	var next time.Time
	var delivered sql.NullTime
	var payload string
	if err := sc.Scan(&d.ID, &d.EndpointID, &d.EventID, &d.EventType, &d.Status, &d.Attempts, &next, &d.CreatedAt,
		&d.ExpiresAt, &delivered, &d.LastCode, &d.LastError, &payload); err != nil {
		return nil, err
	}
	d.CreatedAt, d.ExpiresAt = d.CreatedAt.UTC(), d.ExpiresAt.UTC()
	if d.Status == StatusPending {
		n := next.UTC()
		d.NextAt = &n
	}
	if delivered.Valid {
		t := delivered.Time.UTC()
		d.DeliveredAt = &t
	}
	if withPayload {
		d.Payload = json.RawMessage(payload)
	}
	return &d, nil
}

// DeliveryQuery selects an endpoint's deliveries, newest first.
type DeliveryQuery struct {
	Status string // "" for every status
	Before string // a delivery id: those made before it (the next page)
	Limit  int    // 50 if 0, at most 500
}

// Deliveries returns an endpoint's delivery log, newest first.
func (s *Service) Deliveries(ctx context.Context, endpointID string, q DeliveryQuery) ([]*Delivery, error) {
	if _, err := s.Get(ctx, endpointID); err != nil {
		return nil, err
	}
	if q.Limit <= 0 {
		q.Limit = 50
	}
	q.Limit = min(q.Limit, 500)
	return s.queryDeliveries(ctx, deliverySelect+` WHERE endpoint_id = $1 AND ($2 = '' OR status = $2)
		AND ($3 = '' OR id < $3) ORDER BY id DESC LIMIT $4`, endpointID, q.Status, q.Before, q.Limit)
}

// queryDeliveries runs a query of deliverySelect's columns, payloads left out.
func (s *Service) queryDeliveries(ctx context.Context, query string, args ...any) ([]*Delivery, error) {
	rows, err := s.db.R.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("webhook deliveries: %w", err)
	}
	defer rows.Close()
	out := []*Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows, false)
		if err != nil {
			return nil, fmt.Errorf("webhook deliveries: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Delivery returns one delivery with its payload.
func (s *Service) Delivery(ctx context.Context, deliveryID string) (*Delivery, error) {
	d, err := scanDelivery(s.db.R.QueryRowContext(ctx, deliverySelect+` WHERE id = $1`, deliveryID), true)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNoDelivery
	}
	if err != nil {
		return nil, fmt.Errorf("webhook delivery: %w", err)
	}
	return d, nil
}

// Attempts returns a delivery's attempts, first first.
func (s *Service) Attempts(ctx context.Context, deliveryID string) ([]Attempt, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT attempt, at, code, latency_us, error FROM webhook_attempts
		WHERE delivery_id = $1 ORDER BY attempt`, deliveryID)
	if err != nil {
		return nil, fmt.Errorf("webhook attempts: %w", err)
	}
	defer rows.Close()
	out := []Attempt{}
	for rows.Next() {
		var a Attempt
		var us int64
		if err := rows.Scan(&a.Attempt, &a.At, &a.Code, &us, &a.Error); err != nil {
			return nil, fmt.Errorf("webhook attempts: %w", err)
		}
		a.At, a.LatencyMS = a.At.UTC(), float64(us)/1000
		out = append(out, a)
	}
	return out, rows.Err()
}

// Replay sends a delivery again now, whatever its state (a dead one, or a
// delivered one the receiver lost), with RetryFor from now to succeed. Its
// webhook-id stays the same, so a receiver that did process it can tell.
// A delivery being attempted right now is left alone (ErrInFlight).
func (s *Service) Replay(ctx context.Context, deliveryID string) (*Delivery, error) {
	now := s.utc()
	res, err := s.db.W.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'pending', next_at = $2, expires_at = $3,
		claim_token = NULL WHERE id = $1 AND status <> 'sending'`, deliveryID, now, now.Add(s.opt.RetryFor))
	if err != nil {
		return nil, fmt.Errorf("webhook replay: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		d, err := s.Delivery(ctx, deliveryID)
		if err != nil {
			return nil, err
		}
		if d.Status == StatusSending {
			return nil, ErrInFlight
		}
	}
	return s.Delivery(ctx, deliveryID)
}

// Recent returns the latest deliveries to every endpoint, newest first,
// for the dashboard.
func (s *Service) Recent(ctx context.Context, limit int) ([]*Delivery, error) {
	return s.queryDeliveries(ctx, deliverySelect+` ORDER BY id DESC LIMIT $1`, min(max(limit, 1), 500))
}
