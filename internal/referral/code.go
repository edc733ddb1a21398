package referral

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
)

// Codes are CodeLen characters of codeAlphabet, at least one of them a
// digit: short enough to text (JOIN K7QM2P), unlike any name (so JOIN Ann
// still gives a name), and without the look-alikes 0/O, 1/I/L. They are
// read in any case: a friend who types k7qm2p means K7QM2P.
const (
	CodeLen      = 6
	codeAlphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
)

// NormalizeCode reads a code as typed: spaces and hyphens dropped, upper
// case. It returns ErrCodeMalformed (with what is wrong) when the result
// cannot be a code.
func NormalizeCode(typed string) (string, error) {
	c := strings.ToUpper(strings.NewReplacer(" ", "", "-", "", "\t", "").Replace(strings.TrimSpace(typed)))
	if len([]rune(c)) != CodeLen {
		return "", problem.InvalidField("referral_code", ErrCodeMalformed.Code, nil,
			"a referral code is %d letters and digits; %q has %d", CodeLen, typed, len([]rune(c)))
	}
	digit := false
	for _, r := range c {
		if !strings.ContainsRune(codeAlphabet, r) {
			return "", problem.InvalidField("referral_code", ErrCodeMalformed.Code, nil,
				"%q is not a referral code: %q is not used in codes", typed, r)
		}
		digit = digit || r >= '0' && r <= '9'
	}
	if !digit {
		return "", problem.InvalidField("referral_code", ErrCodeMalformed.Code, nil, "%q is not a referral code: codes have a digit", typed)
	}
	return c, nil
}

// LooksLikeCode reports whether a word texted after JOIN is meant as a
// referral code rather than a name: it has a digit, which names do not.
func LooksLikeCode(word string) bool {
	return strings.ContainsAny(word, "0123456789")
}

func newCode() (string, error) {
	var b [CodeLen]byte
	for {
		if _, err := rand.Read(b[:]); err != nil {
			return "", err
		}
		out := make([]byte, CodeLen)
		digit := false
		for i, x := range b {
			// 256 = 8*31 + 8: the first 248 values map evenly.
			if x >= 248 {
				out = nil
				break
			}
			out[i] = codeAlphabet[int(x)%len(codeAlphabet)]
			digit = digit || out[i] <= '9'
		}
		if out != nil && digit {
			return string(out), nil
		}
	}
}

// Code returns the member's referral code, drawing one the first time.
func (s *Service) Code(ctx context.Context, memberID string) (string, error) {
	var code string
	err := s.db.R.QueryRowContext(ctx, `SELECT code FROM referral_codes WHERE member_id = $1`, memberID).Scan(&code)
	if err == nil {
		return code, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("referral code: %w", err)
	}
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		code, err = CodeTx(ctx, tx, memberID, s.now())
		return err
	})
	return code, err
}

// CodeTx is Code inside tx.
func CodeTx(ctx context.Context, tx *sql.Tx, memberID string, now time.Time) (string, error) {
	var code, status string
	err := tx.QueryRowContext(ctx, `SELECT COALESCE(r.code, ''), m.status FROM members m
		LEFT JOIN referral_codes r ON r.member_id = m.id WHERE m.id = $1`, memberID).Scan(&code, &status)
	if errors.Is(err, sql.ErrNoRows) {
		return "", problem.New(problem.NotFound, "member_not_found", "member not found")
	}
	if err != nil {
		return "", fmt.Errorf("referral code: %w", err)
	}
	if code != "" {
		return code, nil
	}
	if status == "erased" {
		return "", problem.New(problem.Conflict, "member_erased", "member has been erased")
	}
	for try := 0; ; try++ {
		if code, err = newCode(); err != nil {
			return "", err
		}
		if _, err := tx.ExecContext(ctx, `SAVEPOINT referral_code`); err != nil {
			return "", err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO referral_codes (member_id, code, created_at) VALUES ($1, $2, $3)`, memberID, code, now)
		if err == nil {
			_, err = tx.ExecContext(ctx, `RELEASE SAVEPOINT referral_code`)
			return code, err
		}
		if _, rb := tx.ExecContext(ctx, `ROLLBACK TO SAVEPOINT referral_code`); rb != nil {
			return "", errors.Join(err, rb)
		}
		if c, _ := store.UniqueViolation(err); c != "referral_codes_code_key" || try > 8 {
			return "", fmt.Errorf("referral code: %w", err)
		}
	}
}

// Owner returns the member whose code this is (typed in any case). A code
// that cannot be one is ErrCodeMalformed with the reason; one nobody has is
// ErrCodeUnknown.
func (s *Service) Owner(ctx context.Context, typed string) (string, error) {
	return owner(ctx, s.db.R, typed)
}

type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func owner(ctx context.Context, q queryer, typed string) (string, error) {
	code, err := NormalizeCode(typed)
	if err != nil {
		return "", err
	}
	var mid string
	err = q.QueryRowContext(ctx, `SELECT r.member_id FROM referral_codes r JOIN members m ON m.id = r.member_id
		WHERE r.code = $1 AND m.status <> 'erased'`, code).Scan(&mid)
	if errors.Is(err, sql.ErrNoRows) {
		return "", problem.InvalidField("referral_code", ErrCodeUnknown.Code, nil, "no member has the referral code %s", code)
	}
	if err != nil {
		return "", fmt.Errorf("referral code owner: %w", err)
	}
	return mid, nil
}
