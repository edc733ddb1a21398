package web

import (
	"fmt"

	"golang.org/x/text/language"
)

// DefaultLocale is the pages' language when Options.Locale is empty.
const DefaultLocale = "en"

// ParseLocale checks a programme locale (a BCP 47 tag such as "en-GB" or
// "fr") and returns it in canonical form, as <html lang> wants it; the
// empty string is DefaultLocale. Screen readers pick their voice and
// pronunciation from lang, so a wrong one reads every page in the wrong
// accent: callers refuse a bad tag at start rather than guess.
func ParseLocale(s string) (string, error) {
	if s == "" {
		return DefaultLocale, nil
	}
	tag, err := language.Parse(s)
	if err != nil {
		return "", fmt.Errorf("locale %q is not a BCP 47 language tag (like en, en-GB or fr): %w", s, err)
	}
	return tag.String(), nil
}
