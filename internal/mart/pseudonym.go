package mart

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// MinKeyBytes is the shortest pseudonym key accepted: 128 bits.
const MinKeyBytes = 16

// ErrNoKey is returned when an export has no pseudonym key.
var ErrNoKey = errors.New("mart: a pseudonym key is required (--pseudonym-key or PERK_MART_KEY: at least 32 hex digits, e.g. from `openssl rand -hex 32`)")

// ParseKey reads a pseudonym key written in hex.
func ParseKey(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, ErrNoKey
	}
	k, err := hex.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("mart: the pseudonym key must be hex: %w", err)
	}
	if len(k) < MinKeyBytes {
		return nil, fmt.Errorf("mart: the pseudonym key has %d bytes; it needs at least %d (%d hex digits)", len(k), MinKeyBytes, 2*MinKeyBytes)
	}
	return k, nil
}

// pseudonymiser turns member ids into member keys: the first 16 bytes of
// HMAC-SHA256(key, member id) in hex. The same key gives the same member key
// in every export, so incremental exports join; without the key a member key
// cannot be traced back to a member or computed from an id.
type pseudonymiser struct {
	mac hash.Hash
	sum []byte
	out [32]byte
}

func newPseudonymiser(key []byte) *pseudonymiser {
	return &pseudonymiser{mac: hmac.New(sha256.New, key), sum: make([]byte, 0, sha256.Size)}
}

// Key returns the member key of memberID, "" for "".
func (p *pseudonymiser) Key(memberID string) string {
	if memberID == "" {
		return ""
	}
	p.mac.Reset()
	p.mac.Write([]byte(memberID))
	p.sum = p.mac.Sum(p.sum[:0])
	hex.Encode(p.out[:], p.sum[:16])
	return string(p.out[:])
}

// MemberKey returns the member key of memberID under key, for tests and
// tools that need to find a member's rows.
func MemberKey(key []byte, memberID string) string { return newPseudonymiser(key).Key(memberID) }

// keyID names a key in the manifest without revealing it, so a loader can
// tell that two exports used different keys (their member keys do not join).
func keyID(key []byte) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("perk data mart key id"))
	return hex.EncodeToString(m.Sum(nil)[:4])
}
