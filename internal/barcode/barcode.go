// Package barcode renders member codes as 1D barcodes (PNG and SVG) with the digits printed under the bars.
package barcode

import (
	"errors"
	"fmt"
	"image/color"
	"strings"

	bb "github.com/boombuler/barcode"
	"github.com/boombuler/barcode/code128"
	"github.com/boombuler/barcode/ean"
)

// Symbology selects the 1D barcode standard used to encode a member code.
type Symbology string

// Supported symbologies. The zero value ("") is treated as Code128.
const (
	Code128 Symbology = "code128" // default
	EAN8    Symbology = "ean8"
)

// ParseSymbology maps a config string ("code128", "ean8", case-insensitive,
// "" -> Code128) to a Symbology, or returns an error naming the valid values.
// Surrounding whitespace is ignored because the value usually comes from an
// environment variable or config file.
func ParseSymbology(s string) (Symbology, error) {
	switch Symbology(strings.ToLower(strings.TrimSpace(s))) {
	case "", Code128:
		return Code128, nil
	case EAN8:
		return EAN8, nil
	}
	return "", fmt.Errorf("barcode: unknown symbology %q (want %q or %q)", s, Code128, EAN8)
}

// ErrInvalidCode is returned (wrapped) when the content cannot be encoded in
// the requested symbology: EAN-8 needs exactly 8 ASCII digits with a valid
// GS1 check digit; Code 128 needs 1..80 printable ASCII characters.
var ErrInvalidCode = errors.New("barcode: invalid code for symbology")

// maxCode128Len mirrors boombuler's own limit, checked here so that the error
// message names the limit instead of a generic encoder failure.
const maxCode128Len = 80

// modules returns the symbol's module pattern (true = bar), without quiet
// zones. Both renderers draw from this one slice, so PNG and SVG cannot drift.
func modules(content string, sym Symbology) ([]bool, error) {
	var (
		code bb.Barcode
		err  error
	)
	switch sym {
	case "", Code128:
		if err := checkCode128(content); err != nil {
			return nil, err
		}
		code, err = code128.Encode(content)
	case EAN8:
		if err := checkEAN8(content); err != nil {
			return nil, err
		}
		code, err = ean.Encode(content)
	default:
		return nil, fmt.Errorf("barcode: unknown symbology %q", sym)
	}
	if err != nil {
		// Our own checks should make this unreachable; still report it as an
		// invalid code so callers need only one errors.Is test.
		return nil, fmt.Errorf("%w: %q: %v", ErrInvalidCode, content, err)
	}

	// boombuler encodes a 1D symbol as an image one pixel per module wide
	// and one pixel high; reading that row gives the module pattern.
	b := code.Bounds()
	mods := make([]bool, 0, b.Dx())
	for x := b.Min.X; x < b.Max.X; x++ {
		mods = append(mods, color.GrayModel.Convert(code.At(x, b.Min.Y)).(color.Gray).Y < 0x80)
	}
	return mods, nil
}

// checkCode128 restricts content to printable ASCII. boombuler would also
// accept control characters (via code set A) and silently treat U+00F1..U+00F4
// as the FNC1..FNC4 function codes, neither of which belongs in a member code.
func checkCode128(content string) error {
	if content == "" {
		return fmt.Errorf("%w: empty content", ErrInvalidCode)
	}
	if len(content) > maxCode128Len {
		return fmt.Errorf("%w: Code 128 content is %d characters, max %d", ErrInvalidCode, len(content), maxCode128Len)
	}
	for i := 0; i < len(content); i++ {
		if c := content[i]; c < 0x20 || c > 0x7e {
			return fmt.Errorf("%w: %q: byte %#02x at offset %d is not printable ASCII", ErrInvalidCode, content, c, i)
		}
	}
	return nil
}

// checkEAN8 validates length and check digit up front. boombuler's ean.Encode
// would otherwise accept 7 digits (appending a check digit the caller never
// saw) or 12/13 digits (silently producing EAN-13).
func checkEAN8(content string) error {
	if len(content) != 8 {
		return fmt.Errorf("%w: EAN-8 needs exactly 8 digits, got %q", ErrInvalidCode, content)
	}
	for i := 0; i < len(content); i++ {
		if content[i] < '0' || content[i] > '9' {
			return fmt.Errorf("%w: EAN-8 needs digits only, got %q", ErrInvalidCode, content)
		}
	}
	if want := gs1CheckDigit(content[:7]); content[7] != want {
		return fmt.Errorf("%w: EAN-8 %q has check digit %c, want %c", ErrInvalidCode, content, content[7], want)
	}
	return nil
}

// gs1CheckDigit computes the GS1 mod-10 check digit for ASCII digits: weights
// 3,1,3,1... counted from the rightmost data digit.
func gs1CheckDigit(data string) byte {
	sum := 0
	for i := 0; i < len(data); i++ {
		d := int(data[len(data)-1-i] - '0')
		if i%2 == 0 {
			d *= 3
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}
