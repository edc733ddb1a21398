// Package auth issues and checks the API keys that EPoS terminals, CRMs and
// operators' scripts use, and says what each role may do.
//
// A key is shown once, when created ("perk_<id>_<secret>"); only a SHA-256 of
// the secret is stored. The secret carries 160 random bits, so a fast hash is
// enough: there is nothing to brute-force that a slow hash would protect.
//
// It also keeps the operators who sign in to the dashboard with email and
// password (argon2id), their sessions and the login rate limit (user*.go).
package auth

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/id"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
)

// Role is what a key is for.
type Role string

// Roles, from most to least powerful.
const (
	RoleAdmin     Role = "admin"     // everything, including erasure and keys
	RoleManager   Role = "manager"   // members and campaigns
	RolePOS       Role = "pos"       // one store's tills: checkout and enrolment at the till
	RoleReporting Role = "reporting" // read only
	// RoleIngest is a public write key: it sits in a web page's /perk.js or
	// in an app, so anyone can read it, and it may only send events (rate
	// limited per client address).
	RoleIngest Role = "ingest"
)

// ParseRole validates a role name.
func ParseRole(s string) (Role, error) {
	switch r := Role(strings.ToLower(strings.TrimSpace(s))); r {
	case RoleAdmin, RoleManager, RolePOS, RoleReporting, RoleIngest:
		return r, nil
	}
	return "", problem.InvalidField("role", "role_invalid", nil, "unknown role %q (admin, manager, pos, reporting, ingest)", s)
}

// Permission is one kind of action a request needs.
type Permission string

// Permissions checked by the HTTP layer.
const (
	MembersRead  Permission = "members:read"
	MembersEnrol Permission = "members:enrol"
	MembersWrite Permission = "members:write"
	MembersErase Permission = "members:erase"

	CampaignsRead  Permission = "campaigns:read"  // campaigns, previews, simulations
	CampaignsWrite Permission = "campaigns:write" // create, change, launch, pause
	Checkout       Permission = "checkout"        // evaluate, commit, return, void at a till
	PointsAdjust   Permission = "points:adjust"   // an operator's correction to a balance
	MetricsRead    Permission = "metrics:read"    // the Prometheus /metrics page
	WebhooksManage Permission = "webhooks:manage" // webhook endpoints, their secrets and deliveries
	EventsWrite    Permission = "events:write"    // send events to the stream (POST /v1/events)
	ClockManage    Permission = "clock:manage"    // read and advance perk serve's simulated clock

	CatalogueRead  Permission = "catalogue:read"  // stores, products, unknown SKUs
	CatalogueWrite Permission = "catalogue:write" // create, change and delete stores and products
)

var grants = map[Role][]Permission{
	RoleAdmin: {MembersRead, MembersEnrol, MembersWrite, MembersErase, CampaignsRead, CampaignsWrite, Checkout, PointsAdjust, MetricsRead, WebhooksManage, EventsWrite,
		CatalogueRead, CatalogueWrite, ClockManage},
	RoleManager: {MembersRead, MembersEnrol, MembersWrite, CampaignsRead, CampaignsWrite, PointsAdjust, EventsWrite,
		CatalogueRead, CatalogueWrite},
	RolePOS:       {MembersEnrol, Checkout, EventsWrite},
	RoleIngest:    {EventsWrite},
	RoleReporting: {MembersRead, CampaignsRead, MetricsRead, CatalogueRead},
}

// Allows reports whether the role grants p.
func (r Role) Allows(p Permission) bool {
	for _, g := range grants[r] {
		if g == p {
			return true
		}
	}
	return false
}

// Key is an API key as stored (never with its secret).
type Key struct {
	ID        string     `json:"id"`
	Name      string     `json:"name,omitempty"`
	Role      Role       `json:"role"`
	Store     string     `json:"store,omitempty"` // the store a pos key is bound to
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
}

// Errors for requests without a usable key or with too weak a one.
var (
	ErrUnauthorized = problem.New(problem.Unauthorized, "unauthorized", "missing or invalid API key")
	ErrForbidden    = problem.New(problem.Forbidden, "forbidden", "this API key's role does not allow that")
)

// Service manages keys, and operators and their sessions (user.go).
type Service struct {
	db  *store.DB
	now func() time.Time
	// For operators' logins: failed attempts, and the argon2id slots.
	throttle *throttle
	hasher   *hasher
}

// NewService returns a Service over db; now is time.Now if nil.
func NewService(db *store.DB, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, now: now, throttle: newThrottle(), hasher: newHasher(runtime.GOMAXPROCS(0))}
}

const keyPrefix = "perk_"

func hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Create issues a key and returns it with its full secret, which is not
// stored and cannot be shown again. A pos key must name its store.
func (s *Service) Create(ctx context.Context, role Role, storeID, name string) (string, *Key, error) {
	if _, err := ParseRole(string(role)); err != nil {
		return "", nil, err
	}
	storeID = strings.TrimSpace(storeID)
	if role == RolePOS && storeID == "" {
		return "", nil, problem.InvalidField("store", "store_required", nil, "a pos key must be bound to a store")
	}
	now := s.now().UTC()
	k := &Key{ID: strings.TrimPrefix(id.New("key", now), "key_"), Name: name, Role: role, Store: storeID, CreatedAt: now}
	secret := id.Token(20)
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO api_keys (id, name, secret_hash, role, store_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, k.ID, name, hash(secret), string(role), storeID, now)
	if err != nil {
		return "", nil, fmt.Errorf("create key: %w", err)
	}
	return keyPrefix + k.ID + "_" + secret, k, nil
}

// Authenticate returns the key behind a presented secret, or ErrUnauthorized.
func (s *Service) Authenticate(ctx context.Context, presented string) (*Key, error) {
	rest, ok := strings.CutPrefix(presented, keyPrefix)
	if !ok {
		return nil, ErrUnauthorized
	}
	keyID, secret, ok := strings.Cut(rest, "_")
	if !ok || keyID == "" || secret == "" {
		return nil, ErrUnauthorized
	}
	var k Key
	var stored string
	var revoked sql.NullTime
	err := s.db.Read.QueryRowContext(ctx, `SELECT id, name, secret_hash, role, store_id, created_at, revoked_at
		FROM api_keys WHERE id = $1`, keyID).Scan(&k.ID, &k.Name, &stored, &k.Role, &k.Store, &k.CreatedAt, &revoked)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrUnauthorized
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(stored), []byte(hash(secret))) != 1 || revoked.Valid {
		return nil, ErrUnauthorized
	}
	return &k, nil
}

// Revoke disables a key at once.
func (s *Service) Revoke(ctx context.Context, keyID string) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL`,
		keyID, s.now().UTC())
	if err != nil {
		return fmt.Errorf("revoke key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return problem.New(problem.NotFound, "key_not_found", "no active key with that id")
	}
	return nil
}

// List returns all keys, newest first.
func (s *Service) List(ctx context.Context) ([]Key, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, name, role, store_id, created_at, revoked_at FROM api_keys ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	defer rows.Close()
	var out []Key
	for rows.Next() {
		var k Key
		var revoked sql.NullTime
		if err := rows.Scan(&k.ID, &k.Name, &k.Role, &k.Store, &k.CreatedAt, &revoked); err != nil {
			return nil, fmt.Errorf("list keys: %w", err)
		}
		if revoked.Valid {
			t := revoked.Time.UTC()
			k.RevokedAt = &t
		}
		out = append(out, k)
	}
	return out, rows.Err()
}
