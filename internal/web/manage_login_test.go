package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
	"github.com/perk-platform/perk/internal/web"
)

const operatorPassword = "correct horse battery"

// newOperator creates an operator account with role and returns its email.
func (e *env) newOperator(role auth.Role) string {
	e.t.Helper()
	email := string(role) + "@shop.example"
	if _, err := auth.NewService(e.db, nil).CreateOperator(e.t.Context(), email, "Test "+string(role), role, operatorPassword); err != nil {
		e.t.Fatal(err)
	}
	return email
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see each answer.
func (e *env) browser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// signIn returns a browser signed in as a new operator of role.
func (e *env) signIn(role auth.Role) *http.Client {
	e.t.Helper()
	c := e.browser()
	res, _ := e.form(c, "/manage/login", url.Values{"email": {e.newOperator(role)}, "password": {operatorPassword}})
	if res.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("sign in as %s: %d", role, res.StatusCode)
	}
	return c
}

// form posts a form as a same-origin browser would and returns the answer
// and its body.
func (e *env) form(c *http.Client, path string, v url.Values, header ...string) (*http.Response, string) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.url+path, strings.NewReader(v.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return e.send(c, req)
}

func (e *env) get(c *http.Client, path string) (*http.Response, string) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.url+path, nil)
	return e.send(c, req)
}

func (e *env) send(c *http.Client, req *http.Request) (*http.Response, string) {
	e.t.Helper()
	res, err := c.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func cookieNamed(res *http.Response, name string) *http.Cookie {
	for _, c := range res.Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

func TestManageLogin_EmailPasswordSessionLogout(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		email := e.newOperator(auth.RoleManager)
		b := e.browser()

		res, body := e.get(b, "/manage/campaigns/new")
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `id="email"`) || !strings.Contains(body, `type="password"`) ||
			!strings.Contains(body, `name="next" value="/manage/campaigns/new"`) || strings.Contains(body, "API key") {
			t.Fatalf("signed out: %d\n%s", res.StatusCode, body)
		}

		// A wrong password: the form again, the email kept, no cookie.
		res, body = e.form(b, "/manage/login", url.Values{"email": {email}, "password": {"not the password"}, "next": {"/manage/campaigns/new"}})
		if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, `id="login-error"`) ||
			!strings.Contains(body, `value="`+email+`"`) || cookieNamed(res, "perk_session") != nil {
			t.Fatalf("wrong password: %d %v\n%s", res.StatusCode, res.Cookies(), body)
		}

		// The right one: a session cookie and back to the page asked for.
		res, _ = e.form(b, "/manage/login", url.Values{"email": {strings.ToUpper(email)}, "password": {operatorPassword}, "next": {"/manage/campaigns/new"}})
		c := cookieNamed(res, "perk_session")
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/manage/campaigns/new" || c == nil {
			t.Fatalf("sign in: %d %q %v", res.StatusCode, res.Header.Get("Location"), res.Cookies())
		}
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Path != "/" || c.MaxAge != 12*3600 || c.Secure {
			t.Fatalf("cookie %s: want HttpOnly, SameSite=Lax, Path=/, Max-Age=43200, not Secure over plain HTTP", res.Header.Get("Set-Cookie"))
		}
		var stored int
		db.R.QueryRow(`SELECT COUNT(*) FROM operator_sessions WHERE id = $1`, c.Value).Scan(&stored)
		if stored != 0 {
			t.Fatal("the cookie's token is stored as is")
		}
		if res, body := e.get(b, "/manage/campaigns/new"); res.StatusCode != http.StatusOK || !strings.Contains(body, `id="campaign-form"`) {
			t.Fatalf("signed in: %d\n%s", res.StatusCode, body)
		}

		// Sign-out is a same-origin POST.
		if res, _ := e.get(b, "/manage/logout"); res.StatusCode != http.StatusMethodNotAllowed {
			t.Fatalf("GET /manage/logout = %d", res.StatusCode)
		}
		res, _ = e.form(b, "/manage/logout", nil, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("cross-site sign-out = %d", res.StatusCode)
		}
		if res, _ := e.get(b, "/manage/campaigns"); res.StatusCode != http.StatusOK {
			t.Fatalf("a cross-site post signed the operator out: %d", res.StatusCode)
		}
		res, _ = e.form(b, "/manage/logout", nil)
		if gone := cookieNamed(res, "perk_session"); res.StatusCode != http.StatusSeeOther || gone == nil || gone.MaxAge >= 0 {
			t.Fatalf("sign out: %d %v", res.StatusCode, res.Cookies())
		}
		var revoked int
		db.R.QueryRow(`SELECT COUNT(*) FROM operator_sessions WHERE revoked_at IS NOT NULL`).Scan(&revoked)
		if revoked != 1 {
			t.Fatalf("%d sessions revoked, want 1", revoked)
		}
		// The old cookie, replayed, is worth nothing.
		req, _ := http.NewRequest("GET", e.url+"/manage/campaigns", nil)
		req.AddCookie(&http.Cookie{Name: "perk_session", Value: c.Value})
		if res, _ := e.send(e.browser(), req); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("revoked session = %d", res.StatusCode)
		}
	})
}

