package main

import (
	"bytes"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// perkIn runs the binary with stdin and returns stdout, stderr and the error.
func perkIn(t *testing.T, env []string, stdin string, args ...string) (string, string, error) {
	t.Helper()
	cmd := exec.Command(perkBin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	return stdout.String(), stderr.String(), err
}

// TestCLI_UsersCreateThenSignInOverHTTP: an operator made with
// `perk users create` signs in to the running server's /manage pages;
// `perk users disable` ends that session.
func TestCLI_UsersCreateThenSignInOverHTTP(t *testing.T) {
	for name, dsn := range databases(t) {
		t.Run(name, func(t *testing.T) {
			env := []string{"PERK_DB=" + dsn(t), "PERK_DATA_DIR=" + t.TempDir(), "PERK_LOG_LEVEL=warn"}
			const password = "tills and tulips 2026"
			refused := []struct {
				why   string
				stdin string
				args  []string
				want  string
			}{
				{"pos is a till's role", password, []string{"--email", "ann@shop.example", "--role", "pos", "--password-stdin"}, "not for a person"},
				{"short password", "too short\n", []string{"--email", "ann@shop.example", "--role", "manager", "--password-stdin"}, "at least 12 characters"},
				{"no terminal", "", []string{"--email", "ann@shop.example", "--role", "manager"}, "--password-stdin"},
			}
			for _, r := range refused {
				_, stderr, err := perkIn(t, env, r.stdin, append([]string{"users", "create"}, r.args...)...)
				if err == nil || !strings.Contains(stderr, r.want) {
					t.Errorf("%s: err %v, stderr %q", r.why, err, stderr)
				}
			}
			_, stderr, err := perkIn(t, env, password+"\n", "users", "create", "--email", "Ann@Shop.example", "--role", "manager",
				"--name", "Ann Lee", "--password-stdin")
			if err != nil || !strings.Contains(stderr, "created manager operator ann@shop.example") {
				t.Fatalf("users create: %v\n%s", err, stderr)
			}
			if _, stderr, err := perkIn(t, env, password+"\n", "users", "create", "--email", "ann@shop.example", "--role", "admin",
				"--password-stdin"); err == nil || !strings.Contains(stderr, "already exists") {
				t.Fatalf("a second ann: %v\n%s", err, stderr)
			}
			out, _, err := perkIn(t, env, "", "users", "list")
			if err != nil || !strings.Contains(out, "ann@shop.example") || !strings.Contains(out, "manager") || !strings.Contains(out, "Ann Lee") {
				t.Fatalf("users list: %v\n%s", err, out)
			}

			url0, stop := serve(t, env, "--addr", "127.0.0.1:0")
			client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			login := func(pw string) *http.Response {
				t.Helper()
				res, err := client.PostForm(url0+"/manage/login", url.Values{"email": {"ann@shop.example"}, "password": {pw}})
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				return res
			}
			if res := login("tills and tulips 2025"); res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("wrong password = %d", res.StatusCode)
			}
			res := login(password)
			var session *http.Cookie
			for _, c := range res.Cookies() {
				if c.Name == "perk_session" {
					session = c
				}
			}
			if res.StatusCode != http.StatusSeeOther || session == nil || !session.HttpOnly {
				t.Fatalf("sign in = %d, cookies %v", res.StatusCode, res.Cookies())
			}
			page := func() int {
				t.Helper()
				req, _ := http.NewRequest("GET", url0+"/manage/campaigns", nil)
				req.AddCookie(session)
				res, err := client.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				res.Body.Close()
				return res.StatusCode
			}
			if got := page(); got != http.StatusOK {
				t.Fatalf("campaigns page signed in = %d", got)
			}

			if _, stderr, err := perkIn(t, env, "", "users", "disable", "ANN@shop.example"); err != nil {
				t.Fatalf("users disable: %v\n%s", err, stderr)
			}
			if got := page(); got != http.StatusUnauthorized {
				t.Fatalf("campaigns page after disable = %d", got)
			}
			if res := login(password); res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("disabled operator signs in: %d", res.StatusCode)
			}
			if _, stderr, err := perkIn(t, env, "", "users", "disable", "nobody@shop.example"); err == nil {
				t.Fatalf("disabling nobody succeeded: %s", stderr)
			}
			if _, stderr, err := perkIn(t, env, "a brand new passphrase\n", "users", "passwd", "ann@shop.example", "--password-stdin"); err != nil {
				t.Fatalf("users passwd: %v\n%s", err, stderr)
			}
			if logs := stop(); strings.Contains(logs, password) || strings.Contains(logs, session.Value) {
				t.Fatalf("the server log holds a password or a session token:\n%s", logs)
			}
		})
	}
}
