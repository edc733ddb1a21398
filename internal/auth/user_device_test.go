package auth

import (
	"strings"
	"testing"
	"time"
)

func TestDeviceToken_WhatMakesABrowserAKnownDevice(t *testing.T) {
	const ann, bob = "opr_ann", "opr_bob"
	annHash := hashPassword("correct horse battery", currentParams)
	newHash := hashPassword("a new passphrase now", currentParams)
	bobHash := hashPassword("bob's own passphrase", currentParams)
	tok := newDeviceToken(t0, ann, annHash)
	nonce, rest, _ := strings.Cut(tok, ".")
	issued, mac, _ := strings.Cut(rest, ".")
	otherMAC := map[bool]string{true: "B", false: "A"}[mac[0] == 'A'] + mac[1:]
	others := newDeviceToken(t0, bob, bobHash) + "~" + newDeviceToken(t0, bob, bobHash)
	tests := []struct {
		name    string
		at      time.Time
		hash    string // ann's stored hash then
		devices string
		known   bool
	}{
		{"the token of a sign-in", t0, annHash, tok, true},
		{"a day before it expires", t0.Add(DeviceTTL - 24*time.Hour), annHash, tok, true},
		{"when it expires", t0.Add(DeviceTTL), annHash, tok, false},
		{"after a new password", t0, newHash, tok, false},
		{"among other operators' tokens", t0, annHash, others + "~" + tok, true},
		{"another operator's token", t0, annHash, others, false},
		{"its MAC changed", t0, annHash, nonce + "." + issued + "." + otherMAC, false},
		{"its time moved on", t0, annHash, nonce + "." + issued + "1." + mac, false},
		{"another nonce", t0, annHash, otherFirst(nonce) + "." + issued + "." + mac, false},
		{"sixth in the cookie (five are read)", t0, annHash, others + "~" + others + "~x.1.y~" + tok, false},
		{"nothing", t0, annHash, "", false},
		{"garbage", t0, annHash, "~~.~" + strings.Repeat("a", 5000), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := knownDevice(tt.at, ann, tt.hash, tt.devices)
			if (got != "") != tt.known || tt.known && got != nonce {
				t.Fatalf("knownDevice = %q, want known %v", got, tt.known)
			}
		})
	}
}

// A browser that several operators use keeps a token for each, the newest
// first, at most maxDevices; an operator's old token gives way to the new.
func TestDeviceCookie_OneTokenPerOperatorNewestFirst(t *testing.T) {
	hashes := map[string]string{}
	devices := ""
	signIn := func(at time.Time, op string) {
		if hashes[op] == "" {
			hashes[op] = hashPassword("password of "+op, argonParams{memory: 64, time: 1, threads: 1, keyLen: 16})
		}
		devices = withDevice(at, op, hashes[op], devices, knownDevice(at, op, hashes[op], devices))
	}
	owners := func(at time.Time) []string {
		var out []string
		for _, tok := range strings.Split(devices, "~") {
			for op, h := range hashes {
				if knownDevice(at, op, h, tok) != "" {
					out = append(out, op)
				}
			}
		}
		return out
	}
	signIn(t0, "ann")
	signIn(t0, "bob")
	signIn(t0, "ann")
	if got := strings.Join(owners(t0), " "); got != "ann bob" {
		t.Fatalf("after ann, bob, ann: %s", got)
	}
	for _, op := range []string{"c", "d", "e", "f"} {
		signIn(t0.Add(time.Hour), op)
	}
	if got := strings.Join(owners(t0.Add(time.Hour)), " "); got != "f e d c ann" {
		t.Fatalf("after four more: %s", got)
	}
	signIn(t0.Add(DeviceTTL), "g") // ann's token has expired by now
	if got := strings.Join(owners(t0.Add(DeviceTTL)), " "); got != "g f e d c" {
		t.Fatalf("after expiry: %s", got)
	}
}

// otherFirst changes the first character of a random token, whatever it is
// (a fixed "a" was the same one time in 32).
func otherFirst(tok string) string {
	if tok[0] == 'a' {
		return "b" + tok[1:]
	}
	return "a" + tok[1:]
}