func TestManageLogin_APIKeysNoLongerSignIn(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	b := e.browser()
	req, _ := http.NewRequest("GET", e.url+"/manage/campaigns", nil)
	req.AddCookie(&http.Cookie{Name: "perk_key", Value: e.keys[auth.RoleAdmin]})
	req.AddCookie(&http.Cookie{Name: "perk_session", Value: e.keys[auth.RoleAdmin]})
	if res, _ := e.send(b, req); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("an API key in a cookie = %d", res.StatusCode)
	}
	res, _ := e.form(b, "/manage/login", url.Values{"email": {"admin"}, "password": {e.keys[auth.RoleAdmin]}, "key": {e.keys[auth.RoleAdmin]}})
	if res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("sign in with an API key = %d", res.StatusCode)
	}
}

// After signing in the browser goes on to the page it asked for, but only
// to a clean local path under /manage/: anything that a browser could read as
// another site, or that leaves /manage/ once cleaned, goes to /manage/.
func TestManageLogin_NextOnlyToCleanManagerPaths(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	email := e.newOperator(auth.RoleAdmin)
	tests := []struct {
		name, next, want string
	}{
		{"a manager page", "/manage/campaigns/new", "/manage/campaigns/new"},
		{"with its query", "/manage/campaigns?x=1", "/manage/campaigns?x=1"},
		{"the overview", "/manage/", "/manage/"},
		{"none", "", "/manage/"},
		{"dot-dot then a backslash", `/manage/../\evil.example`, "/manage/"},
		{"dot-dot out of the manager", "/manage/../sim", "/manage/"},
		{"a dot segment", "/manage/./campaigns", "/manage/"},
		{"an encoded dot-dot", "/manage/%2e%2e/x", "/manage/"},
		{"an encoded dot-dot and slash", "/manage/..%2f..%2fsim", "/manage/"},
		{"an encoded backslash", "/manage/%5c%5cevil.example", "/manage/"},
		{"an encoded double slash", "/manage/%2f%2fevil.example", "/manage/"},
		{"a double slash inside", "/manage//evil.example", "/manage/"},
		{"protocol-relative", "//evil.example", "/manage/"},
		{"protocol-relative under manage", "//evil.example/manage/", "/manage/"},
		{"backslash host", `/\evil.example`, "/manage/"},
		{"absolute URL", "https://evil.example", "/manage/"},
		{"absolute URL ending in /manage/", "https://evil.example/manage/", "/manage/"},
		{"javascript", "javascript:alert(1)", "/manage/"},
		{"a tab", "/manage/\tcampaigns", "/manage/"},
		{"a newline (header splitting)", "/manage/\r\nLocation: https://evil.example", "/manage/"},
		{"an encoded newline", "/manage/%0d%0aX:y", "/manage/"},
		{"an encoded NUL", "/manage/%00", "/manage/"}, // a raw one is refused (400) before any handler
		{"a fragment", "/manage/campaigns#x", "/manage/"},
		{"not the manager", "/sim", "/manage/"},
		{"manage without its slash", "/manage", "/manage/"},
		{"a lookalike prefix", "/managers/", "/manage/"},
	}
	// The sign-in form keeps the page asked for, with its query.
	if res, body := e.get(e.browser(), "/manage/campaigns?x=1"); res.StatusCode != http.StatusUnauthorized ||
		!strings.Contains(body, `name="next" value="/manage/campaigns?x=1"`) {
		t.Fatalf("signed out: %d\n%s", res.StatusCode, body)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := url.Values{"email": {email}, "password": {operatorPassword}, "next": {tt.next}}
			req, _ := http.NewRequest("POST", e.url+"/manage/login", strings.NewReader(v.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			// The raw answer: a client would refuse to parse some hostile
			// Locations, which is no comfort with other clients.
			res, err := http.DefaultTransport.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != tt.want {
				t.Errorf("next %q: %d to %q, want %q", tt.next, res.StatusCode, loc, tt.want)
			}
		})
	}
}

