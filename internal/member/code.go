package member

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// CodeLen is the number of digits in a member code: seven random digits and a
// GS1 mod-10 check digit, which also makes every code a valid EAN-8 number.
const CodeLen = 8

// Errors for a code keyed by hand; ErrCodeCheckDigit means a typo, caught
// before any lookup.
var (
	ErrCodeFormat     = errors.New("member code must be 8 digits")
	ErrCodeCheckDigit = errors.New("member code check digit does not match (mistyped?)")
)

// Code is a member's 8-digit code, printed on the card and scanned at the till.
type Code string

// String returns the 8 digits.
func (c Code) String() string { return string(c) }

// checkDigit computes the GS1 mod-10 check digit of the data digits: weights
// 3 and 1 alternate from the rightmost data digit, which gets 3.
func checkDigit(data string) byte {
	sum := 0
	for i := len(data) - 1; i >= 0; i-- {
		d := int(data[i] - '0')
		if (len(data)-1-i)%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

// ParseCode validates a code keyed in or scanned: spaces and dashes that
// people add for readability are ignored.
func ParseCode(raw string) (Code, error) {
	s := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.TrimSpace(raw))
	if len(s) != CodeLen {
		return "", ErrCodeFormat
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return "", ErrCodeFormat
		}
	}
	if checkDigit(s[:CodeLen-1]) != s[CodeLen-1] {
		return "", ErrCodeCheckDigit
	}
	return Code(s), nil
}

// sevenDigits is the size of the random part's space.
var sevenDigits = big.NewInt(10_000_000)

// NewCode draws a fresh random code. Codes are not sequential, so one member's
// code says nothing about another's; uniqueness and "never reused" are the
// store's job (a unique index over every code ever issued, erased ones too).
func NewCode() (Code, error) {
	n, err := rand.Int(rand.Reader, sevenDigits)
	if err != nil {
		return "", fmt.Errorf("member code: %w", err)
	}
	data := fmt.Sprintf("%07d", n.Int64())
	return Code(data + string(checkDigit(data))), nil
}

// CodeFromDigits makes the member code whose first seven digits are data
// (exactly seven digits), adding the check digit: for generators of test
// data sets, which need codes that are valid, distinct and repeatable.
func CodeFromDigits(data string) (Code, error) {
	if len(data) != CodeLen-1 || strings.Trim(data, "0123456789") != "" {
		return "", ErrCodeFormat
	}
	return Code(data + string(checkDigit(data))), nil
}
