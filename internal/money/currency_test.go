package money

import (
	"errors"
	"math"
	"testing"
)

func TestCurrency_FormatUsesSymbolAndDecimals(t *testing.T) {
	for _, c := range []struct {
		code string
		in   int64
		want string
	}{
		{"GBP", 1205, "£12.05"},
		{"gbp", 5, "£0.05"},
		{"GBP", -50, "-£0.50"},
		{"JPY", 1205, "¥1205"},
		{"JPY", -7, "-¥7"},
		{"KWD", 1205, "KWD 1.205"},
		{"CHF", 100000, "CHF 1000.00"},
		{"EUR", 0, "€0.00"},
		{"USD", math.MinInt64, "-$92233720368547758.08"},
		{"", 1205, "12.05"}, // the zero Currency
	} {
		cur := Currency{}
		if c.code != "" {
			cur = MustCurrency(c.code)
		}
		if got := cur.Format(c.in); got != c.want {
			t.Errorf("%s Format(%d) = %q, want %q", c.code, c.in, got, c.want)
		}
	}
}

func TestParseCurrency_RefusesWhatIsNotMoney(t *testing.T) {
	for _, code := range []string{"XXX", "XTS", "XAU", "ABC", "GB", "GBPX", "", "£"} {
		if _, err := ParseCurrency(code); !errors.Is(err, ErrUnknownCurrency) {
			t.Errorf("ParseCurrency(%q) = %v, want ErrUnknownCurrency", code, err)
		}
	}
	for _, code := range []string{"GBP", "eur", "JPY", "KWD", "XOF", "XCD"} {
		if _, err := ParseCurrency(code); err != nil {
			t.Errorf("ParseCurrency(%q): %v", code, err)
		}
	}
}

func TestCurrency_ParseTakesTheCurrencysDecimals(t *testing.T) {
	for _, c := range []struct {
		code, in string
		want     int64
		ok       bool
	}{
		{"GBP", "4.99", 499, true},
		{"GBP", "5", 500, true},
		{"GBP", " 0.5 ", 50, true},
		{"GBP", "4.999", 0, false},
		{"GBP", "-1", 0, false},
		{"GBP", "1e3", 0, false},
		{"GBP", "5.", 0, false},
		{"GBP", ".5", 0, false},
		{"JPY", "500", 500, true},
		{"JPY", "5.5", 0, false},
		{"KWD", "1.205", 1205, true},
		{"", "12.05", 1205, true},
		{"GBP", "99999999999999999999", 0, false},
	} {
		cur := Currency{}
		if c.code != "" {
			cur = MustCurrency(c.code)
		}
		got, err := cur.Parse(c.in)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("%s Parse(%q) = %d, %v; want %d, ok %v", c.code, c.in, got, err, c.want, c.ok)
		}
	}
}
