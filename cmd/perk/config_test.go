package main

import (
	"testing"
	"time"
)

func TestRedactURL_HidesPasswordsAndSecrets(t *testing.T) {
	tests := []struct{ in, want string }{
		{"sim", "sim"},
		{"smpp://perk:hunter2@smsc:2775?source=PERK", "smpp://perk:xxxxx@smsc:2775?source=PERK"},
		{"kannel://perk:pw@host:13013?secret=s3cr3t&from=PERK", "kannel://perk:xxxxx@host:13013?from=PERK&secret=xxxxx"},
		{"postgres://u:pw@db/perk", "postgres://u:xxxxx@db/perk"},
	}
	for _, tt := range tests {
		if got := redactURL(tt.in); got != tt.want {
			t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDaysFlag_TakesWholeDaysOrADuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"400d", 400 * 24 * time.Hour, true},
		{"0", 0, true},
		{"36h", 36 * time.Hour, true},
		{"1.5d", 0, false},
		{"-3d", 0, false},
		{"d", 0, false},
	} {
		var d days
		err := d.Set(tc.in)
		if (err == nil) != tc.ok || (tc.ok && time.Duration(d) != tc.want) {
			t.Errorf("Set(%q) = %v, %v; want %v, ok %v", tc.in, time.Duration(d), err, tc.want, tc.ok)
		}
	}
}
