// Package phone parses shoppers' mobile numbers into E.164 and masks them for logs.
//
// It is the single place where a number typed by a person, keyed at a till or
// read from a CRM file becomes the canonical form Perk stores and messages. It
// knows nothing about members or storage.
package phone

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
	_ "time/tzdata" // zones must resolve on hosts without /usr/share/zoneinfo

	"github.com/nyaruka/phonenumbers"
)

// Reasons a number is rejected. Callers branch on them with errors.Is and show
// the message to the person who typed the number.
var (
	ErrEmpty          = errors.New("phone number is empty")
	ErrNotANumber     = errors.New("not a phone number")
	ErrUnknownCountry = errors.New("unknown country code")
	ErrTooShort       = errors.New("too short")
	ErrTooLong        = errors.New("too long")
	ErrInvalid        = errors.New("not a valid number for its country")
	ErrNotMobile      = errors.New("not a mobile number")
)

// maxInput bounds what is handed to libphonenumber: no real number is longer,
// and the library's own limit (250) still lets absurd input through.
const maxInput = 64

// Number is a mobile number in E.164 form ("+447700900123").
type Number string

// String returns the E.164 form.
func (n Number) String() string { return string(n) }

// Parse reads a number in any common format ("07700 900123", "+44 7700-900123",
// "0044 7700 900123") using region (ISO 3166 alpha-2, e.g. "GB") for numbers
// written without a country code. Only numbers that can receive SMS (mobile,
// or fixed-line-or-mobile where a country does not distinguish) are accepted.
func Parse(raw, region string) (Number, error) {
	n, _, err := parse(raw, region)
	return n, err
}

// ParseZone is Parse that also returns the number's time zone (as
// Number.TimeZone), at the cost of one parse instead of two.
func ParseZone(raw, region string) (Number, string, error) {
	n, num, err := parse(raw, region)
	if err != nil {
		return "", "", err
	}
	return n, zoneOf(num), nil
}

func parse(raw, region string) (Number, *phonenumbers.PhoneNumber, error) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return "", nil, ErrEmpty
	}
	if len(s) > maxInput {
		return "", nil, ErrTooLong
	}
	region = strings.ToUpper(region)
	num, err, handled := fastNumber(s, region)
	if !handled {
		num, err = phonenumbers.Parse(s, region)
	}
	return check(num, err, false)
}

// check turns what libphonenumber's Parse (or fastNumber) gave into Perk's
// answer: the number, or the reason it is refused. libOnly leaves the digit
// automata out, for the reference the fast path is tested against.
func check(num *phonenumbers.PhoneNumber, err error, libOnly bool) (Number, *phonenumbers.PhoneNumber, error) {
	if err != nil {
		switch {
		case errors.Is(err, phonenumbers.ErrInvalidCountryCode):
			return "", nil, ErrUnknownCountry
		case errors.Is(err, phonenumbers.ErrTooShortNSN), errors.Is(err, phonenumbers.ErrTooShortAfterIDD):
			return "", nil, ErrTooShort
		case errors.Is(err, phonenumbers.ErrNumTooLong):
			return "", nil, ErrTooLong
		default:
			return "", nil, ErrNotANumber
		}
	}
	switch phonenumbers.IsPossibleNumberWithReason(num) {
	case phonenumbers.INVALID_COUNTRY_CODE:
		return "", nil, ErrUnknownCountry
	case phonenumbers.TOO_SHORT, phonenumbers.IS_POSSIBLE_LOCAL_ONLY:
		return "", nil, ErrTooShort
	case phonenumbers.TOO_LONG:
		return "", nil, ErrTooLong
	case phonenumbers.INVALID_LENGTH:
		return "", nil, ErrInvalid
	}
	if isDramaNumber(num) {
		return Number(phonenumbers.Format(num, phonenumbers.E164)), num, nil
	}
	// GetNumberType is UNKNOWN exactly when IsValidNumber is false; asking
	// once halves the cost of the pattern matching, the bulk of an import.
	// The digit automata answer it without the library's regexps where
	// they cover the number's regions.
	var t phonenumbers.PhoneNumberType
	ok := false
	if !libOnly {
		t, ok = fastNumberType(int(num.GetCountryCode()), phonenumbers.GetNationalSignificantNumber(num))
	}
	if !ok {
		t = phonenumbers.GetNumberType(num)
	}
	switch t {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE:
	case phonenumbers.UNKNOWN:
		return "", nil, ErrInvalid
	default:
		return "", nil, ErrNotMobile
	}
	return Number(phonenumbers.Format(num, phonenumbers.E164)), num, nil
}

