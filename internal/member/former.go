package member

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// Former phones. Erasure clears a member's number, but a referral programme
// must still refuse to reward a phone that was a member before (or anyone
// could erase themselves and be "referred" again). So erasure keeps, for
// that purpose only, a keyed hash of the number: HMAC-SHA256 under a key
// drawn once per database. The hash names no one to whoever reads the table
// without the key, and it cannot be turned back into the number without
// trying every number under that key; it is pseudonymous data, documented
// as such in docs/referrals.md.

// formerPhoneKey returns the database's key, drawing it the first time.
func formerPhoneKey(ctx context.Context, tx *sql.Tx) ([]byte, error) {
	var k string
	err := tx.QueryRowContext(ctx, `SELECT key FROM former_phone_key WHERE id = 1`).Scan(&k)
	if errors.Is(err, sql.ErrNoRows) {
		var b [32]byte
		if _, err := rand.Read(b[:]); err != nil {
			return nil, err
		}
		k = hex.EncodeToString(b[:])
		if _, err := tx.ExecContext(ctx, `INSERT INTO former_phone_key (id, key) VALUES (1, $1)`, k); err != nil {
			return nil, fmt.Errorf("former phone key: %w", err)
		}
		return b[:], nil
	}
	if err != nil {
		return nil, fmt.Errorf("former phone key: %w", err)
	}
	return hex.DecodeString(k)
}

func formerPhoneHash(key []byte, e164 string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(e164))
	return hex.EncodeToString(m.Sum(nil))
}

// recordFormerPhone keeps the keyed hash of an erased member's number.
func recordFormerPhone(ctx context.Context, tx *sql.Tx, e164 string, now time.Time) error {
	if e164 == "" {
		return nil
	}
	key, err := formerPhoneKey(ctx, tx)
	if err != nil {
		return err
	}
	h := formerPhoneHash(key, e164)
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM former_phones WHERE phone_hash = $1`, h).Scan(&n); err != nil {
		return fmt.Errorf("former phone: %w", err)
	}
	if n > 0 {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO former_phones (phone_hash, left_at) VALUES ($1, $2)`, h, now); err != nil {
		return fmt.Errorf("former phone: %w", err)
	}
	return nil
}

// WasErasedTx reports whether the E.164 number belonged to a member who was
// erased since (the keyed hash erasure keeps), inside tx.
func WasErasedTx(ctx context.Context, tx *sql.Tx, e164 string) (bool, error) {
	if e164 == "" {
		return false, nil
	}
	key, err := formerPhoneKey(ctx, tx)
	if err != nil {
		return false, err
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM former_phones WHERE phone_hash = $1`,
		formerPhoneHash(key, e164)).Scan(&n); err != nil {
		return false, fmt.Errorf("former phone: %w", err)
	}
	return n > 0, nil
}
