package auth

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Operators' passwords are hashed with argon2id at OWASP's minimum
// (19 MiB, 2 passes, 1 lane) and stored as a PHC string:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>
//
// The parameters travel with each hash, so raising them later still verifies
// the old hashes; a login with a hash weaker than the current parameters
// stores a new one (needsRehash).

// argonParams are argon2id's costs.
type argonParams struct {
	memory  uint32 // KiB
	time    uint32 // passes
	threads uint8  // lanes
	keyLen  uint32 // bytes of output
}

// currentParams are the parameters of new hashes.
var currentParams = argonParams{memory: 19 * 1024, time: 2, threads: 1, keyLen: 32}

const saltLen = 16

var b64 = base64.RawStdEncoding

// errBadHash means a stored hash is not one this code can read.
var errBadHash = errors.New("auth: unreadable password hash")

// hashPassword returns the PHC string of a fresh argon2id hash.
func hashPassword(password string, p argonParams) string {
	salt := make([]byte, saltLen)
	rand.Read(salt)
	key := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, p.keyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.memory, p.time, p.threads,
		b64.EncodeToString(salt), b64.EncodeToString(key))
}

// parseHash reads a PHC argon2id string, refusing parameters outside sane
// bounds (a tampered row must not make a login allocate gigabytes).
func parseHash(phc string) (p argonParams, salt, key []byte, err error) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, errBadHash
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, errBadHash
	}
	var seen int
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return p, nil, nil, errBadHash
		}
		n, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return p, nil, nil, errBadHash
		}
		switch k {
		case "m":
			p.memory, seen = uint32(n), seen|1
		case "t":
			p.time, seen = uint32(n), seen|2
		case "p":
			if n > 255 {
				return p, nil, nil, errBadHash
			}
			p.threads, seen = uint8(n), seen|4
		default:
			return p, nil, nil, errBadHash
		}
	}
	if seen != 7 || p.time < 1 || p.time > 64 || p.threads < 1 || p.memory < 8*uint32(p.threads) || p.memory > 1<<20 {
		return p, nil, nil, errBadHash
	}
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, errBadHash
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 || len(key) > 128 {
		return p, nil, nil, errBadHash
	}
	p.keyLen = uint32(len(key))
	return p, salt, key, nil
}

// verifyPassword reports whether password matches the stored PHC string,
// comparing in constant time.
func verifyPassword(phc, password string) (bool, error) {
	p, salt, key, err := parseHash(phc)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(password), salt, p.time, p.memory, p.threads, p.keyLen)
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// needsRehash reports whether a readable hash is weaker than the current
// parameters.
func needsRehash(phc string) bool {
	p, _, _, err := parseHash(phc)
	return err != nil || p.memory < currentParams.memory || p.time < currentParams.time ||
		p.threads != currentParams.threads || p.keyLen < currentParams.keyLen
}

// hasher bounds how many argon2id hashes run at once: each holds 19 MiB, so
// a burst of logins from many addresses (which the per-address limit does
// not stop) queues instead of exhausting memory.
type hasher struct {
	slots chan struct{}
	// dummy is a hash of a random password, verified when a login names no
	// operator so that the answer takes as long as for a real one.
	dummy func() string
}

func newHasher(n int) *hasher {
	return &hasher{slots: make(chan struct{}, max(n, 1)), dummy: sync.OnceValue(func() string {
		return hashPassword(rand.Text(), currentParams)
	})}
}

// acquire takes a hashing slot; release it with the returned func.
func (h *hasher) acquire(ctx context.Context) (func(), error) {
	select {
	case h.slots <- struct{}{}:
		return func() { <-h.slots }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
