package member

import (
	"net/mail"
	"sort"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/perk-platform/perk/internal/phone"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/sms/texts"
)

// Profile is the personal data of a member as given by a channel. Every
// enrolment path and the PATCH endpoint pass it through the same cleaning, so
// a number or a date is accepted or refused the same way everywhere.
type Profile struct {
	Phone      string            `json:"phone"`
	FirstName  string            `json:"first_name"`
	LastName   string            `json:"last_name"`
	Email      string            `json:"email"`
	Birthday   string            `json:"birthday"`
	HomeStore  string            `json:"home_store"`
	ExternalID string            `json:"external_id"`
	TimeZone   string            `json:"timezone"`
	Locale     string            `json:"locale"`
	Attributes map[string]string `json:"attributes"`
	Tags       []string          `json:"tags"`

	zone string // set by clean: the phone's time zone, for a new member without one
}

// Limits on free-form data, so one bad file cannot bloat the database.
const (
	maxName       = 100
	maxEmail      = 254
	maxIDLen      = 64
	maxAttributes = 50
	maxAttrKey    = 64
	maxAttrValue  = 500
	maxTags       = 50
	maxTag        = 50
)

// cleanPhone parses a phone number, turning the reason into a field error.
func cleanPhone(field, raw, region string) (phone.Number, error) {
	n, err := phone.Parse(raw, region)
	if err != nil {
		return "", InvalidPhone(field, err)
	}
	return n, nil
}

func cleanPhoneZone(field, raw, region string) (phone.Number, string, error) {
	n, zone, err := phone.ParseZone(raw, region)
	if err != nil {
		return "", "", InvalidPhone(field, err)
	}
	return n, zone, nil
}

// InvalidPhone is the problem for a phone number phone.Parse refused, naming
// the field and the reason, the same way on every path.
func InvalidPhone(field string, err error) error {
	return problem.InvalidField(field, "phone_invalid", err, "%v", err)
}

// cleanText trims s and refuses control characters and over-long values.
func cleanText(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", problem.InvalidField(field, "invalid_text", nil, "is not valid UTF-8")
	}
	if utf8.RuneCountInString(s) > max {
		return "", problem.InvalidField(field, "too_long", nil, "is longer than %d characters", max)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return "", problem.InvalidField(field, "invalid_text", nil, "contains a control character")
		}
	}
	return s, nil
}

func cleanEmail(s string) (string, error) {
	s, err := cleanText("email", s, maxEmail)
	if err != nil || s == "" {
		return s, err
	}
	addr, err := mail.ParseAddress(s)
	if err != nil || addr.Address != s || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") {
		return "", problem.InvalidField("email", "email_invalid", nil, "%q is not an e-mail address", s)
	}
	at := strings.LastIndexByte(s, '@')
	return s[:at] + strings.ToLower(s[at:]), nil
}

func cleanBirthday(s string, now time.Time) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return "", problem.InvalidField("birthday", "birthday_invalid", nil, "%q is not a date in the form YYYY-MM-DD", s)
	}
	if d.Year() < 1900 || d.After(now) {
		return "", problem.InvalidField("birthday", "birthday_invalid", nil, "%s is not a plausible birthday", s)
	}
	return s, nil
}

func cleanTimeZone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if _, err := time.LoadLocation(s); err != nil || s == "Local" {
		return "", problem.InvalidField("timezone", "timezone_invalid", nil, "%q is not an IANA time zone such as Europe/London", s)
	}
	return s, nil
}

// cleanLocale reads a BCP 47 locale into its canonical form ("FR-ca" is
// fr-CA). Any known language is accepted, not only those with texts: a
// member whose locale has none gets the nearest (fr for fr-CA) or the
// programme's, and gets their own once an operator adds it.
func cleanLocale(s string) (string, error) {
	if strings.TrimSpace(s) == "" {
		return "", nil
	}
	l, err := texts.ParseLocale(s)
	if err != nil {
		return "", problem.InvalidField("locale", "locale_invalid", nil, "%v", err)
	}
	return l, nil
}

// AttributeKey normalises an attribute name the way file headers are
// normalised ("Loyalty Tier" -> "loyalty_tier"), so API and import agree.
func AttributeKey(k string) string {
	k = strings.ToLower(strings.TrimSpace(k))
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return '_'
		}
		return r
	}, k)
}

func cleanAttributes(in map[string]string) (map[string]string, error) {
	if len(in) > maxAttributes {
		return nil, problem.InvalidField("attributes", "too_many", nil, "has %d entries, at most %d allowed", len(in), maxAttributes)
	}
	out := make(map[string]string, len(in))
	for k, v := range in {
		key := AttributeKey(k)
		if key == "" || utf8.RuneCountInString(key) > maxAttrKey {
			return nil, problem.InvalidField("attributes", "attribute_key_invalid", nil, "attribute name %q must be 1 to %d characters", k, maxAttrKey)
		}
		val, err := cleanText(key, v, maxAttrValue)
		if err != nil {
			return nil, err
		}
		if val != "" {
			out[key] = val
		}
	}
	return out, nil
}

func cleanTags(in []string) ([]string, error) {
	seen := map[string]bool{}
	out := []string{}
	for _, t := range in {
		t, err := cleanText("tags", strings.ToLower(t), maxTag)
		if err != nil {
			return nil, err
		}
		if t == "" || seen[t] {
			continue
		}
		seen[t] = true
		out = append(out, t)
	}
	if len(out) > maxTags {
		return nil, problem.InvalidField("tags", "too_many", nil, "has %d tags, at most %d allowed", len(out), maxTags)
	}
	sort.Strings(out)
	return out, nil
}

// clean validates and normalises every field of p. The first problem found
// is returned, naming its field. A phone is required only if requirePhone.
func (p Profile) clean(region string, now time.Time, requirePhone bool) (Profile, error) {
	var out Profile
	var err error
	if p.Phone != "" || requirePhone {
		n, zone, err := cleanPhoneZone("phone", p.Phone, region)
		if err != nil {
			return out, err
		}
		out.Phone, out.zone = string(n), zone
	}
	if out.FirstName, err = cleanText("first_name", p.FirstName, maxName); err != nil {
		return out, err
	}
	if out.LastName, err = cleanText("last_name", p.LastName, maxName); err != nil {
		return out, err
	}
	if out.Email, err = cleanEmail(p.Email); err != nil {
		return out, err
	}
	if out.Birthday, err = cleanBirthday(p.Birthday, now); err != nil {
		return out, err
	}
	if out.HomeStore, err = cleanText("home_store", p.HomeStore, maxIDLen); err != nil {
		return out, err
	}
	if out.ExternalID, err = cleanText("external_id", p.ExternalID, maxIDLen); err != nil {
		return out, err
	}
	if out.TimeZone, err = cleanTimeZone(p.TimeZone); err != nil {
		return out, err
	}
	if out.Locale, err = cleanLocale(p.Locale); err != nil {
		return out, err
	}
	if out.Attributes, err = cleanAttributes(p.Attributes); err != nil {
		return out, err
	}
	if out.Tags, err = cleanTags(p.Tags); err != nil {
		return out, err
	}
	return out, nil
}
