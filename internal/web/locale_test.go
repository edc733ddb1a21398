package web_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/web"
)

func TestParseLocale(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"", "en", true},
		{"en", "en", true},
		{"en-GB", "en-GB", true},
		{"fr", "fr", true},
		{"en_gb", "en-GB", true}, // canonical form for <html lang>
		{"pt-br", "pt-BR", true},
		{"english", "", false},
		{"not a language", "", false},
		{"fr-", "", false},
	}
	for _, tt := range tests {
		got, err := web.ParseLocale(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseLocale(%q) = %q, %v; want %q, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// Screen readers choose the voice from <html lang>: every page says the
// programme's locale.
func TestPages_LangFollowsTheProgrammeLocale(t *testing.T) {
	db := storetest.SQLite(t)
	for _, tt := range []struct{ locale, want string }{
		{"", `<html lang="en">`},
		{"fr", `<html lang="fr">`},
		{"en-gb", `<html lang="en-GB">`},
	} {
		e := newEnv(t, db, func(o *web.Options) { o.Locale = tt.locale })
		for _, path := range []string{"/", "/join", "/manage/", "/c/no-such-card"} {
			res, err := http.Get(e.url + path)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if !strings.Contains(string(b), tt.want) {
				t.Errorf("locale %q: %s lacks %s", tt.locale, path, tt.want)
			}
		}
	}
}
