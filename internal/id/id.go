// Package id makes the opaque identifiers Perk hands out: a short type prefix
// and 26 base32 characters of a millisecond timestamp followed by 80 random
// bits, so that ids sort roughly by creation time (which keeps cursor
// pagination and B-tree inserts cheap) and cannot be guessed.
package id

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"strings"
	"time"
)

var enc = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// New returns prefix + "_" + a fresh id, e.g. "mem_01jd3...".
func New(prefix string, now time.Time) string {
	var b [16]byte
	binary.BigEndian.PutUint64(b[:8], uint64(now.UnixMilli())<<16)
	rand.Read(b[6:]) // never fails since Go 1.24; the first 6 bytes keep the time
	return prefix + "_" + enc.EncodeToString(b[:])
}

// Token returns n random bytes as lowercase base32, for bearer tokens in URLs.
func Token(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return strings.ToLower(enc.EncodeToString(b))
}

// HasPrefix reports whether s looks like an id made with prefix.
func HasPrefix(s, prefix string) bool {
	return len(s) == len(prefix)+1+26 && strings.HasPrefix(s, prefix+"_")
}
