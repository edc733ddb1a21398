package keyword

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestParse_JoinKeepsTheNameAsTyped(t *testing.T) {
	checkParse(t, Default(), map[string]Match{
		"join Ann":                   {Join, "JOIN", "Ann"},
		"JOIN   Ann-Marie O'Neil":    {Join, "JOIN", "Ann-Marie O'Neil"},
		"join   Ann-Marie O'Neil!":   {Join, "JOIN", "Ann-Marie O'Neil!"},
		"JOIN ann-marie o'neil":      {Join, "JOIN", "ann-marie o'neil"},
		"jóin Zoë":                   {Join, "JOIN", "Zoë"},
		"Sign up Bob":                {Join, "SIGN UP", "Bob"},
		"sign-up: Bob":               {Join, "SIGN UP", "Bob"},
		"JOIN: Siân  ":               {Join, "JOIN", "Siân"},
		"join - José María":          {Join, "JOIN", "José María"},
		"join\n\nAnn":                {Join, "JOIN", "Ann"},
		`"JOIN Ann"`:                 {Join, "JOIN", "Ann"},
		"«join Zoë»":                 {Join, "JOIN", "Zoë"},
		"join 'Bob'":                 {Join, "JOIN", "Bob'"}, // only a quote around the whole message is dropped
		"JOIN 2 for 1":               {Join, "JOIN", "2 for 1"},
		"join 😀 Ann":                 {Join, "JOIN", "Ann"},
		"JOIN Ann\xff":               {Join, "JOIN", "Ann\xff"}, // kept as sent; the router sanitises
		"JOIN 李小龙":                   {Join, "JOIN", "李小龙"},
		"join ann. thanks for this!": {Join, "JOIN", "ann. thanks for this!"},
	})
}

func TestParse_ArgsAreCutTo160BytesOnARuneBoundary(t *testing.T) {
	for _, tc := range []struct {
		name, rest string
	}{
		{"ASCII", strings.Repeat("a", 300)},
		{"two-byte runes straddling the limit", "a" + strings.Repeat("é", 100)},
		{"four-byte runes", "x" + strings.Repeat("😀", 60)},
		{"space at the cut", strings.Repeat("b", 159) + " c" + strings.Repeat("d", 10)},
	} {
		got := Default().Parse("JOIN " + tc.rest)
		if len(got.Args) > 160 || !utf8.ValidString(got.Args) || !strings.HasPrefix(tc.rest, got.Args) {
			t.Errorf("%s: Args = %q (%d bytes), want a valid prefix of at most 160 bytes", tc.name, got.Args, len(got.Args))
		}
		if len(got.Args) < 160-utf8.UTFMax || strings.HasSuffix(got.Args, " ") {
			t.Errorf("%s: Args = %q (%d bytes), cut shorter than needed or not trimmed", tc.name, got.Args, len(got.Args))
		}
	}
	if got := Default().Parse(strings.Repeat("x", 500)); len(got.Args) != 160 {
		t.Errorf("Unknown Args is %d bytes, want 160", len(got.Args))
	}
}
