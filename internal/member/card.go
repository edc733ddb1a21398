package member

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/perk-platform/perk/internal/event"

	"github.com/perk-platform/perk/internal/id"
	"github.com/perk-platform/perk/internal/sms/texts"
	"github.com/perk-platform/perk/internal/store"
)

// Card tokens are the bearer secret in a card page link (/c/{token}): 128
// random bits, so links cannot be guessed from codes or ids. They are stored
// as issued because the link must be re-sent (CODE by SMS, the API's
// card_url); revoking one and issuing another is how a leaked link is closed.

func issueCardToken(ctx context.Context, q querier, memberID string, now time.Time) (string, error) {
	token := newCardToken()
	if _, err := q.ExecContext(ctx, `INSERT INTO card_tokens (token, member_id, created_at) VALUES ($1, $2, $3)`,
		token, memberID, now); err != nil {
		return "", fmt.Errorf("issue card token: %w", err)
	}
	return token, nil
}

// newCardToken draws the secret of a card link: 16 random bytes.
func newCardToken() string { return id.Token(16) }

// cardToken is a card link to issue.
type cardToken struct{ token, memberID string }

// insertCardTokens issues many card links in a few statements.
func insertCardTokens(ctx context.Context, q querier, d store.Dialect, ts []cardToken, now time.Time) error {
	at := now.UTC()
	err := store.InsertRows(ctx, q, d, "card_tokens", []string{"token", "member_id", "created_at"}, len(ts), 1000, func(i int) []any {
		return []any{ts[i].token, ts[i].memberID, at}
	})
	if err != nil {
		return fmt.Errorf("issue card tokens: %w", err)
	}
	return nil
}

// activeCardToken returns the member's newest unrevoked token, issuing one
// if there is none (members imported in bulk get theirs on first use).
func activeCardToken(ctx context.Context, q querier, memberID string, now time.Time) (string, error) {
	var token string
	err := q.QueryRowContext(ctx, `SELECT token FROM card_tokens WHERE member_id = $1 AND revoked_at IS NULL
		ORDER BY created_at DESC LIMIT 1`, memberID).Scan(&token)
	if errors.Is(err, sql.ErrNoRows) {
		return issueCardToken(ctx, q, memberID, now)
	}
	if err != nil {
		return "", fmt.Errorf("card token: %w", err)
	}
	return token, nil
}

// CardToken returns the member's card token, issuing one if needed.
func (s *Service) CardToken(ctx context.Context, memberID string) (string, error) {
	var token string
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := liveMember(ctx, tx, memberID); err != nil {
			return err
		}
		var err error
		token, err = activeCardToken(ctx, tx, memberID, nowUTC(s.opt.Now))
		return err
	})
	return token, err
}

// ReissueCardToken revokes every token of the member and issues a new one:
// old links stop working at once.
func (s *Service) ReissueCardToken(ctx context.Context, memberID string) (string, error) {
	now := nowUTC(s.opt.Now)
	var token string
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := liveMember(ctx, tx, memberID); err != nil {
			return err
		}
		if err := revokeCardTokens(ctx, tx, memberID, now); err != nil {
			return err
		}
		var err error
		token, err = issueCardToken(ctx, tx, memberID, now)
		return err
	})
	return token, err
}

// RevokeCardTokens disables every card link of the member.
func (s *Service) RevokeCardTokens(ctx context.Context, memberID string) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := getOne(ctx, tx, `id = $1`, memberID); err != nil {
			return err
		}
		return revokeCardTokens(ctx, tx, memberID, nowUTC(s.opt.Now))
	})
}

func revokeCardTokens(ctx context.Context, q querier, memberID string, now time.Time) error {
	if _, err := q.ExecContext(ctx, `UPDATE card_tokens SET revoked_at = $2 WHERE member_id = $1 AND revoked_at IS NULL`,
		memberID, now); err != nil {
		return fmt.Errorf("revoke card tokens: %w", err)
	}
	return nil
}

// ExistingCardToken returns the member's active card token without issuing
// one: "" when there is none. Read paths use it so that a GET changes nothing.
func (s *Service) ExistingCardToken(ctx context.Context, memberID string) (string, error) {
	var token string
	err := s.db.R.QueryRowContext(ctx, `SELECT token FROM card_tokens WHERE member_id = $1 AND revoked_at IS NULL
		ORDER BY created_at DESC LIMIT 1`, memberID).Scan(&token)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("card token: %w", err)
	}
	return token, nil
}

// ResendCode queues a message with the member's code and card link, for a
// member who asks again (CODE, or JOIN from a member).
func (s *Service) ResendCode(ctx context.Context, memberID string) error {
	now := nowUTC(s.opt.Now)
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		m, err := liveMember(ctx, tx, memberID)
		if err != nil {
			return err
		}
		token, err := activeCardToken(ctx, tx, m.ID, now)
		if err != nil {
			return err
		}
		return s.queueText(ctx, tx, m, texts.Code, texts.Data{CardURL: s.CardURL(token)}, now)
	})
}

// CardTokenTx returns the member's card token inside the caller's
// transaction, issuing one if the member has none, for code that writes
// messages carrying card links in its own transaction (campaign launch).
func CardTokenTx(ctx context.Context, tx *sql.Tx, memberID string, now time.Time) (string, error) {
	return activeCardToken(ctx, tx, memberID, now.UTC())
}

// RecordCardVisit notes that the member opened their card page, for their
// contact and reaction history, and writes card_viewed into the event stream
// in the same transaction; anon is the browser's anonymous id (perk_aid),
// which the visit ties to the member, or "".
func (s *Service) RecordCardVisit(ctx context.Context, memberID, anon string) error {
	now := nowUTC(s.opt.Now)
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO card_visits (member_id, visited_at) VALUES ($1, $2)`, memberID, now)
		if err != nil {
			return fmt.Errorf("record card visit: %w", err)
		}
		n, _ := res.LastInsertId() // 0 on PostgreSQL: the time keys the event
		return event.Record(ctx, tx, s.db.Dialect, event.Event{
			EventID: "perk:card_viewed:" + memberID + ":" + micros(now) + ":" + strconv.FormatInt(n, 10),
			Type:    event.CardViewed, Time: now, Channel: event.Card, MemberID: memberID, AnonymousID: anon,
		})
	})
}
