package member

import (
	"errors"
	"testing"
)

func TestParseCode(t *testing.T) {
	tests := []struct {
		name, raw string
		want      Code
		err       error
	}{
		{"valid EAN-8 number", "96385074", "96385074", nil},
		{"another valid one", "40170725", "40170725", nil},
		{"spaces and dashes people add", " 9638-5074 ", "96385074", nil},
		{"one digit mistyped", "96385075", "", ErrCodeCheckDigit},
		{"two adjacent digits swapped", "69385074", "", ErrCodeCheckDigit},
		{"seven digits", "9638507", "", ErrCodeFormat},
		{"nine digits", "963850740", "", ErrCodeFormat},
		{"letters", "9638507A", "", ErrCodeFormat},
		{"empty", "", "", ErrCodeFormat},
		{"non-ASCII digits", "٩٦٣٨٥٠٧٤", "", ErrCodeFormat},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseCode(tt.raw)
			if !errors.Is(err, tt.err) || got != tt.want {
				t.Fatalf("ParseCode(%q) = %q, %v; want %q, %v", tt.raw, got, err, tt.want, tt.err)
			}
		})
	}
}

func TestCheckDigit_CatchesEverySingleDigitTypo(t *testing.T) {
	code := Code("96385074")
	for pos := 0; pos < CodeLen; pos++ {
		for d := byte('0'); d <= '9'; d++ {
			if code[pos] == d {
				continue
			}
			typo := []byte(code)
			typo[pos] = d
			if _, err := ParseCode(string(typo)); err == nil {
				t.Errorf("typo %s of %s accepted", typo, code)
			}
		}
	}
}

func TestNewCode_IsValidAndSpread(t *testing.T) {
	seen := map[Code]bool{}
	firstDigits := map[byte]bool{}
	for i := 0; i < 2000; i++ {
		c, err := NewCode()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ParseCode(string(c)); err != nil {
			t.Fatalf("NewCode() = %q, which does not parse: %v", c, err)
		}
		seen[c] = true
		firstDigits[c[0]] = true
	}
	// 2000 draws from 10^7: a repeat is possible but a handful means a broken source.
	if len(seen) < 1990 {
		t.Errorf("only %d distinct codes in 2000 draws", len(seen))
	}
	if len(firstDigits) != 10 {
		t.Errorf("leading digits seen: %d of 10; codes are not spread", len(firstDigits))
	}
}

func FuzzParseCode(f *testing.F) {
	for _, s := range []string{"96385074", "9638 5074", "", "--------", "12345678"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		c, err := ParseCode(raw)
		if err != nil {
			if !errors.Is(err, ErrCodeFormat) && !errors.Is(err, ErrCodeCheckDigit) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		if len(c) != CodeLen || checkDigit(string(c[:7])) != c[7] {
			t.Fatalf("ParseCode(%q) accepted %q", raw, c)
		}
		if again, err := ParseCode(string(c)); err != nil || again != c {
			t.Fatalf("round trip of %q: %q, %v", c, again, err)
		}
	})
}
