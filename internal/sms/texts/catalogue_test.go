package texts_test

import (
	"bytes"
	"flag"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/sms/gsm"
	"github.com/perk-platform/perk/internal/sms/texts"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func load(t *testing.T, opt texts.Options) *texts.Catalogue {
	t.Helper()
	if opt.Log == nil {
		opt.Log = quiet()
	}
	c, err := texts.Load(opt)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

// writeDir writes the operator's locale files into a new folder.
func writeDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// TestDefaults_Golden: every default text of every locale, rendered with the
// sample data, with its coding and segment count (go test -update rewrites).
func TestDefaults_Golden(t *testing.T) {
	c := load(t, texts.Options{Programme: "Perk Rewards", HelpContact: "0800 000 000",
		Frequency: "Up to 3 msgs/week", PublicURL: "https://perk.example.com"})
	samples, err := c.Report()
	if err != nil {
		t.Fatal(err)
	}
	per := map[string]*bytes.Buffer{}
	for _, s := range samples {
		if per[s.Locale] == nil {
			per[s.Locale] = &bytes.Buffer{}
		}
		per[s.Locale].WriteString(s.String() + "\n")
		if s.Fallback {
			t.Errorf("default locale %s lacks %s", s.Locale, s.Purpose)
		}
		if s.Segments > 2 {
			t.Errorf("%s %s takes %d segments, want at most 2", s.Locale, s.Purpose, s.Segments)
		}
		if s.Coding != gsm.GSM7 {
			t.Errorf("%s %s needs %s; the defaults stay in GSM-7", s.Locale, s.Purpose, s.Coding)
		}
	}
	for _, l := range []string{"en", "fr"} {
		golden := filepath.Join("testdata", l+".golden")
		if *update {
			if err := os.WriteFile(golden, per[l].Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(golden)
		if err != nil {
			t.Fatal(err)
		}
		if got := per[l].String(); got != string(want) {
			t.Errorf("locale %s:\n%s\nwant (%s):\n%s", l, got, golden, want)
		}
	}
}

func TestRender_LocaleFallsBackToParentThenProgramme(t *testing.T) {
	c := load(t, texts.Options{Locale: "en-GB", Programme: "Perk"})
	d := texts.Data{Code: "96385074", CardURL: "https://p/c/t"}
	for _, tc := range []struct{ locale, want string }{
		{"", "Welcome to Perk!"},
		{"en-GB", "Welcome to Perk!"},
		{"fr", "Bienvenue chez Perk !"},
		{"fr-CA", "Bienvenue chez Perk !"},
		{"de", "Welcome to Perk!"},
	} {
		got, err := c.Render(tc.locale, texts.Welcome, d)
		if err != nil || !strings.HasPrefix(got, tc.want) {
			t.Errorf("locale %q: %q, %v; want it to start %q", tc.locale, got, err, tc.want)
		}
	}
	if c.Locale() != "en-GB" || c.TextLocale() != "en" {
		t.Errorf("programme locale %q served by %q, want en-GB served by en", c.Locale(), c.TextLocale())
	}
}

func TestRender_OfferItemDatesPerLocale(t *testing.T) {
	c := load(t, texts.Options{})
	d := texts.Data{Description: "Café offert", Until: time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC)}
	for l, want := range map[string]string{"en": "Café offert (until 2 Dec)", "fr": "Café offert (jusqu'au 02/12)"} {
		if got, err := c.Render(l, texts.OfferItem, d); got != want || err != nil {
			t.Errorf("%s: %q, %v; want %q", l, got, err, want)
		}
	}
}

// TestLoad_OperatorFiles: what an operator's folder may and may not hold,
// and the error that names the locale, the purpose and the field.
func TestLoad_OperatorFiles(t *testing.T) {
	for _, tc := range []struct {
		name    string
		locale  string
		files   map[string]string
		replies map[string]string
		wantErr string // "" when it loads
	}{
		{name: "a replaced welcome", files: map[string]string{"fr.json": `{"welcome": "Salut ! Code {{.Code}}, carte {{.CardURL}}"}`}},
		{name: "a new locale, partly written", files: map[string]string{"de.json": `{"help": "{{.Programme}}: Hilfe unter {{.HelpContact}}."}`}},
		{name: "welcome without the card link", files: map[string]string{"fr.json": `{"welcome": "Bienvenue ! Code {{.Code}}"}`},
			wantErr: "locale fr, purpose welcome: field CardURL: required, missing"},
		{name: "a field the purpose does not have", files: map[string]string{"fr.json": `{"stop_confirm": "Au revoir {{.FirstName}}"}`},
			wantErr: "locale fr, purpose stop_confirm: field FirstName: not provided for this purpose"},
		{name: "a misspelt field", files: map[string]string{"en.json": `{"code": "{{.Cod}} {{.Code}} {{.CardURL}}"}`},
			wantErr: "locale en, purpose code: field Cod: not provided"},
		{name: "a field inside if", files: map[string]string{"en.json": `{"help": "{{.HelpContact}}{{if .Points}}x{{end}}"}`},
			wantErr: "locale en, purpose help: field Points: not provided"},
		{name: "an unknown purpose", files: map[string]string{"fr.json": `{"welcom": "x"}`},
			wantErr: "locale fr, purpose welcom: unknown purpose"},
		{name: "a text that does not parse", files: map[string]string{"fr.json": `{"help": "{{.HelpContact"}`},
			wantErr: "locale fr, purpose help: template: help:1: unclosed action"},
		{name: "a file named for no locale", files: map[string]string{"klingon.json": `{}`},
			wantErr: `klingon.json: file name: "klingon" is not a known BCP 47 locale`},
		{name: "two files for one locale", files: map[string]string{"fr.json": `{}`, "FR.json": `{}`},
			wantErr: "are both locale fr"},
		{name: "a programme locale without texts", locale: "de", files: map[string]string{"fr.json": `{}`},
			wantErr: "programme locale de: no texts"},
		{name: "a programme locale with gaps", locale: "de", files: map[string]string{"de.json": `{"help": "Hilfe: {{.HelpContact}}"}`},
			wantErr: "locale de, purpose welcome: missing"},
		{name: "an unknown programme locale", locale: "xx", wantErr: `programme locale: "xx" is not a known BCP 47 locale`},
		{name: "keyword-file replies replace the programme's texts", replies: map[string]string{"help": "Aide : {{.HelpContact}}"}},
		{name: "keyword-file replies are checked", replies: map[string]string{"help": "Aide"},
			wantErr: "locale en, purpose help: field HelpContact: required, missing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opt := texts.Options{Locale: tc.locale, Replies: tc.replies, Log: quiet()}
			if tc.files != nil {
				opt.Dir = writeDir(t, tc.files)
			}
			_, err := texts.Load(opt)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("Load: %v", err)
			case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
				t.Fatalf("Load: %v, want an error containing %q", err, tc.wantErr)
			}
		})
	}
}

// TestLoad_WarnsOfFallbacksAndLongTexts: the start-up log names what a
// locale takes from the programme's, and texts over two segments.
func TestLoad_WarnsOfFallbacksAndLongTexts(t *testing.T) {
	var logs bytes.Buffer
	dir := writeDir(t, map[string]string{
		"de.json": `{"help": "{{.Programme}}: Hilfe unter {{.HelpContact}}."}`,
		"fr.json": `{"no_offers": "` + strings.Repeat("Aucune offre. ", 25) + `{{.CardURL}}"}`,
	})
	c := load(t, texts.Options{Dir: dir, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	for _, want := range []string{
		"sms texts missing from their locale, the programme's are used\" locale=de purposes=welcome,code,card,",
		"sms text longer than two segments\" locale=fr purpose=no_offers coding=GSM7 segments=3",
	} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, logs.String())
		}
	}
	if strings.Contains(logs.String(), ",help,") {
		t.Errorf("de's own help reported as a fallback:\n%s", logs.String())
	}
	got, err := c.Render("de", texts.Help, texts.Data{})
	if want := "Perk Rewards: Hilfe unter ."; got != want || err != nil {
		t.Errorf("de help %q, %v; want %q", got, err, want)
	}
}

