package barcode

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

// validEAN8 are member codes whose last digit is the GS1 check digit; they
// are valid for both symbologies and shared by the round-trip tests.
var validEAN8 = []string{
	"40170725",
	"96385074",
	"00000000",
	"12345670",
	"55123457",
	"99999995",
}

// gs1Check is the brief's formula, written independently of gs1CheckDigit so
// the test data is not validated by the code under test.
func gs1Check(d string) byte {
	w := 3*int(d[0]-'0') + int(d[1]-'0') + 3*int(d[2]-'0') + int(d[3]-'0') +
		3*int(d[4]-'0') + int(d[5]-'0') + 3*int(d[6]-'0')
	return byte('0' + (10-w%10)%10)
}

func TestTestDataHasValidCheckDigits(t *testing.T) {
	for _, code := range validEAN8 {
		if got := gs1Check(code[:7]); got != code[7] {
			t.Errorf("%s: check digit should be %c", code, got)
		}
		if got := gs1CheckDigit(code[:7]); got != code[7] {
			t.Errorf("gs1CheckDigit(%s) = %c, want %c", code[:7], got, code[7])
		}
	}
}

func TestParseSymbology(t *testing.T) {
	tests := []struct {
		in      string
		want    Symbology
		wantErr bool
	}{
		{in: "", want: Code128},
		{in: "code128", want: Code128},
		{in: "CODE128", want: Code128},
		{in: "Code128", want: Code128},
		{in: "ean8", want: EAN8},
		{in: "EAN8", want: EAN8},
		{in: " ean8\n", want: EAN8},
		{in: "ean13", wantErr: true},
		{in: "ean-8", wantErr: true},
		{in: "code 128", wantErr: true},
		{in: "qr", wantErr: true},
	}
	for _, tt := range tests {
		got, err := ParseSymbology(tt.in)
		if tt.wantErr {
			if err == nil {
				t.Errorf("ParseSymbology(%q) = %q, want error", tt.in, got)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseSymbology(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestInvalidCode(t *testing.T) {
	tests := []struct {
		name    string
		content string
		sym     Symbology
	}{
		{"ean8 bad check digit", "40170726", EAN8},
		{"ean8 7 digits", "4017072", EAN8},
		{"ean8 9 digits", "401707250", EAN8},
		{"ean8 valid ean13", "4006381333931", EAN8},
		{"ean8 letter", "4017072A", EAN8},
		{"ean8 letters", "ABCDEFGH", EAN8},
		{"ean8 fullwidth digits", "４０１７０７２５", EAN8},
		{"ean8 empty", "", EAN8},
		{"code128 empty", "", Code128},
		{"default empty", "", ""},
		{"code128 control char", "4017\n0725", Code128},
		{"code128 FNC1 rune", "ñ40170725", Code128},
		{"code128 too long", strings.Repeat("1", 81), Code128},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := PNG(&buf, tt.content, tt.sym, 0); !errors.Is(err, ErrInvalidCode) {
				t.Errorf("PNG error = %v, want ErrInvalidCode", err)
			}
			if err := SVG(&buf, tt.content, tt.sym); !errors.Is(err, ErrInvalidCode) {
				t.Errorf("SVG error = %v, want ErrInvalidCode", err)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes despite the error", buf.Len())
			}
		})
	}
}

func TestValidCode(t *testing.T) {
	tests := []struct {
		name    string
		content string
		sym     Symbology
	}{
		{"code128 ignores EAN check digit", "40170726", Code128},
		{"code128 printable ASCII", `A-z 0~9 <&"'>`, Code128},
		{"code128 max length", strings.Repeat("1", 80), Code128},
		{"zero symbology is code128", "40170725", ""},
		{"ean8", "40170725", EAN8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := PNG(new(bytes.Buffer), tt.content, tt.sym, 1); err != nil {
				t.Errorf("PNG: %v", err)
			}
			if err := SVG(new(bytes.Buffer), tt.content, tt.sym); err != nil {
				t.Errorf("SVG: %v", err)
			}
		})
	}
}

func TestUnknownSymbology(t *testing.T) {
	err := PNG(new(bytes.Buffer), "40170725", "qr", 0)
	if err == nil || errors.Is(err, ErrInvalidCode) {
		t.Errorf("PNG error = %v, want a non-ErrInvalidCode error", err)
	}
	err = SVG(new(bytes.Buffer), "40170725", "qr")
	if err == nil || errors.Is(err, ErrInvalidCode) {
		t.Errorf("SVG error = %v, want a non-ErrInvalidCode error", err)
	}
}
