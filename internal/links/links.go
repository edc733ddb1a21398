// Package links makes the tracked short links Perk puts in messages
// (/l/{code}) and records their clicks, so a click joins the member's contact
// and reaction history before the shopper is sent on to the real address.
package links

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/event"

	"github.com/perk-platform/perk/internal/id"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/sms/compose"
	"github.com/perk-platform/perk/internal/store"
)

// ErrNotFound is returned for an unknown short link.
var ErrNotFound = problem.New(problem.NotFound, "link_not_found", "link not found")

// Link is where a short link goes and whom it was sent to.
type Link struct {
	URL       string // the target
	MemberID  string // "" for a link not tied to a member
	MessageID string
	Campaign  string
}

// Service shortens links and records clicks.
type Service struct {
	db        *store.DB
	publicURL string
	now       func() time.Time
}

// NewService returns a service whose short links start with publicURL.
func NewService(db *store.DB, publicURL string, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, publicURL: strings.TrimRight(publicURL, "/"), now: now}
}

type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// codeBytes gives 8 base32 characters, 40 bits: enough that links cannot be
// enumerated, short enough to keep an SMS in one part.
const codeBytes = 5

// Shorten stores l and returns its short URL. ex may be the transaction that
// queues the message carrying it. Only http and https targets are allowed.
func (s *Service) Shorten(ctx context.Context, ex execer, l Link) (string, error) {
	if err := compose.CheckLink(l.URL); err != nil {
		return "", problem.InvalidField("url", "url_invalid", nil, "%s", err)
	}
	if ex == nil {
		ex = s.db.W
	}
	code := id.Token(codeBytes)
	_, err := ex.ExecContext(ctx, `INSERT INTO short_links (code, url, member_id, message_id, campaign, created_at)
		VALUES ($1, $2, $3, $4, $5, $6)`, code, l.URL, store.NullString(l.MemberID), store.NullString(l.MessageID),
		l.Campaign, s.now().UTC())
	if err != nil {
		return "", fmt.Errorf("shorten: %w", err)
	}
	return s.publicURL + "/l/" + code, nil
}

// Click records a click and returns the target.
func (s *Service) Click(ctx context.Context, code string) (string, error) {
	target, _, err := s.Follow(ctx, code, "")
	return target, err
}

// Follow records a click from the browser with anonymous id anon ("" if
// unknown) and returns the target and the member the link was sent to (""
// if none). The click goes into the event stream in
// the same transaction; when the link was sent to a member, the click ties
// the browser to them.
func (s *Service) Follow(ctx context.Context, code, anon string) (target, memberID string, err error) {
	var campaign string
	var member, message sql.NullString
	err = s.db.R.QueryRowContext(ctx, `SELECT url, member_id, message_id, campaign FROM short_links WHERE code = $1`,
		code).Scan(&target, &member, &message, &campaign)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", ErrNotFound
	}
	if err != nil {
		return "", "", fmt.Errorf("click: %w", err)
	}
	now := s.now().UTC()
	props, _ := json.Marshal(map[string]string{"link": code, "message_id": message.String, "url": target})
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO link_clicks (code, member_id, clicked_at) VALUES ($1, $2, $3)`,
			code, member, now); err != nil {
			return err
		}
		if !member.Valid && anon == "" {
			return nil // a link sent to nobody in particular, from a browser without an id
		}
		return event.Record(ctx, tx, s.db.Dialect, event.Event{
			EventID: "perk:link_clicked:" + code + ":" + strconv.FormatInt(now.UnixMicro(), 10) + ":" + anon,
			Type:    event.LinkClicked, Time: now, Channel: event.SMS, MemberID: member.String, AnonymousID: anon,
			Campaign: campaign, Properties: props,
		})
	})
	if err != nil {
		return "", "", fmt.Errorf("click: %w", err)
	}
	return target, member.String, nil
}

// Clicks counts the clicks on a link.
func (s *Service) Clicks(ctx context.Context, code string) (int, error) {
	var n int
	err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM link_clicks WHERE code = $1`, code).Scan(&n)
	return n, err
}
