package gsm

import (
	"bytes"
	"testing"
)

func TestEncodeUCS2WritesUTF16BigEndianWithSurrogatePairs(t *testing.T) {
	tests := []struct {
		name string
		s    string
		want []byte
	}{
		{"empty text is no bytes", "", []byte{}},
		{"ASCII takes two bytes each, high byte first", "Hi", []byte{0x00, 0x48, 0x00, 0x69}},
		{"c cedilla is one unit", "ç", []byte{0x00, 0xE7}},
		{"CJK in the BMP is one unit", "谢", []byte{0x8C, 0x22}},
		{"an emoji is a surrogate pair of four bytes", "😀", []byte{0xD8, 0x3D, 0xDE, 0x00}},
		{"the last code point is a surrogate pair", "\U0010FFFF", []byte{0xDB, 0xFF, 0xDF, 0xFF}},
		{"invalid UTF-8 becomes U+FFFD", "\xff", []byte{0xFF, 0xFD}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := EncodeUCS2(tt.s); !bytes.Equal(got, tt.want) {
				t.Errorf("EncodeUCS2(%q) = % X, want % X", tt.s, got, tt.want)
			}
		})
	}
}

func TestUCS2RoundTripsTextWithEmoji(t *testing.T) {
	for _, s := range []string{
		"", "plain", "garçon 😀", "🎉🎉🎉", "谢谢 👍🏽 €", "👨‍👩‍👧 family", "\U00010000\uFFFF\u0000",
	} {
		if got := DecodeUCS2(EncodeUCS2(s)); got != s {
			t.Errorf("DecodeUCS2(EncodeUCS2(%q)) = %q", s, got)
		}
	}
}

func TestDecodeUCS2ReplacesBrokenInputWithFFFD(t *testing.T) {
	tests := []struct {
		name string
		b    []byte
		want string
	}{
		{"an odd trailing byte", []byte{0x00, 0x41, 0x00}, "A\uFFFD"},
		{"a single byte", []byte{0x41}, "\uFFFD"},
		{"a high surrogate at the end", []byte{0x00, 0x41, 0xD8, 0x3D}, "A\uFFFD"},
		{"a high surrogate before a non-surrogate", []byte{0xD8, 0x3D, 0x00, 0x41}, "\uFFFDA"},
		{"two high surrogates then a low one", []byte{0xD8, 0x3D, 0xD8, 0x3D, 0xDE, 0x00}, "\uFFFD😀"},
		{"a lone low surrogate", []byte{0xDE, 0x00, 0x00, 0x41}, "\uFFFDA"},
		{"a high surrogate and an odd byte", []byte{0xD8, 0x3D, 0xDE}, "\uFFFD\uFFFD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DecodeUCS2(tt.b); got != tt.want {
				t.Errorf("DecodeUCS2(% X) = %q, want %q", tt.b, got, tt.want)
			}
		})
	}
}
