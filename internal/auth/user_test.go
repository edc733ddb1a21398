package auth_test

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/testenv"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// clock is a settable time for sessions' expiry.
type clock = testenv.Clock

func newClock() *clock { return testenv.NewClock(time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)) }

const pw = "correct horse battery"

var client = auth.Client{Addr: "192.0.2.10", UserAgent: "Mozilla/5.0 (test)"}

func TestOperators_CreateRefusesBadInput(t *testing.T) {
	s := auth.NewService(storetest.SQLite(t), nil)
	ctx := context.Background()
	tests := []struct {
		name, email, role, password string
		field, code                 string
	}{
		{"short password", "ann@example.com", "manager", "elevenchars", "password", "password_too_short"},
		{"password is the email", "ann.long@example.com", "manager", "Ann.Long@example.com", "password", "password_is_email"},
		{"pos is for tills", "ann@example.com", "pos", pw, "role", "role_invalid"},
		{"unknown role", "ann@example.com", "root", pw, "role", "role_invalid"},
		{"not an email", "ann", "manager", pw, "email", "email_invalid"},
		{"two @", "ann@x@example.com", "manager", pw, "email", "email_invalid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.CreateOperator(ctx, tt.email, "Ann", auth.Role(tt.role), tt.password)
			var pe *problem.Error
			if !errors.As(err, &pe) || pe.Field != tt.field || pe.Code != tt.code || pe.Kind != problem.Invalid {
				t.Fatalf("CreateOperator = %v, want %s on %s", err, tt.code, tt.field)
			}
		})
	}
	// Twelve characters, counted as characters, not bytes, are enough.
	if _, err := s.CreateOperator(ctx, "zoe@example.com", "", auth.RoleReporting, "ééééééééééé"); err == nil {
		t.Fatal("11 two-byte characters were accepted")
	}
	if _, err := s.CreateOperator(ctx, "zoe@example.com", "", auth.RoleReporting, "éééééééééééé"); err != nil {
		t.Fatal(err)
	}
}

func TestOperators_EmailIsUniqueWhateverItsCase(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := auth.NewService(db, nil)
		ctx := context.Background()
		op, err := s.CreateOperator(ctx, " Ann@Example.COM ", " Ann ", "Manager", pw)
		if err != nil {
			t.Fatal(err)
		}
		if op.Email != "ann@example.com" || op.Name != "Ann" || op.Role != auth.RoleManager || !strings.HasPrefix(op.ID, "opr_") {
			t.Fatalf("operator = %+v", op)
		}
		_, err = s.CreateOperator(ctx, "ANN@example.com", "Other", auth.RoleAdmin, pw)
		var pe *problem.Error
		if !errors.As(err, &pe) || pe.Kind != problem.Conflict || pe.Field != "email" {
			t.Fatalf("second ann = %v, want a conflict on email", err)
		}
		var stored string
		db.R.QueryRow(`SELECT password_hash FROM operators WHERE id = $1`, op.ID).Scan(&stored)
		if !strings.HasPrefix(stored, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(stored, pw) {
			t.Fatalf("stored hash = %q", stored)
		}
		// The database refuses pos even if the service did not.
		if _, err := db.W.Exec(`INSERT INTO operators (id, email, password_hash, role, created_at) VALUES ('opr_x', 'x@y.z', 'h', 'pos', $1)`,
			time.Now().UTC()); err == nil {
			t.Fatal("the database took an operator with role pos")
		}
	})
}

