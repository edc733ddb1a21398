package event

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/perk-platform/perk/internal/problem"
)

// IdentifyTokenTTL is how long an identify token is good for: long enough
// for the page a tracked link opens to load /perk.js and send it, short
// enough that a token copied from a URL or a log is soon worthless.
const IdentifyTokenTTL = time.Hour

// A public (ingest) key sits in web pages: anyone may copy it. So with it an
// event may name a member only with an identify token Perk issued for that
// member (a tracked link's redirect carries one, the card page embeds one),
// or anyone could tie their browser to a stranger by sending the stranger's
// code, and read their offers through the site. A token is
// "v1.<member id>.<expiry, Unix seconds>.<HMAC-SHA256, base64url>", signed
// with a secret kept in the database (signing_keys), the same for every
// server on it.

// Errors of a token that does not let a batch act as a member: the batch
// is refused whole (403), since it is not a data mistake but a claim to be
// someone, and keeping its other events would keep the rest of a forgery.
var (
	ErrTokenRequired = problem.New(problem.Forbidden, "identify_token_required",
		"a public key may name a member only with an identify_token Perk issued for that member")
	ErrTokenInvalid = problem.New(problem.Forbidden, "identify_token_invalid",
		"the identify_token was not issued by this Perk")
	ErrTokenExpired = problem.New(problem.Forbidden, "identify_token_expired",
		"the identify_token has expired; reload the page Perk opened to get a new one")
	ErrTokenOtherMember = problem.New(problem.Forbidden, "identify_token_other_member",
		"the identify_token was issued for another member")
)

const identifyKeyName = "identify"

// signer holds the identify key once read (or made).
type signer struct {
	mu  sync.Mutex // guards key
	key []byte
}

// identifyKey returns the signing key, making it on first use; concurrent
// servers agree on the first one written.
func (s *Service) identifyKey(ctx context.Context) ([]byte, error) {
	s.sign.mu.Lock()
	defer s.sign.mu.Unlock()
	if s.sign.key != nil {
		return s.sign.key, nil
	}
	var fresh [32]byte
	rand.Read(fresh[:])
	var enc string
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO signing_keys (name, secret, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (name) DO NOTHING`, identifyKeyName, base64.StdEncoding.EncodeToString(fresh[:]), s.Now().UTC()); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT secret FROM signing_keys WHERE name = $1`, identifyKeyName).Scan(&enc)
	})
	if err != nil {
		return nil, fmt.Errorf("event: identify key: %w", err)
	}
	key, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("event: identify key: %w", err)
	}
	s.sign.key = key
	return key, nil
}

func tokenMAC(key []byte, member string, expiry int64) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("perk-identify.v1." + member + "." + strconv.FormatInt(expiry, 10)))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// IdentifyToken issues a token that lets a browser holding it identify as
// member (a member id) through a public key, for IdentifyTokenTTL.
func (s *Service) IdentifyToken(ctx context.Context, member string) (string, error) {
	t, _, err := s.IssueIdentifyToken(ctx, member)
	return t, err
}

// IssueIdentifyToken is IdentifyToken with the moment the token stops
// working, for a retailer's backend that hands it to its own page or app.
func (s *Service) IssueIdentifyToken(ctx context.Context, member string) (string, time.Time, error) {
	key, err := s.identifyKey(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	exp := s.Now().Add(IdentifyTokenTTL).Unix()
	return "v1." + member + "." + strconv.FormatInt(exp, 10) + "." + tokenMAC(key, member, exp), time.Unix(exp, 0).UTC(), nil
}

// verifyToken returns the member id a token was issued for, or one of the
// ErrToken errors.
func (s *Service) verifyToken(ctx context.Context, token string) (string, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 4 || parts[0] != "v1" {
		return "", ErrTokenInvalid
	}
	exp, err := strconv.ParseInt(parts[2], 10, 64)
	if err != nil {
		return "", ErrTokenInvalid
	}
	key, err := s.identifyKey(ctx)
	if err != nil {
		return "", err
	}
	if !hmac.Equal([]byte(parts[3]), []byte(tokenMAC(key, parts[1], exp))) {
		return "", ErrTokenInvalid
	}
	if s.Now().Unix() > exp {
		return "", ErrTokenExpired
	}
	return parts[1], nil
}

// checkTokens verifies the identify tokens of a batch: each must be Perk's,
// unexpired, and for the member its event names (an event that names none
// gets the token's). With public set (an ingest key) an event naming a
// member must carry one. members maps member keys to ids (resolveMembers).
func (s *Service) checkTokens(ctx context.Context, in []Incoming, public bool) error {
	for i := range in {
		x := &in[i]
		if x.IdentifyToken == "" {
			if public && x.Member != "" {
				return tokenError(ErrTokenRequired, x.Index)
			}
			continue
		}
		member, err := s.verifyToken(ctx, x.IdentifyToken)
		if err != nil {
			return tokenError(err, x.Index)
		}
		if x.Member == "" {
			x.Member = member
			continue
		}
		ids, err := s.resolveMembers(ctx, in[i:i+1])
		if err != nil {
			return err
		}
		if ids[x.Member] != member {
			return tokenError(ErrTokenOtherMember, x.Index)
		}
	}
	return nil
}

// tokenError is err for the event at index, so the sender sees which.
func tokenError(err error, index int) error {
	var p *problem.Error
	if !errors.As(err, &p) {
		return err
	}
	return &problem.Error{Kind: p.Kind, Code: p.Code, Message: p.Message,
		Field: "events[" + strconv.Itoa(index) + "].identify_token"}
}
