package referral_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/referral"
)

// Codes are read as a friend types them; what cannot be a code says why.
func TestNormalizeCode(t *testing.T) {
	for _, tc := range []struct{ typed, want, why string }{
		{"K7QM2P", "K7QM2P", ""},
		{"k7qm2p", "K7QM2P", ""},
		{" k7q-m2p ", "K7QM2P", ""},
		{"K7Q M2P", "K7QM2P", ""},
		{"K7QM2", "", "has 5"},
		{"K7QM2PP", "", "has 7"},
		{"K0QM2P", "", `'0' is not used`},
		{"K7QI2P", "", `'I' is not used`},
		{"ANNXEE", "", "codes have a digit"},
		{"", "", "has 0"},
		{"K7QM2É", "", "is not used"},
	} {
		got, err := referral.NormalizeCode(tc.typed)
		if tc.why == "" {
			if err != nil || got != tc.want {
				t.Errorf("%q: %q, %v; want %q", tc.typed, got, err, tc.want)
			}
			continue
		}
		var p *problem.Error
		if !errors.As(err, &p) || !errors.Is(err, referral.ErrCodeMalformed) || p.Field != "referral_code" || !strings.Contains(p.Message, tc.why) {
			t.Errorf("%q: %v, want malformed: %s", tc.typed, err, tc.why)
		}
	}
}

// Settings files: defaults for what is left out, field-precise mistakes,
// unknown fields refused.
func TestParseSettings(t *testing.T) {
	st, err := referral.ParseSettings([]byte("enabled: true\nreferrer: {kind: points, points: 500}\n"))
	if err != nil || st.Qualify != referral.QualifyPurchase || st.WithinDays != 30 || st.ReturnsDays != 30 || st.Referrer.Points != 500 {
		t.Fatalf("defaults: %+v, %v", st, err)
	}
	for _, tc := range []struct{ file, field string }{
		{"qualify: soon\n", "qualify"},
		{"enabled: true\n", "referrer"},
		{"min_purchase: -1\n", "min_purchase"},
		{"within_days: 0\n", "within_days"},
		{"returns_days: -1\n", "returns_days"},
		{"cap_per_year: -2\n", "cap_per_year"},
		{"budget: -5\n", "budget"},
		{"friend: {kind: points, points: 0}\n", "friend.points"},
		{"friend: {kind: points, points: 5, value: 3}\n", "friend.kind"},
		{"referrer: {kind: offer}\n", "referrer.campaign"},
		{"referrer: {kind: content, value: 3}\n", "referrer.pool"},
		{"referrer: {kind: cash}\n", "referrer.kind"},
		{"referrer: {kind: content, pool: films, value: -1}\n", "referrer.value"},
		{"refferer: {kind: points, points: 5}\n", ""},
	} {
		_, err := referral.ParseSettings([]byte(tc.file))
		var p *problem.Error
		if !errors.As(err, &p) || p.Kind != problem.Invalid || p.Field != tc.field {
			t.Errorf("%q: %v, want a mistake in %q", tc.file, err, tc.field)
		}
	}
}
