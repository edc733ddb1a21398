package web

import "github.com/perk-platform/perk/internal/sms/texts"

// DefaultLocale is the pages' language when Options.Locale is empty.
const DefaultLocale = "en"

// ParseLocale checks a programme locale (a BCP 47 tag such as "en-GB" or
// "fr") and returns it in canonical form, as <html lang> wants it; the
// empty string is DefaultLocale. Screen readers pick their voice and
// pronunciation from lang, so a wrong one reads every page in the wrong
// accent: callers refuse a bad tag at start rather than guess. It is the
// texts catalogue's rule, so pages and texts agree on what a locale is.
func ParseLocale(s string) (string, error) {
	if s == "" {
		return DefaultLocale, nil
	}
	return texts.ParseLocale(s)
}