func TestParseLocale(t *testing.T) {
	for in, want := range map[string]string{"fr": "fr", "FR-ca": "fr-CA", "en_GB": "en-GB", " en ": "en",
		"xx": "", "und": "", "": "", "not a locale": "", "zz-ZZ": ""} {
		got, err := texts.ParseLocale(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("ParseLocale(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// TestLoad_AVariantFileTakesItsGapsFromItsLanguage: fr-CA.json with one
// text gets the rest in French, not in the programme's English, and a
// programme in en-GB may have an en-GB.json of a few texts over en.
func TestLoad_AVariantFileTakesItsGapsFromItsLanguage(t *testing.T) {
	var logs bytes.Buffer
	dir := writeDir(t, map[string]string{
		"fr-CA.json": `{"help": "{{.Programme}} : aide au {{.HelpContact}}, chum."}`,
		"en-GB.json": `{"help": "{{.Programme}}: help on {{.HelpContact}}, mate."}`,
	})
	c := load(t, texts.Options{Locale: "en-GB", Dir: dir, Programme: "Perk", Log: slog.New(slog.NewTextHandler(&logs, nil))})
	for _, tc := range []struct {
		locale  string
		purpose texts.Purpose
		want    string
	}{
		{"fr-CA", texts.Help, "Perk : aide au , chum."},
		{"fr-CA", texts.StopConfirm, "Perk : vous ne recevrez plus nos SMS promotionnels."},
		{"", texts.Help, "Perk: help on , mate."},
		{"", texts.StopConfirm, "Perk: you are unsubscribed"},
		{"de", texts.Help, "Perk: help on , mate."},
	} {
		got, err := c.Render(tc.locale, tc.purpose, texts.Data{})
		if err != nil || !strings.HasPrefix(got, tc.want) {
			t.Errorf("%q %s: %q, %v; want it to start %q", tc.locale, tc.purpose, got, err, tc.want)
		}
	}
	if c.TextLocale() != "en-GB" {
		t.Errorf("programme's texts from %q, want en-GB", c.TextLocale())
	}
	if strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("gaps filled from the same language were warned about:\n%s", logs.String())
	}
}