// A signed-in operator whose role lacks the permission is told so (403),
// not sent back to the sign-in form.
func TestManagePages_RolesWithoutPermissionAreDenied(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		reporting, manager := e.signIn(auth.RoleReporting), e.signIn(auth.RoleManager)
		if res, body := e.get(reporting, "/manage/campaigns"); res.StatusCode != http.StatusOK || !strings.Contains(body, "Campaigns") {
			t.Fatalf("reporting reads campaigns: %d", res.StatusCode)
		}
		res, body := e.get(reporting, "/manage/campaigns/new")
		if res.StatusCode != http.StatusForbidden || !strings.Contains(body, `id="forbidden"`) ||
			!strings.Contains(body, "reporting@shop.example") || !strings.Contains(body, "a reporting operator") || strings.Contains(body, `id="password"`) {
			t.Fatalf("reporting opens the new-campaign form: %d\n%s", res.StatusCode, body)
		}
		res, _ = e.form(reporting, "/manage/campaigns", url.Values{"name": {"Sneaky"}, "benefits[0].kind": {"percent_off"}, "benefits[0].percent": {"10"}, "audience.kind": {"all"}})
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("reporting creates a campaign: %d", res.StatusCode)
		}
		if res, _ := e.get(manager, "/manage/campaigns/new"); res.StatusCode != http.StatusOK {
			t.Fatalf("manager opens the form: %d", res.StatusCode)
		}
	})
}

// Over real HTTP every browser comes from 127.0.0.1: a browser that fails
// five times for an email waits, politely, as long as the server's clock
// says; a browser the operator signed in on before does not, though it
// shares the address.
func TestManageLogin_RateLimitedPolitely(t *testing.T) {
	clk := testenv.NewClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC))
	e := newEnv(t, storetest.SQLite(t), func(o *web.Options) { o.Now = clk.Now })
	email := e.newOperator(auth.RoleManager)
	own := e.browser()
	if res, _ := e.form(own, "/manage/login", url.Values{"email": {email}, "password": {operatorPassword}}); res.StatusCode != http.StatusSeeOther ||
		cookieNamed(res, "perk_device") == nil {
		t.Fatalf("the operator's first sign-in: %d %v", res.StatusCode, res.Cookies())
	}
	b := e.browser()
	for i := range 5 {
		if res, _ := e.form(b, "/manage/login", url.Values{"email": {email}, "password": {"guess number " + strconv.Itoa(i)}}); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("failure %d = %d", i+1, res.StatusCode)
		}
	}
	for _, st := range []struct {
		wait       time.Duration
		retryAfter string
		say        string
	}{
		{0, "900", "Please wait 15 minutes"},
		{time.Minute, "840", "Please wait 14 minutes"},
	} {
		clk.Advance(st.wait)
		res, body := e.form(b, "/manage/login", url.Values{"email": {email}, "password": {operatorPassword}})
		if res.StatusCode != http.StatusTooManyRequests || res.Header.Get("Retry-After") != st.retryAfter ||
			!strings.Contains(body, st.say) || cookieNamed(res, "perk_session") != nil {
			t.Fatalf("%v after the fifth failure: %d Retry-After %q, want 429 %s\n%s", st.wait, res.StatusCode, res.Header.Get("Retry-After"), st.retryAfter, body)
		}
	}
	// The operator's own browser is a known device: it signs in.
	if res, _ := e.form(own, "/manage/login", url.Values{"email": {email}, "password": {operatorPassword}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("the operator's browser: %d", res.StatusCode)
	}
	// Another operator can still sign in from here, since the address has
	// not used up its own, larger allowance.
	e.signIn(auth.RoleAdmin)
}
