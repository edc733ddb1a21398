package web

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
)

// The cookies Perk sets are Secure whenever browsers reach it over https:
// when Go ends TLS, and when a proxy in front does (the public URL is https
// while the request Perk sees is plain HTTP).
func TestCookies_SecureWhenTLSOrThePublicURLIsHTTPS(t *testing.T) {
	tests := []struct {
		name, publicURL string
		tls             bool
		secure          bool
	}{
		{"plain HTTP, http public URL (a development machine)", "http://127.0.0.1:8080", false, false},
		{"TLS ended by Perk", "http://127.0.0.1:8080", true, true},
		{"TLS ended by a proxy: the public URL is https", "https://perk.shop.example", false, true},
		{"the scheme in capitals", "HTTPS://perk.shop.example/", false, true},
		{"https and TLS", "https://perk.shop.example", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &Server{members: member.NewService(nil, member.Options{PublicURL: tt.publicURL})}
			r := httptest.NewRequest("POST", "http://perk.test/manage/login", nil)
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			c := s.sessionCookieOf(r, "tok")
			if c.Name != "perk_session" || c.Value != "tok" || !c.HttpOnly || c.Secure != tt.secure || c.SameSite != http.SameSiteLaxMode ||
				c.Path != "/" || c.MaxAge != 12*3600 {
				t.Errorf("session cookie: %s", c)
			}
			if c := s.sessionCookieOf(r, ""); c.MaxAge >= 0 || c.Secure != tt.secure || c.Path != "/" {
				t.Errorf("deleting cookie: %s", c)
			}
			// The device cookie goes to the sign-in form only, never cross-site.
			if c := s.deviceCookieOf(r, "a.1.b"); c.Name != "perk_device" || c.Value != "a.1.b" || !c.HttpOnly || c.Secure != tt.secure ||
				c.SameSite != http.SameSiteStrictMode || c.Path != "/manage/login" || c.MaxAge != 90*24*3600 {
				t.Errorf("device cookie: %s", c)
			}
		})
	}
}

// A stranger guessing an operator's password from one address is slowed
// (429 with Retry-After) but cannot stop the operator signing in from
// another; strangers guessing from many addresses make browsers the
// operator never used wait, but not the operator's own (the device cookie).
func TestManageLogin_StrangerCannotLockTheOperatorOut(t *testing.T) {
	db := storetest.SQLite(t)
	clk := testenv.NewClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	keys := auth.NewService(db, clk.Now)
	members := member.NewService(db, member.Options{PublicURL: "https://perk.shop.example"})
	s := New(t.Context(), db, members, nil, keys, Options{Log: slog.New(slog.DiscardHandler)})
	const email, password = "ann@shop.example", "correct horse battery"
	if _, err := keys.CreateOperator(context.Background(), email, "Ann", auth.RoleManager, password); err != nil {
		t.Fatal(err)
	}
	signIn := func(addr, pw string, cookies ...*http.Cookie) *http.Response {
		form := url.Values{"email": {email}, "password": {pw}, "next": {"/manage/campaigns"}}
		r := httptest.NewRequest("POST", "/manage/login", strings.NewReader(form.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.RemoteAddr = addr + ":40000"
		for _, c := range cookies {
			r.AddCookie(c)
		}
		w := httptest.NewRecorder()
		s.manageLogin(w, r)
		return w.Result()
	}
	cookie := func(res *http.Response, name string) *http.Cookie {
		for _, c := range res.Cookies() {
			if c.Name == name {
				return c
			}
		}
		return nil
	}
	const a, b, c = "203.0.113.66", "198.51.100.20", "192.0.2.30"
	var device *http.Cookie
	steps := []struct {
		say         string
		wait        time.Duration
		addr        string
		right       bool
		device      bool // send the device cookie the operator was given
		status      int
		retryAfter  string
		signedIn    bool
		keepsDevice bool
		body        string
	}{
		{say: "the stranger at A guesses", addr: a, status: 401},
		{say: "again", addr: a, status: 401},
		{say: "again", addr: a, status: 401},
		{say: "again", addr: a, status: 401},
		{say: "a fifth time", addr: a, status: 401},
		{say: "A waits 15 minutes", addr: a, status: 429, retryAfter: "900", body: "Please wait 15 minutes"},
		{say: "a minute later, 14", wait: time.Minute, addr: a, right: true, status: 429, retryAfter: "840", body: "Please wait 14 minutes"},
		{say: "the operator at B signs in, on a browser never used before", addr: b, right: true, status: 303, signedIn: true, keepsDevice: true},
		{say: "strangers guess from other addresses", addr: "203.0.113.1", status: 401},
		{say: "and another", addr: "203.0.113.2", status: 401},
		{say: "and another", addr: "203.0.113.3", status: 401},
		{say: "and another", addr: "203.0.113.4", status: 401},
		{say: "and another: ten failures for ann from unknown browsers", addr: "203.0.113.5", status: 401},
		{say: "an unknown browser at C waits, even with the right password, until A's first guess leaves the window", addr: c, right: true,
			status: 429, retryAfter: "840"},
		{say: "the operator's browser signs in at C", addr: c, right: true, device: true, status: 303, signedIn: true, keepsDevice: true},
	}
	for i, st := range steps {
		clk.Advance(st.wait)
		pw := "not the password"
		if st.right {
			pw = password
		}
		var cookies []*http.Cookie
		if st.device {
			cookies = append(cookies, device)
		}
		res := signIn(st.addr, pw, cookies...)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != st.status || res.Header.Get("Retry-After") != st.retryAfter || !strings.Contains(string(body), st.body) {
			t.Fatalf("step %d, %s: %d Retry-After %q\n%s", i+1, st.say, res.StatusCode, res.Header.Get("Retry-After"), body)
		}
		session, dev := cookie(res, "perk_session"), cookie(res, "perk_device")
		if (session != nil) != st.signedIn || (dev != nil) != st.keepsDevice {
			t.Fatalf("step %d, %s: cookies %v", i+1, st.say, res.Cookies())
		}
		if st.signedIn && (!session.Secure || !dev.Secure) {
			t.Fatalf("step %d: cookies not Secure behind an https public URL: %v", i+1, res.Cookies())
		}
		if dev != nil {
			device = dev
		}
	}
}
