package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCLI_BadTextsStopTheStart: a texts folder whose French welcome lacks
// the card link, or a locale that is not one, stops perk serve and perk sms
// at start with the locale, the purpose and the field.
func TestCLI_BadTextsStopTheStart(t *testing.T) {
	bad := t.TempDir()
	os.WriteFile(filepath.Join(bad, "fr.json"), []byte(`{"welcome": "Bienvenue ! Votre code : {{.Code}}"}`), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"serve, welcome without the card link", []string{"serve", "--addr", "127.0.0.1:0", "--texts", bad},
			"--locale/--texts: texts: locale fr, purpose welcome: field CardURL: required, missing"},
		{"sms inject, welcome without the card link", []string{"sms", "inject", "--from", "07700 900123", "--texts", bad, "JOIN"},
			"locale fr, purpose welcome: field CardURL: required, missing"},
		{"serve, unknown locale", []string{"serve", "--addr", "127.0.0.1:0", "--locale", "xx"},
			`--locale: "xx" is not a known BCP 47 locale`},
		{"serve, a locale with no texts", []string{"serve", "--addr", "127.0.0.1:0", "--locale", "de"},
			"programme locale de: no texts (have en, fr; add de.json to the texts folder)"},
		{"sms texts, unknown locale", []string{"sms", "texts", "--locale", "en GB"}, "is not a known BCP 47 locale"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, stderr, err := perk(t, []string{"PERK_DATA_DIR=" + t.TempDir()}, tc.args...)
			if err == nil || !strings.Contains(stderr, tc.want) {
				t.Errorf("perk %v: %v, stderr:\n%s\nwant a failure mentioning %q", tc.args, err, stderr, tc.want)
			}
		})
	}
}

// TestCLI_SMSTextsReportsEveryTextAndItsSegments, and a French programme's
// JOIN by SMS is answered in French.
func TestCLI_SMSTextsAndAFrenchProgramme(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "de.json"), []byte(`{"help": "{{.Programme}}: Hilfe unter {{.HelpContact}}."}`), 0o644)
	out, stderr, err := perk(t, []string{"PERK_LOG_LEVEL=warn"}, "sms", "texts", "--texts", dir, "--locale", "fr", "--programme", "Perk")
	if err != nil {
		t.Fatalf("sms texts: %v\n%s", err, stderr)
	}
	for _, want := range []string{"programme locale fr (texts of fr)", "## de help (GSM7, 1 segment)\nPerk: Hilfe unter",
		"## de welcome (GSM7, 1 segment, from the programme's locale)\nBienvenue chez Perk !", "## en welcome (GSM7, 1 segment)"} {
		if !strings.Contains(out, want) {
			t.Errorf("perk sms texts lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(stderr, `locale=de purposes=welcome,code,`) {
		t.Errorf("no warning about de's missing texts:\n%s", stderr)
	}

	env := []string{"PERK_DATA_DIR=" + t.TempDir(), "PERK_LOCALE=fr", "PERK_LOG_LEVEL=warn"}
	if _, stderr, err := perk(t, env, "sms", "inject", "--from", "07700 900123", "JOIN", "Zoé"); err != nil {
		t.Fatalf("inject: %v\n%s", err, stderr)
	}
	out, _, _ = perk(t, env, "sms", "outbox")
	if !strings.Contains(out, "Bienvenue chez Perk Rewards !") {
		t.Errorf("outbox of a French programme:\n%s", out)
	}
}
