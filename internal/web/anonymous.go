package web

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"regexp"
)

// anonCookie is the first-party cookie /perk.js keeps the browser's
// anonymous id in; Perk's own pages (card, tracked links, /join) read it,
// and set it when absent, so the browser they identify is the one /perk.js
// reports from on the same site.
const anonCookie = "perk_aid"

var anonID = regexp.MustCompile(`^[0-9a-f]{32}$`)

// anonymousID returns the browser's anonymous id, issuing one in a cookie
// when it has none (or a malformed one).
func anonymousID(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(anonCookie); err == nil && anonID.MatchString(c.Value) {
		return c.Value
	}
	var b [16]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	http.SetCookie(w, &http.Cookie{Name: anonCookie, Value: id, Path: "/", MaxAge: 400 * 24 * 3600,
		SameSite: http.SameSiteLaxMode, Secure: r.TLS != nil})
	return id
}
