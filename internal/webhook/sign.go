package webhook

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Signing follows the Standard Webhooks specification, version 1.0
// (github.com/standard-webhooks/standard-webhooks, spec/standard-webhooks.md):
// the signed content is "webhook-id.webhook-timestamp.body", the signature
// is HMAC-SHA256 keyed by the base64 part of a "whsec_" secret, and the
// webhook-signature header holds space-separated "v1,<base64>" entries, one
// per secret in force, so a receiver may check against either secret while
// one is being rotated.

// Header names of a signed delivery.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

const secretPrefix = "whsec_"

// secretBytes is the key length: the specification asks for 24 to 64.
const secretBytes = 32

// NewSecret returns a fresh random signing secret, "whsec_" and base64.
func NewSecret() string {
	var b [secretBytes]byte
	rand.Read(b[:])
	return secretPrefix + base64.StdEncoding.EncodeToString(b[:])
}

// ErrSecret is returned for a secret that is not "whsec_" and base64.
var ErrSecret = errors.New("webhook: secret must be whsec_ followed by base64")

// secretKey is the HMAC key of a "whsec_" secret.
func secretKey(secret string) ([]byte, error) {
	rest, ok := strings.CutPrefix(secret, secretPrefix)
	if !ok {
		return nil, ErrSecret
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(key) == 0 {
		return nil, ErrSecret
	}
	return key, nil
}

// Sign returns one signature entry, "v1,<base64>", for a message.
func Sign(secret, msgID string, ts time.Time, body []byte) (string, error) {
	key, err := secretKey(secret)
	if err != nil {
		return "", err
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, msgID, ts.Unix(), body)), nil
}

func mac(key []byte, msgID string, unix int64, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	// The signed content's head, "msgID.unix.", in one write.
	var head [64]byte
	b := append(head[:0], msgID...)
	b = append(b, '.')
	b = strconv.AppendInt(b, unix, 10)
	b = append(b, '.')
	h.Write(b)
	h.Write(body)
	var sum [sha256.Size]byte
	return h.Sum(sum[:0])
}

// SignatureHeader is the webhook-signature value for a message signed with
// every secret given (the current one first), space-separated.
func SignatureHeader(secrets []string, msgID string, ts time.Time, body []byte) (string, error) {
	keys := make([][]byte, 0, len(secrets))
	for _, s := range secrets {
		key, err := secretKey(s)
		if err != nil {
			return "", err
		}
		keys = append(keys, key)
	}
	return signatureHeader(keys, msgID, ts.Unix(), body), nil
}

// signatureHeader is SignatureHeader with the secrets' keys already
// decoded: the dispatcher decodes them once an endpoint is loaded, not at
// every attempt.
func signatureHeader(keys [][]byte, msgID string, unix int64, body []byte) string {
	n := base64.StdEncoding.EncodedLen(sha256.Size)
	b := make([]byte, 0, len(keys)*(len("v1,")+n+1))
	for i, key := range keys {
		if i > 0 {
			b = append(b, ' ')
		}
		b = append(b, "v1,"...)
		b = base64.StdEncoding.AppendEncode(b, mac(key, msgID, unix, body))
	}
	return string(b)
}

// Tolerance is how far a receiver lets a timestamp stray from its clock, as
// the specification's libraries do: five minutes.
const Tolerance = 5 * time.Minute

// Verification failures, for receivers written in Go.
var (
	ErrStale        = errors.New("webhook: timestamp too old or too new")
	ErrNoSignature  = errors.New("webhook: no matching signature")
	ErrMissingField = errors.New("webhook: missing header")
)

// Verify checks a delivery as a receiver would: the timestamp within
// Tolerance of now, and one v1 signature made with secret. It is Perk's own
// reference for docs/webhooks.md and tests; an independent implementation
// (npm standardwebhooks) checks the same deliveries in the tests.
func Verify(secret, msgID, timestamp, signatures string, body []byte, now time.Time) error {
	if msgID == "" || timestamp == "" || signatures == "" {
		return ErrMissingField
	}
	key, err := secretKey(secret)
	if err != nil {
		return err
	}
	unix, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: %q", ErrStale, timestamp)
	}
	if d := now.Sub(time.Unix(unix, 0)); d > Tolerance || d < -Tolerance {
		return ErrStale
	}
	want := mac(key, msgID, unix, body)
	for _, entry := range strings.Fields(signatures) {
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		if err == nil && subtle.ConstantTimeCompare(got, want) == 1 {
			return nil
		}
	}
	return ErrNoSignature
}
