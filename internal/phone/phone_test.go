package phone

import (
	"errors"
	"strings"
	"testing"
)

func TestParse_AcceptsCommonFormatsOfOneMobile(t *testing.T) {
	for _, raw := range []string{
		"07400 123456", "07400123456", "+44 7400 123456", "+44 (0)7400 123456",
		"0044 7400 123456", "+44-7400-123-456", "  07400 123456\t",
	} {
		t.Run(raw, func(t *testing.T) {
			got, err := Parse(raw, "GB")
			if err != nil {
				t.Fatalf("Parse(%q): %v", raw, err)
			}
			if got != "+447400123456" {
				t.Fatalf("Parse(%q) = %q, want +447400123456", raw, got)
			}
		})
	}
}

func TestParse_RejectsWithTheReason(t *testing.T) {
	tests := []struct {
		name, raw, region string
		want              error
	}{
		{"empty", "  ", "GB", ErrEmpty},
		{"letters", "call me", "GB", ErrNotANumber},
		{"too short", "0740", "GB", ErrTooShort},
		{"too long", "074001234567890", "GB", ErrTooLong},
		{"absurdly long input", strings.Repeat("7", 200), "GB", ErrTooLong},
		{"unknown country code", "+999 123456789", "GB", ErrUnknownCountry},
		{"national number without a region", "07400 123456", "", ErrUnknownCountry},
		{"UK landline", "020 7946 0018", "GB", ErrNotMobile},
		{"invalid range", "07000 123456", "GB", ErrNotMobile},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.raw, tt.region)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse(%q, %q) = %q, %v; want error %v", tt.raw, tt.region, got, err, tt.want)
			}
		})
	}
}

func TestParse_OtherCountries(t *testing.T) {
	tests := []struct{ raw, region, want string }{
		{"06 12 34 56 78", "FR", "+33612345678"},
		{"+1 415 555 2671", "GB", "+14155552671"}, // NANP does not tell mobile from fixed
		{"0151 23456789", "DE", "+4915123456789"},
	}
	for _, tt := range tests {
		got, err := Parse(tt.raw, tt.region)
		if err != nil || string(got) != tt.want {
			t.Errorf("Parse(%q, %q) = %q, %v; want %q", tt.raw, tt.region, got, err, tt.want)
		}
	}
}

func TestParse_AcceptsOfcomDramaRange(t *testing.T) {
	got, err := Parse("07700 900123", "GB")
	if err != nil || got != "+447700900123" {
		t.Fatalf("got %q, %v", got, err)
	}
	if n, err := Parse("07700 90012", "GB"); err == nil {
		t.Fatalf("a drama number one digit short parsed as %q", n)
	}
}

func TestNumber_RegionAndTimeZone(t *testing.T) {
	tests := []struct{ n, region, zone string }{
		{"+447400123456", "GB", "Europe/London"},
		{"+447700900123", "", "Europe/London"}, // drama range: no region, still London
		{"+33612345678", "FR", "Europe/Paris"},
		{"+14155552671", "US", "America/Los_Angeles"},
		{"+12025550143", "US", "America/New_York"},
	}
	for _, tt := range tests {
		n := Number(tt.n)
		if got := n.Region(); got != tt.region {
			t.Errorf("%s.Region() = %q, want %q", tt.n, got, tt.region)
		}
		if got := n.TimeZone(); got != tt.zone {
			t.Errorf("%s.TimeZone() = %q, want %q", tt.n, got, tt.zone)
		}
	}
}

func TestMask_KeepsCountryFirstTwoAndLastThree(t *testing.T) {
	tests := []struct{ in, want string }{
		{"+447700900123", "+44 77** ***123"},
		{"+14155552671", "+1 41** ***671"},
		{"+33612345678", "+33 61** **678"},
		{"+4915123456789", "+49 15** ****789"},
		{"12345", "*****"},
		{"", ""},
		{"not a number", ""},
	}
	for _, tt := range tests {
		if got := Mask(tt.in); got != tt.want {
			t.Errorf("Mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestValidRegion(t *testing.T) {
	if err := ValidRegion("gb"); err != nil {
		t.Errorf("gb: %v", err)
	}
	if err := ValidRegion("XX"); err == nil {
		t.Error("XX: want an error")
	}
}

// FuzzParse checks that any input either parses to a number that parses again
// to itself, or fails with one of the documented reasons, and that masking
// never reveals more than five digits of what it was given.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"07400 123456", "+447700900123", "+999 1", "0044", "+1 (415) 555-2671 ext. 7", "٠٧٤٠٠١٢٣٤٥٦"} {
		f.Add(s, "GB")
	}
	reasons := []error{ErrEmpty, ErrNotANumber, ErrUnknownCountry, ErrTooShort, ErrTooLong, ErrInvalid, ErrNotMobile}
	f.Fuzz(func(t *testing.T, raw, region string) {
		n, err := Parse(raw, region)
		if err != nil {
			for _, r := range reasons {
				if errors.Is(err, r) {
					return
				}
			}
			t.Fatalf("Parse(%q): undocumented error %v", raw, err)
		}
		again, err := Parse(string(n), "")
		if err != nil || again != n {
			t.Fatalf("Parse(%q) = %q, which parses again as %q, %v", raw, n, again, err)
		}
		masked := Mask(string(n))
		shown := 0
		for _, c := range masked {
			if c >= '0' && c <= '9' {
				shown++
			}
		}
		if shown > 3+2+3 {
			t.Fatalf("Mask(%q) = %q shows %d digits", n, masked, shown)
		}
	})
}