// Region returns the ISO region of a parsed number ("GB"), or "" if unknown.
func (n Number) Region() string {
	num, err := phonenumbers.Parse(string(n), "")
	if err != nil {
		return ""
	}
	return phonenumbers.GetRegionCodeForNumber(num)
}

// TimeZone returns the IANA zone for the number's region when the region has
// one clock ("Europe/London" for +44), or "" when its prefix spans zones.
// Quiet hours use it unless the member's zone is set explicitly.
func (n Number) TimeZone() string {
	num, err := phonenumbers.Parse(string(n), "")
	if err != nil {
		return ""
	}
	return zoneOf(num)
}

func zoneOf(num *phonenumbers.PhoneNumber) string {
	zones, err := phonenumbers.GetTimezonesForNumber(num)
	if err != nil || len(zones) == 0 || zones[0] == "Etc/Unknown" {
		return ""
	}
	// The calling code's main region (GB for +44, also for Jersey numbers)
	// is enough to pick among zones that keep one clock.
	region := phonenumbers.GetRegionCodeForCountryCode(int(num.GetCountryCode()))
	key := region + "|" + strings.Join(zones, "|")
	if z, ok := zoneChoice.Load(key); ok {
		return z.(string)
	}
	z := chooseZone(region, zones)
	zoneChoice.Store(key, z)
	return z
}

// zoneChoice caches chooseZone: there are few distinct zone lists, and
// loading zones costs far more than parsing the number (it dominated a
// million-row import before this cache).
var zoneChoice sync.Map // region|zone|zone... -> zone or ""

func chooseZone(region string, zones []string) string {
	if !sameClock(zones) {
		return ""
	}
	if z, ok := mainZone[region]; ok && slices.Contains(zones, z) {
		return z
	}
	return zones[0]
}

// mainZone names the zone people expect where a calling code also covers
// dependencies on the same clock (+44 lists Guernsey before London).
var mainZone = map[string]string{
	"GB": "Europe/London", "NO": "Europe/Oslo", "FI": "Europe/Helsinki", "IT": "Europe/Rome",
	"FR": "Europe/Paris", "DK": "Europe/Copenhagen", "NL": "Europe/Amsterdam",
}

// sameClock reports whether all zones keep the same time all year, as the
// Crown dependencies do with London: then any of them serves for quiet hours.
func sameClock(zones []string) bool {
	year := time.Now().UTC().Year()
	instants := []time.Time{
		time.Date(year, time.January, 15, 12, 0, 0, 0, time.UTC),
		time.Date(year, time.July, 15, 12, 0, 0, 0, time.UTC),
	}
	var first []int
	for i, z := range zones {
		loc, err := time.LoadLocation(z)
		if err != nil {
			return false
		}
		for j, at := range instants {
			_, off := at.In(loc).Zone()
			if i == 0 {
				first = append(first, off)
			} else if first[j] != off {
				return false
			}
		}
	}
	return true
}

// ValidRegion reports whether region is a region libphonenumber knows, so a
// misconfigured --region fails at start rather than on every number.
func ValidRegion(region string) error {
	if phonenumbers.GetCountryCodeForRegion(strings.ToUpper(region)) == 0 {
		return fmt.Errorf("unknown phone region %q (want an ISO 3166 code such as GB)", region)
	}
	return nil
}

// isDramaNumber accepts Ofcom's range reserved for fiction, 07700 900000 to
// 07700 900999. libphonenumber calls it invalid, yet it is what retailers and
// integrators put in demos and test scripts, and no real subscriber can hold
// one, so accepting it cannot message a stranger.
func isDramaNumber(num *phonenumbers.PhoneNumber) bool {
	if num.GetCountryCode() != 44 {
		return false
	}
	nsn := phonenumbers.GetNationalSignificantNumber(num)
	return len(nsn) == 10 && strings.HasPrefix(nsn, "7700900")
}
