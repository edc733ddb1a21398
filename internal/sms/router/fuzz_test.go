package router_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/sms/router"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// FuzzHandle sends any message from any number through the router with a
// real database: it never panics, never fails on input (only a database
// failure may return an error), and stores every message.
func FuzzHandle(f *testing.F) {
	for _, s := range [][2]string{{"+447400123456", "JOIN Ann"}, {"07400 123456", "stop!!"}, {"", ""},
		{"+447400123456", "JOIN \x00\xff"}, {"not a number", "HELP"}, {"+447400123457", "join " + string(make([]byte, 300))}} {
		f.Add(s[0], s[1])
	}
	// PostgreSQL when configured: it is the stricter about text (no NUL,
	// valid UTF-8 only).
	db := storetest.SQLite(f)
	if os.Getenv(storetest.PostgresEnv) != "" {
		db = storetest.Postgres(f)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ms := member.NewService(db, member.Options{Region: "GB", Log: log})
	r, err := router.New(db, ms, router.Options{Programme: "Fuzz", Log: log,
		Now: func() time.Time { return time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, from, body string) {
		if len(body) > 2000 {
			return // gateways hand the router text of SMS size
		}
		var before int
		db.R.QueryRow(`SELECT COUNT(*) FROM sms_inbox`).Scan(&before)
		if _, err := r.Handle(context.Background(), sms.Inbound{From: from, To: "80800", Body: body}); err != nil {
			t.Fatalf("Handle(%q, %q): %v", from, body, err)
		}
		var after int
		db.R.QueryRow(`SELECT COUNT(*) FROM sms_inbox`).Scan(&after)
		if after != before+1 {
			t.Fatalf("Handle(%q, %q) stored %d messages, want 1", from, body, after-before)
		}
	})
}