func TestLogin_SessionLifeCycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clk := newClock()
		s := auth.NewService(db, clk.Now)
		ctx := context.Background()
		op, err := s.CreateOperator(ctx, "ann@example.com", "Ann", auth.RoleManager, pw)
		if err != nil {
			t.Fatal(err)
		}
		in, err := s.Login(ctx, "ANN@example.com ", pw, client)
		if err != nil || in.Operator.ID != op.ID || in.Operator.LastLoginAt == nil {
			t.Fatalf("Login = %+v, %v", in, err)
		}
		token := in.Token
		if len(token) < 50 {
			t.Fatalf("token %q is short of 256 bits", token)
		}

		// Only the token's hash is stored, in no column of the table.
		var rows, leaks int
		db.R.QueryRow(`SELECT COUNT(*) FROM operator_sessions`).Scan(&rows)
		db.R.QueryRow(`SELECT COUNT(*) FROM operator_sessions WHERE id LIKE $1 OR operator_id LIKE $1 OR user_agent LIKE $1`,
			"%"+token[:20]+"%").Scan(&leaks)
		if rows != 1 || leaks != 0 {
			t.Fatalf("%d sessions, %d hold the token", rows, leaks)
		}
		var ua string
		var expires time.Time
		db.R.QueryRow(`SELECT user_agent, expires_at FROM operator_sessions`).Scan(&ua, &expires)
		if ua != client.UserAgent || !expires.Equal(clk.Now().Add(12*time.Hour)) {
			t.Fatalf("session row: ua %q, expires %v", ua, expires)
		}

		who, err := s.Session(ctx, token)
		if err != nil || who.ID != op.ID || who.Role != auth.RoleManager || !who.Role.Allows(auth.CampaignsWrite) {
			t.Fatalf("Session = %+v, %v", who, err)
		}
		for _, bad := range []string{"", token + "x", strings.ToUpper(token), strings.Repeat("a", 200)} {
			if _, err := s.Session(ctx, bad); !errors.Is(err, auth.ErrUnauthorized) {
				t.Errorf("Session(%q) = %v", bad, err)
			}
		}

		// Expiry: 12 hours after sign-in, however active.
		clk.Advance(12*time.Hour - time.Second)
		if _, err := s.Session(ctx, token); err != nil {
			t.Fatalf("a session is over before 12 hours: %v", err)
		}
		clk.Advance(time.Second)
		if _, err := s.Session(ctx, token); !errors.Is(err, auth.ErrUnauthorized) {
			t.Fatalf("a 12-hour-old session still works: %v", err)
		}

		// Logout ends the session at once; a second logout is harmless.
		in, err = s.Login(ctx, "ann@example.com", pw, client)
		if err != nil {
			t.Fatal(err)
		}
		token = in.Token
		if err := s.Logout(ctx, token); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, token); !errors.Is(err, auth.ErrUnauthorized) {
			t.Fatalf("session after logout: %v", err)
		}
		if err := s.Logout(ctx, token); err != nil {
			t.Fatal(err)
		}

		// A new password ends the sessions opened with the old one.
		in, _ = s.Login(ctx, "ann@example.com", pw, client)
		token = in.Token
		if err := s.SetPassword(ctx, "ann@example.com", "a much better passphrase"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, token); !errors.Is(err, auth.ErrUnauthorized) {
			t.Fatalf("session after a password change: %v", err)
		}
		if _, err := s.Login(ctx, "ann@example.com", pw, client); !errors.Is(err, auth.ErrUnauthorized) {
			t.Fatalf("old password still works: %v", err)
		}
		if in, err = s.Login(ctx, "ann@example.com", "a much better passphrase", client); err != nil {
			t.Fatal(err)
		}
		token = in.Token

		// Disabling ends sessions and refuses the right password.
		if err := s.DisableOperator(ctx, "Ann@example.com"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, token); !errors.Is(err, auth.ErrUnauthorized) {
			t.Fatalf("session of a disabled operator: %v", err)
		}
		if _, err := s.Login(ctx, "ann@example.com", "a much better passphrase", client); !errors.Is(err, auth.ErrLoginFailed) {
			t.Fatalf("disabled operator logs in: %v", err)
		}
		if err := s.DisableOperator(ctx, "nobody@example.com"); !errors.Is(err, auth.ErrOperatorNotFound) {
			t.Fatalf("disable unknown = %v", err)
		}
		if err := s.SetPassword(ctx, "nobody@example.com", pw); !errors.Is(err, auth.ErrOperatorNotFound) {
			t.Fatalf("passwd unknown = %v", err)
		}
		ops, err := s.ListOperators(ctx)
		if err != nil || len(ops) != 1 || ops[0].DisabledAt == nil || ops[0].LastLoginAt == nil {
			t.Fatalf("ListOperators = %+v, %v", ops, err)
		}
	})
}

func TestLogin_FailuresAreAlike(t *testing.T) {
	s := auth.NewService(storetest.SQLite(t), newClock().Now)
	ctx := context.Background()
	if _, err := s.CreateOperator(ctx, "ann@example.com", "Ann", auth.RoleReporting, pw); err != nil {
		t.Fatal(err)
	}
	// Unknown email and wrong password give the same error.
	_, errUnknown := s.Login(ctx, "nobody@example.com", pw, client)
	_, errWrong := s.Login(ctx, "ann@example.com", "wrong password!", client)
	if !errors.Is(errUnknown, auth.ErrLoginFailed) || errUnknown.Error() != errWrong.Error() {
		t.Fatalf("unknown email: %v; wrong password: %v", errUnknown, errWrong)
	}
}

