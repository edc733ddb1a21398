package report

import "testing"

func TestScrub_HidesPhonesAndLinkTokens(t *testing.T) {
	tests := []struct{ in, want string }{
		{"call +447700900123 now", "call +44 77** ***123 now"},
		{"my number is 07700 900123", "my number is 077** ***123"},
		{"Your card: https://perk.test/c/w37k3tfambr3x Reply STOP", "Your card: https://perk.test/c/… Reply STOP"},
		{"confirm https://perk.test/join/confirm/abcDEF_12-x", "confirm https://perk.test/join/confirm/…"},
		{"Your member code is 97792444.", "Your member code is 97792444."},
		{"from 2026-12-01 09:00 to 2026-12-08", "from 2026-12-01 09:00 to 2026-12-08"},
		{"ref 447700900123", "ref +44 77** ***123"},
		{"intl 0044 7700 900123", "intl +44 77** ***123"},
	}
	for _, tt := range tests {
		if got := scrub(tt.in); got != tt.want {
			t.Errorf("scrub(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
