package main

import "testing"

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
