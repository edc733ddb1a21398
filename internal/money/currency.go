package money

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/currency"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

// ErrUnknownCurrency refuses a code that is not the ISO 4217 code of money
// a programme can be kept in.
var ErrUnknownCurrency = errors.New("unknown currency")

// notMoney are ISO 4217 codes x/text knows that no shop prices in: no
// currency, testing, precious metals, funds and settlement units.
var notMoney = map[string]bool{
	"XXX": true, "XTS": true, "XAU": true, "XAG": true, "XPT": true, "XPD": true, "XDR": true,
	"XBA": true, "XBB": true, "XBC": true, "XBD": true, "XSU": true, "XUA": true,
}

// Currency says how amounts of one currency are shown: its code, its
// symbol and how many of its minor units make a major one (its decimals:
// GBP 2, JPY 0, KWD 3). The zero Currency shows two decimals and no
// symbol.
type Currency struct {
	Code     string // ISO 4217, upper case; "" for the zero Currency
	Symbol   string // "£", "¥", "KWD"
	Decimals int
}

// ParseCurrency returns the currency of an ISO 4217 code (case does not
// matter), or an error wrapping ErrUnknownCurrency.
func ParseCurrency(code string) (Currency, error) {
	c := strings.ToUpper(strings.TrimSpace(code))
	u, err := currency.ParseISO(c)
	if err != nil || len(c) != 3 || notMoney[c] {
		return Currency{}, fmt.Errorf("%w %q: want an ISO 4217 code such as GBP, EUR or JPY", ErrUnknownCurrency, code)
	}
	scale, _ := currency.Standard.Rounding(u)
	sym := message.NewPrinter(language.English).Sprint(currency.NarrowSymbol(u))
	return Currency{Code: c, Symbol: sym, Decimals: scale}, nil
}

// MustCurrency is ParseCurrency for codes known to be good (tests, demo).
func MustCurrency(code string) Currency {
	c, err := ParseCurrency(code)
	if err != nil {
		panic(err)
	}
	return c
}

// Number writes minor units with the currency's decimals and no symbol
// ("12.05" in GBP, "1205" in JPY, "1.205" in KWD, "-0.50").
func (c Currency) Number(v int64) string {
	sign := ""
	u := uint64(v)
	if v < 0 {
		sign, u = "-", uint64(-(v+1))+1 // MinInt64 too
	}
	d := c.decimals()
	if d == 0 {
		return fmt.Sprintf("%s%d", sign, u)
	}
	unit := uint64(1)
	for range d {
		unit *= 10
	}
	return fmt.Sprintf("%s%d.%0*d", sign, u/unit, d, u%unit)
}

// Format writes minor units as a price: the symbol, then the number with
// the currency's decimals ("£12.05", "¥1205", "-€0.50"); a symbol made of
// letters is set apart ("KWD 1.205", "CHF 12.05"). The zero Currency
// writes the number alone.
func (c Currency) Format(v int64) string {
	n := c.Number(v)
	if c.Symbol == "" {
		return n
	}
	sign := ""
	if v < 0 {
		sign, n = "-", n[1:]
	}
	if r, _ := utf8.DecodeLastRuneInString(c.Symbol); unicode.IsLetter(r) {
		return sign + c.Symbol + " " + n
	}
	return sign + c.Symbol + n
}

func (c Currency) decimals() int {
	if c.Code == "" {
		return 2
	}
	return c.Decimals
}

// ErrAmount refuses an amount that is not a non-negative number with at
// most the currency's decimals.
var ErrAmount = errors.New("not an amount")

// Parse reads a non-negative amount written in major units with at most
// the currency's decimals ("4.99" is 499 in GBP, "500" is 500 in JPY) and
// returns it in minor units.
func (c Currency) Parse(s string) (int64, error) {
	s = strings.TrimSpace(s)
	whole, frac, dot := strings.Cut(s, ".")
	d := c.decimals()
	if whole == "" || len(frac) > d || (dot && frac == "") || strings.Trim(whole+frac, "0123456789") != "" {
		return 0, ErrAmount
	}
	n, err := strconv.ParseInt(whole+frac+strings.Repeat("0", d-len(frac)), 10, 64)
	if err != nil {
		return 0, ErrAmount
	}
	return n, nil
}