// Sign-in throttling as a specification (docs/operations.md, "Operator
// sign-in throttling"). Each scenario starts afresh with ann, an operator;
// each step is a sign-in from an address, on a browser (named; "" is a
// browser never seen before), with the right password or a wrong one, after
// the clock moved on by wait. The browser keeps the device cookie it is
// given. want is "ok", "wrong" (ErrLoginFailed) or a Retry-After.
func TestLogin_ThrottleSlowsGuessingButNoStrangerLocksTheOperatorOut(t *testing.T) {
	type step struct {
		say     string
		wait    time.Duration
		email   string // ann's if ""
		addr    string
		browser string
		right   bool
		want    any // "ok", "wrong" or the time.Duration to wait
	}
	const (
		a, b   = "203.0.113.66", "198.51.100.20" // the stranger's address, the operator's
		office = "192.0.2.10"
	)
	guesses := func(n int, say, addr string) []step { // n wrong guesses from addr
		out := make([]step, n)
		for i := range out {
			out[i] = step{say: say, addr: addr, want: "wrong"}
		}
		return out
	}
	fromMany := func(n int, say string) []step { // one wrong guess each from n addresses
		out := make([]step, n)
		for i := range out {
			out[i] = step{say: say, addr: "203.0.113." + strconv.Itoa(100+i), want: "wrong"}
		}
		return out
	}
	scenarios := []struct {
		name  string
		steps []step
	}{
		{"a stranger failing many times from one address does not stop the operator at another", concat(
			guesses(5, "the stranger at A guesses", a),
			[]step{
				{say: "A has used up its 5 guesses for ann in 15 minutes", addr: a, want: 15 * time.Minute},
				{say: "and keeps being refused, without the password being checked", wait: time.Minute, addr: a, want: 14 * time.Minute},
				{say: "even the right password waits at A: the guesses counted there", addr: a, right: true, want: 14 * time.Minute},
				{say: "the operator at B, on a browser never seen before, signs in", addr: b, browser: "laptop", right: true, want: "ok"},
				{say: "A may guess again once the window has passed", wait: 14 * time.Minute, addr: a, want: "wrong"},
			})},
		{"one address trying many emails is stopped after 20 failures", concat(
			[]step{{say: "the operator signs in at the office, which makes that browser a known device", addr: office, browser: "desk", right: true, want: "ok"}},
			[]step{
				{say: "someone at the office tries bob", email: "bob@example.com", addr: office, want: "wrong"},
				{say: "and carol", email: "carol@example.com", addr: office, want: "wrong"},
			},
			guesses(5, "and ann", office),
			[]step{{say: "the office tries more emails", email: "dave@example.com", addr: office, want: "wrong"}},
			func() []step {
				var out []step
				for i := range 12 {
					out = append(out, step{say: "the office tries more emails", email: "user" + strconv.Itoa(i) + "@example.com", addr: office, want: "wrong"})
				}
				return out
			}(),
			[]step{
				{say: "the office has failed 20 times: a new email waits too", email: "erin@example.com", addr: office, want: 15 * time.Minute},
				{say: "the operator's known device at the office still signs in", addr: office, browser: "desk", right: true, want: "ok"},
				{say: "B is not limited by the office", email: "erin@example.com", addr: b, want: "wrong"},
			})},
		{"guessing one email from many addresses is bounded: 10 failures from unknown devices in 15 minutes", concat(
			[]step{{say: "the operator signs in at home once", addr: b, browser: "home", right: true, want: "ok"}},
			fromMany(10, "strangers at ten addresses guess one password each"),
			[]step{
				{say: "an eleventh address waits", addr: "203.0.113.200", want: 15 * time.Minute},
				{say: "so does the operator on a browser never seen before: the price of the bound", addr: office, browser: "new", right: true, want: 15 * time.Minute},
				{say: "but the operator's known device signs in, from any address", addr: office, browser: "home", right: true, want: "ok"},
				{say: "and again the next day", wait: 24 * time.Hour, addr: b, browser: "home", right: true, want: "ok"},
			})},
		{"a known device has its own limit and the strangers' failures do not count against it", concat(
			[]step{{say: "the operator signs in at home", addr: b, browser: "home", right: true, want: "ok"}},
			fromMany(10, "strangers guess from ten addresses"),
			[]step{
				{say: "the known device mistypes", addr: b, browser: "home", want: "wrong"},
				{say: "and again", addr: b, browser: "home", want: "wrong"},
				{say: "and again", addr: b, browser: "home", want: "wrong"},
				{say: "and again", addr: b, browser: "home", want: "wrong"},
				{say: "and again", addr: b, browser: "home", want: "wrong"},
				{say: "five failures: the device waits too", addr: b, browser: "home", right: true, want: 15 * time.Minute},
				{say: "until its first failure leaves the window", wait: 15 * time.Minute, addr: b, browser: "home", right: true, want: "ok"},
			})},
		{"addresses in one IPv6 /64 count as one", concat(
			[]step{
				{say: "the stranger guesses from 2001:db8::1", addr: "2001:db8::1", want: "wrong"},
				{say: "from 2001:db8::2", addr: "2001:db8::2", want: "wrong"},
				{say: "from 2001:db8::3", addr: "2001:db8::3", want: "wrong"},
				{say: "from 2001:db8::4", addr: "2001:db8::4", want: "wrong"},
				{say: "from 2001:db8::5", addr: "2001:db8::5", want: "wrong"},
				{say: "the /64 has used up its guesses for ann", addr: "2001:db8::ffff:6", want: 15 * time.Minute},
				{say: "the next /64 is another address", addr: "2001:db8:0:1::1", want: "wrong"},
			})},
		{"a new password forgets the operator's devices", concat(
			[]step{{say: "the operator signs in at home", addr: b, browser: "home", right: true, want: "ok"}},
			[]step{{say: "(the password is changed)", email: "passwd"}},
			fromMany(10, "strangers guess from ten addresses"),
			[]step{{say: "the old device token no longer makes home a known device", addr: b, browser: "home", right: true, want: 15 * time.Minute}},
		)},
	}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			clk := newClock()
			s := auth.NewService(storetest.SQLite(t), clk.Now)
			ctx := context.Background()
			if _, err := s.CreateOperator(ctx, "ann@example.com", "Ann", auth.RoleManager, pw); err != nil {
				t.Fatal(err)
			}
			password := pw
			devices := map[string]string{}
			for i, st := range sc.steps {
				clk.Advance(st.wait)
				if st.email == "passwd" {
					password = "a new passphrase for ann"
					if err := s.SetPassword(ctx, "ann@example.com", password); err != nil {
						t.Fatal(err)
					}
					continue
				}
				email, try := cmp.Or(st.email, "ann@example.com"), "not the password"
				if st.right {
					try = password
				}
				in, err := s.Login(ctx, email, try, auth.Client{Addr: st.addr, Devices: devices[st.browser]})
				var got any = "ok"
				var te *auth.ThrottledError
				switch {
				case errors.As(err, &te):
					got = te.RetryAfter
					if !errors.Is(err, auth.ErrTooManyAttempts) || problem.KindOf(err) != problem.RateLimited {
						t.Fatalf("throttled as %v", err)
					}
				case errors.Is(err, auth.ErrLoginFailed):
					got = "wrong"
				case err != nil:
					t.Fatal(err)
				default:
					if st.browser != "" {
						devices[st.browser] = in.Devices
					}
				}
				if got != st.want {
					t.Fatalf("step %d, %s: got %v, want %v", i+1, st.say, got, st.want)
				}
			}
		})
	}
}

