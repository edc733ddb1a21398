package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/id"
)

// A known device is a browser an operator has signed in from before: it
// holds a device token, given at each sign-in, which lets it sign in while
// the operator's email is throttled for unknown devices (user_throttle.go;
// OWASP's "Slow Down Online Guessing Attacks with Device Cookies"). A token
// only skips that throttle: it still needs the right password, and a known
// device has a limit of its own.
//
// A token is "<nonce>.<issued, Unix seconds>.<MAC>", the MAC an HMAC-SHA256
// of the operator's id, the nonce and the time keyed by the operator's stored
// password hash. So nothing new is stored, every instance checks the tokens
// of every other, and a new password forgets all the operator's devices. A
// browser shared by operators keeps a token for each (the newest
// maxDevices), separated by "~", in one cookie.

// DeviceTTL is how long a device stays known after the sign-in that gave it
// its token; each sign-in gives a new one.
const DeviceTTL = 90 * 24 * time.Hour

const (
	maxDevices     = 5   // tokens kept in one browser
	maxDeviceToken = 128 // bytes of one token, a bound on what is parsed
)

var b64url = base64.RawURLEncoding

func deviceMAC(phc, operatorID, nonce, issued string) string {
	m := hmac.New(sha256.New, []byte(phc))
	m.Write([]byte("perk operator device\x00" + operatorID + "\x00" + nonce + "\x00" + issued))
	return b64url.EncodeToString(m.Sum(nil))
}

// newDeviceToken returns a fresh token for the operator.
func newDeviceToken(now time.Time, operatorID, phc string) string {
	nonce, issued := id.Token(16), strconv.FormatInt(now.Unix(), 10)
	return nonce + "." + issued + "." + deviceMAC(phc, operatorID, nonce, issued)
}

// deviceTokens returns the tokens among the first maxDevices of a device
// cookie's value that look like tokens and have not expired, newest first
// as stored.
func deviceTokens(now time.Time, devices string) []string {
	pieces := strings.SplitN(devices, "~", maxDevices+1)
	var out []string
	for _, tok := range pieces[:min(len(pieces), maxDevices)] {
		parts := strings.Split(tok, ".")
		if len(tok) > maxDeviceToken || len(parts) != 3 || strings.IndexFunc(tok, notTokenChar) >= 0 {
			continue
		}
		issued, err := strconv.ParseInt(parts[1], 10, 64)
		if err != nil || now.Sub(time.Unix(issued, 0)) >= DeviceTTL {
			continue
		}
		out = append(out, tok)
	}
	return out
}

func notTokenChar(r rune) bool {
	return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '.' || r == '-' || r == '_')
}

// knownDevice returns the nonce of the token in devices that the operator
// was given, or "" when there is none.
func knownDevice(now time.Time, operatorID, phc, devices string) string {
	for _, tok := range deviceTokens(now, devices) {
		parts := strings.Split(tok, ".")
		if hmac.Equal([]byte(parts[2]), []byte(deviceMAC(phc, operatorID, parts[0], parts[1]))) {
			return parts[0]
		}
	}
	return ""
}

// withDevice is the device cookie's new value after the operator signed in:
// a fresh token for them first, then the other tokens the browser held,
// less the one that was theirs (nonce used, if any).
func withDevice(now time.Time, operatorID, phc, devices, used string) string {
	out := []string{newDeviceToken(now, operatorID, phc)}
	for _, tok := range deviceTokens(now, devices) {
		if len(out) == maxDevices {
			break
		}
		if used == "" || !strings.HasPrefix(tok, used+".") {
			out = append(out, tok)
		}
	}
	return strings.Join(out, "~")
}
