package auth_test

import (
	"context"
	"errors"
	"github.com/perk-platform/perk/internal/testenv"
	"strings"
	"testing"
	"time"

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
		token, got, err := s.Login(ctx, "ANN@example.com ", pw, client)
		if err != nil || got.ID != op.ID || got.LastLoginAt == nil {
			t.Fatalf("Login = %+v, %v", got, err)
		}
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
		token, _, err = s.Login(ctx, "ann@example.com", pw, client)
		if err != nil {
			t.Fatal(err)
		}
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
		token, _, _ = s.Login(ctx, "ann@example.com", pw, client)
		if err := s.SetPassword(ctx, "ann@example.com", "a much better passphrase"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, token); !errors.Is(err, auth.ErrUnauthorized) {
			t.Fatalf("session after a password change: %v", err)
		}
		if _, _, err := s.Login(ctx, "ann@example.com", pw, client); !errors.Is(err, auth.ErrUnauthorized) {
			t.Fatalf("old password still works: %v", err)
		}
		if token, _, err = s.Login(ctx, "ann@example.com", "a much better passphrase", client); err != nil {
			t.Fatal(err)
		}

		// Disabling ends sessions and refuses the right password.
		if err := s.DisableOperator(ctx, "Ann@example.com"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Session(ctx, token); !errors.Is(err, auth.ErrUnauthorized) {
			t.Fatalf("session of a disabled operator: %v", err)
		}
		if _, _, err := s.Login(ctx, "ann@example.com", "a much better passphrase", client); !errors.Is(err, auth.ErrLoginFailed) {
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

func TestLogin_FailuresAreAlikeAndThrottled(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clk := newClock()
		s := auth.NewService(db, clk.Now)
		ctx := context.Background()
		if _, err := s.CreateOperator(ctx, "ann@example.com", "Ann", auth.RoleReporting, pw); err != nil {
			t.Fatal(err)
		}
		// Unknown email and wrong password give the same error.
		_, _, errUnknown := s.Login(ctx, "nobody@example.com", pw, client)
		_, _, errWrong := s.Login(ctx, "ann@example.com", "wrong password!", client)
		if !errors.Is(errUnknown, auth.ErrLoginFailed) || errUnknown.Error() != errWrong.Error() {
			t.Fatalf("unknown email: %v; wrong password: %v", errUnknown, errWrong)
		}
		for range 4 {
			s.Login(ctx, "ann@example.com", "wrong password!", auth.Client{Addr: "198.51.100.7"})
		}
		// Five failures for ann: even the right password waits now, from
		// any address, and the answer says for how long.
		_, _, err := s.Login(ctx, "ann@example.com", pw, auth.Client{Addr: "203.0.113.1"})
		var te *auth.ThrottledError
		if !errors.As(err, &te) || !errors.Is(err, auth.ErrTooManyAttempts) || problem.KindOf(err) != problem.RateLimited {
			t.Fatalf("sixth attempt = %v, want throttled", err)
		}
		if te.RetryAfter != 15*time.Minute || te.Minutes() != 15 {
			t.Fatalf("retry after %v", te.RetryAfter)
		}
		// Another operator is not affected from another address.
		if _, err := s.CreateOperator(ctx, "bob@example.com", "Bob", auth.RoleAdmin, pw); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Login(ctx, "bob@example.com", pw, auth.Client{Addr: "203.0.113.1"}); err != nil {
			t.Fatalf("bob: %v", err)
		}
		clk.Advance(15 * time.Minute)
		if _, _, err := s.Login(ctx, "ann@example.com", pw, client); err != nil {
			t.Fatalf("after the window: %v", err)
		}
	})
}

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
	if _, _, err := s.Login(ctx, "ann@example.com", pw, client); err != nil {
		t.Fatalf("login with the old hash: %v", err)
	}
	var stored string
	db.R.QueryRow(`SELECT password_hash FROM operators WHERE id = $1`, op.ID).Scan(&stored)
	if !strings.HasPrefix(stored, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Fatalf("hash not upgraded: %s", stored)
	}
	if _, _, err := s.Login(ctx, "ann@example.com", pw, client); err != nil {
		t.Fatalf("login with the upgraded hash: %v", err)
	}
}
