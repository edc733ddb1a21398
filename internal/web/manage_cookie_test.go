package web

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestSessionCookie_SecureOnlyOverTLS(t *testing.T) {
	plain := httptest.NewRequest("POST", "http://perk.test/manage/login", nil)
	secure := httptest.NewRequest("POST", "https://perk.test/manage/login", nil)
	secure.TLS = &tls.ConnectionState{}
	for _, tt := range []struct {
		r      *http.Request
		secure bool
	}{{plain, false}, {secure, true}} {
		c := sessionCookieFor(tt.r, "tok")
		if c.Name != "perk_session" || c.Value != "tok" || !c.HttpOnly || c.Secure != tt.secure || c.SameSite != http.SameSiteLaxMode ||
			c.Path != "/" || c.MaxAge != 12*3600 {
			t.Errorf("TLS %v: %s", tt.secure, c)
		}
	}
	if c := sessionCookieFor(secure, ""); c.MaxAge >= 0 || !c.Secure || c.Path != "/" {
		t.Errorf("deleting cookie: %s", c)
	}
}