func concat[T any](s ...[]T) []T { return slices.Concat(s...) }

func TestLogin_UpgradesWeakHashes(t *testing.T) {
	db := storetest.SQLite(t)
	s := auth.NewService(db, nil)
	ctx := context.Background()
	op, err := s.CreateOperator(ctx, "ann@example.com", "Ann", auth.RoleManager, pw)
	if err != nil {
		t.Fatal(err)
	}
	// A hash of pw made with m=8192,t=1,p=1 (as an older release might have).
	const old = "$argon2id$v=19$m=8192,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$HhdGxmsoo8pSkWu74EOdjWuyMCjKM2aof0XQCAMO4jU"
	db.W.Exec(`UPDATE operators SET password_hash = $2 WHERE id = $1`, op.ID, old)
	in, err := s.Login(ctx, "ann@example.com", pw, client)
	if err != nil {
		t.Fatalf("login with the old hash: %v", err)
	}
	var stored string
	db.R.QueryRow(`SELECT password_hash FROM operators WHERE id = $1`, op.ID).Scan(&stored)
	if !strings.HasPrefix(stored, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash not upgraded: %s", stored)
	}
	// The device token given then was made for the upgraded hash: the
	// browser is a known device (it signs in while unknown ones wait).
	for i := range 10 {
		s.Login(ctx, "ann@example.com", "wrong password!", auth.Client{Addr: "203.0.113." + strconv.Itoa(i)})
	}
	if _, err := s.Login(ctx, "ann@example.com", pw, auth.Client{Addr: "198.51.100.1"}); !errors.Is(err, auth.ErrTooManyAttempts) {
		t.Fatalf("an unknown device after ten failures: %v", err)
	}
	if _, err := s.Login(ctx, "ann@example.com", pw, auth.Client{Addr: "198.51.100.1", Devices: in.Devices}); err != nil {
		t.Fatalf("login with the upgraded hash from the known device: %v", err)
	}
}
