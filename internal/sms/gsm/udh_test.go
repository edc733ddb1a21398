package gsm

import (
	"strings"
	"testing"
)

func TestParseUDHReadsConcatenationElements(t *testing.T) {
	tests := []struct {
		name      string
		ud        []byte
		ref       uint16
		total     byte
		seq       byte
		headerLen int
		ok        bool
	}{
		{"IEI 0x00 with an 8-bit reference", []byte{0x05, 0x00, 0x03, 0x2A, 0x03, 0x02, 'h', 'i'}, 0x2A, 3, 2, 6, true},
		{"IEI 0x08 with a 16-bit reference", []byte{0x06, 0x08, 0x04, 0xBE, 0xEF, 0x02, 0x01, 'h'}, 0xBEEF, 2, 1, 7, true},
		{"a header that is the whole user data", []byte{0x05, 0x00, 0x03, 0x01, 0x02, 0x02}, 1, 2, 2, 6, true},
		{"a port element before the concatenation element is skipped",
			[]byte{0x0B, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0, 0x00, 0x03, 0x07, 0x02, 0x01}, 7, 2, 1, 12, true},
		{"a repeated element: the last one wins",
			[]byte{0x0A, 0x00, 0x03, 0x01, 0x02, 0x01, 0x00, 0x03, 0x09, 0x04, 0x03}, 9, 4, 3, 11, true},
		{"Split's own header parses back", firstSplitHeader(), 0x7E, 6, 1, 6, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, total, seq, hl, ok := ParseUDH(tt.ud)
			if ref != tt.ref || total != tt.total || seq != tt.seq || hl != tt.headerLen || ok != tt.ok {
				t.Errorf("ParseUDH(% X) = %#x, %d, %d, %d, %v; want %#x, %d, %d, %d, %v",
					tt.ud, ref, total, seq, hl, ok, tt.ref, tt.total, tt.seq, tt.headerLen, tt.ok)
			}
		})
	}
}

// firstSplitHeader is the header of the first of 6 parts (400 UCS-2 units)
// with ref 0x7E.
func firstSplitHeader() []byte {
	_, parts := Split(strings.Repeat("ç", 400), 0x7E)
	return parts[0].UDH
}

func TestParseUDHRejectsMalformedOrUnusableHeaders(t *testing.T) {
	tests := []struct {
		name      string
		ud        []byte
		headerLen int // still reported when the framing is sound
	}{
		{"empty user data", nil, 0},
		{"a header length beyond the data", []byte{0x05, 0x00, 0x03, 0x01}, 0},
		{"an element length beyond the header", []byte{0x04, 0x00, 0x05, 0x01, 0x02, 0x01, 0x01}, 0},
		{"an element cut after its identifier", []byte{0x01, 0x00}, 0},
		{"IEI 0x00 with the wrong length", []byte{0x04, 0x00, 0x02, 0x01, 0x02}, 5},
		{"IEI 0x08 with the 8-bit length", []byte{0x05, 0x08, 0x03, 0x01, 0x02, 0x01}, 6},
		{"total of zero", []byte{0x05, 0x00, 0x03, 0x01, 0x00, 0x00}, 6},
		{"seq of zero", []byte{0x05, 0x00, 0x03, 0x01, 0x02, 0x00}, 6},
		{"seq beyond total", []byte{0x05, 0x00, 0x03, 0x01, 0x02, 0x03}, 6},
		{"an empty header", []byte{0x00, 'h', 'i'}, 1},
		{"only a port element", []byte{0x06, 0x05, 0x04, 0x0B, 0x84, 0x23, 0xF0}, 7},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ref, total, seq, hl, ok := ParseUDH(tt.ud)
			if ok || ref != 0 || total != 0 || seq != 0 || hl != tt.headerLen {
				t.Errorf("ParseUDH(% X) = %d, %d, %d, %d, %v; want zeros, headerLen %d, false",
					tt.ud, ref, total, seq, hl, ok, tt.headerLen)
			}
		})
	}
}
