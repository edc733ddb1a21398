package gsm

import (
	"errors"
	"strings"
	"testing"
)

// encodable lists every rune GSM-7 can carry: 127 basic + 10 extension.
func encodable() []rune {
	var rs []rune
	for _, r := range basic {
		if r != noRune {
			rs = append(rs, r)
		}
	}
	for _, r := range extension {
		if r != noRune {
			rs = append(rs, r)
		}
	}
	return rs
}

func TestEveryEncodableRuneRoundTripsThroughSeptets(t *testing.T) {
	rs := encodable()
	if len(rs) != 137 {
		t.Fatalf("encodable runes = %d, want 127 basic + 10 extension", len(rs))
	}
	for _, r := range rs {
		sep, err := EncodeGSM7(string(r))
		if err != nil {
			t.Fatalf("EncodeGSM7(%q): %v", r, err)
		}
		got, err := DecodeGSM7(sep)
		if err != nil || got != string(r) {
			t.Errorf("DecodeGSM7(% X) = %q, %v; want %q", sep, got, err, r)
		}
	}
	// All of them in one string, so neighbours cannot disturb each other.
	all := string(rs)
	sep, err := EncodeGSM7(all)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := Septets(all); n != len(sep) {
		t.Errorf("Septets = %d, but EncodeGSM7 produced %d septets", n, len(sep))
	}
	if got, err := DecodeGSM7(sep); err != nil || got != all {
		t.Errorf("round trip of the whole alphabet = %q, %v", got, err)
	}
}

func TestEncodeGSM7ErrorNamesTheRuneAndItsByteOffset(t *testing.T) {
	tests := []struct {
		s       string
		wantMsg string
	}{
		{"garçon", `rune 'ç' (U+00E7) at byte offset 3`},
		{"€€ 😀", `rune '😀' (U+1F600) at byte offset 7`},
		{"ab\xffc", `invalid UTF-8 or U+FFFD at byte offset 2`},
	}
	for _, tt := range tests {
		got, err := EncodeGSM7(tt.s)
		if !errors.Is(err, ErrNotGSM7) {
			t.Fatalf("EncodeGSM7(%q) error = %v, want ErrNotGSM7", tt.s, err)
		}
		if got != nil || !strings.Contains(err.Error(), tt.wantMsg) {
			t.Errorf("EncodeGSM7(%q) = %v, %q; want nil and message containing %q", tt.s, got, err, tt.wantMsg)
		}
	}
}

func TestDecodeGSM7FollowsTheSpecForOddSequences(t *testing.T) {
	tests := []struct {
		name    string
		septets []byte
		want    string
	}{
		{"empty input is empty text", nil, ""},
		{"basic septets decode from the default table", []byte{0x00, 0x01, 0x10, 0x7F}, "@£Δà"},
		{"ESC 0x65 is the euro sign", []byte{0x1B, 0x65}, "€"},
		{"ESC 0x0A is a form feed, not a line feed", []byte{0x1B, 0x0A}, "\f"},
		{"ESC before an undefined code shows the basic character", []byte{0x1B, 0x41, 0x1B, 0x00}, "A@"},
		{"ESC ESC shows a space as reserved for a further table", []byte{0x1B, 0x1B, 0x41}, " A"},
		{"ESC ESC ESC 0x65 is a space then the euro", []byte{0x1B, 0x1B, 0x1B, 0x65}, " €"},
		{"a trailing lone ESC is dropped", []byte{0x41, 0x1B}, "A"},
		{"a lone ESC alone decodes to nothing", []byte{0x1B}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeGSM7(tt.septets)
			if err != nil || got != tt.want {
				t.Errorf("DecodeGSM7(% X) = %q, %v; want %q", tt.septets, got, err, tt.want)
			}
		})
	}
}

func TestDecodeGSM7RejectsValuesAbove127(t *testing.T) {
	tests := []struct {
		septets []byte
		wantMsg string
	}{
		{[]byte{0x41, 0x80}, "0x80 at index 1"},
		{[]byte{0xFF}, "0xFF at index 0"},
		{[]byte{0x41, 0x1B, 0x9B}, "0x9B at index 2"}, // after ESC too
	}
	for _, tt := range tests {
		got, err := DecodeGSM7(tt.septets)
		if !errors.Is(err, ErrNotGSM7) || got != "" || !strings.Contains(err.Error(), tt.wantMsg) {
			t.Errorf("DecodeGSM7(% X) = %q, %v; want ErrNotGSM7 mentioning %q", tt.septets, got, err, tt.wantMsg)
		}
	}
}
