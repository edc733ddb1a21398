package main

import (
	"context"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/sms/kannel/kanneltest"
	"github.com/perk-platform/perk/internal/store"
)

// TestServe_KannelEndToEnd runs perk serve against real Kannel boxes with a
// fake SMSC (see kanneltest): a shopper texts JOIN, gets the welcome with the
// code, texts STOP, and a marketing message afterwards is held, not sent.
// Kannel calls Perk's own server back at /kannel/mo and /kannel/dlr.
func TestServe_KannelEndToEnd(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	perkURL := fmt.Sprintf("http://127.0.0.1:%d", port)
	const secret, user, pass = "e2e-Secret_9", "perk", "p@ss w%rd"
	k := kanneltest.Start(t, kanneltest.Options{PerkURL: perkURL, Secret: secret, User: user, Pass: pass})

	send, err := url.Parse(k.SendURL)
	if err != nil {
		t.Fatal(err)
	}
	gw := url.URL{Scheme: "kannel", User: url.UserPassword(user, pass), Host: send.Host, Path: send.Path,
		RawQuery: url.Values{"secret": {secret}, "from": {"PERK"}, "public": {perkURL}}.Encode()}
	dir := t.TempDir()
	env := []string{"PERK_DATA_DIR=" + dir, "PERK_PUBLIC_URL=" + perkURL, "PERK_QUIET_HOURS=00:00-24:00",
		"PERK_SMS=" + gw.String()}
	_, stop := serve(t, env, "--addr", fmt.Sprintf("127.0.0.1:%d", port))
	db, err := store.Open(context.Background(), filepath.Join(dir, "perk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	waitRow := func(what, query string, args ...any) {
		t.Helper()
		k.WaitFor(t, what, 20*time.Second, func() bool {
			var n int
			db.R.QueryRow(query, args...).Scan(&n)
			return n > 0
		})
	}

	k.SendMO(t, "+447700900123 PERK text JOIN Ann")
	waitRow("Ann to be enrolled by SMS", `SELECT COUNT(*) FROM members WHERE phone = '+447700900123' AND channel = 'sms' AND first_name = 'Ann'`)
	waitRow("the welcome to be delivered", `SELECT COUNT(*) FROM sms_outbox WHERE to_phone = '+447700900123' AND purpose = 'welcome'
		AND status = 'sent' AND delivery_state = 'delivered' AND body LIKE '%member code is%'`)
	var code string
	if err := db.R.QueryRow(`SELECT code FROM members WHERE phone = '+447700900123'`).Scan(&code); err != nil || code == "" {
		t.Fatalf("member code: %q %v", code, err)
	}
	mt := regexp.MustCompile(`<PERK \+447700900123 text [^>]*member code is ` + regexp.QuoteMeta(code))
	k.WaitFor(t, "fakesmsc to print the welcome with the member code", 20*time.Second, func() bool {
		return mt.MatchString(k.MTs())
	})

	k.SendMO(t, "+447700900123 PERK text STOP")
	waitRow("the STOP confirmation", `SELECT COUNT(*) FROM sms_outbox WHERE to_phone = '+447700900123' AND purpose = 'stop_confirm' AND status = 'sent'`)
	if _, stderr, err := perk(t, env, "sms", "send", "--to", "07700900123", "--marketing", "Spring sale"); err != nil {
		t.Fatalf("sms send: %v %s", err, stderr)
	}
	waitRow("the marketing message to be held", `SELECT COUNT(*) FROM sms_outbox WHERE to_phone = '+447700900123' AND kind = 'marketing'
		AND status = 'held' AND held_reason = 'opted_out'`)
	stop()
}
