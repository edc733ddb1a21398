package gsm

import (
	"bytes"
	"testing"
	"unicode/utf8"
)

// Seeds beyond these live in testdata/fuzz/<Target>/.

func FuzzDecodeGSM7(f *testing.F) {
	f.Add([]byte("hello"))
	f.Add([]byte{0x1B, 0x65, 0x1B})
	f.Add([]byte{0x1B, 0x1B, 0x1B, 0x41, 0x80})
	f.Fuzz(func(t *testing.T, septets []byte) {
		s, err := DecodeGSM7(septets)
		if err != nil {
			return
		}
		if !utf8.ValidString(s) {
			t.Fatalf("DecodeGSM7(% X) = %q, not valid UTF-8", septets, s)
		}
		// Whatever decodes must be encodable, and a second trip is stable.
		enc, err := EncodeGSM7(s)
		if err != nil {
			t.Fatalf("EncodeGSM7(DecodeGSM7(% X) = %q): %v", septets, s, err)
		}
		s2, err := DecodeGSM7(enc)
		if err != nil || s2 != s {
			t.Fatalf("decode(encode(%q)) = %q, %v", s, s2, err)
		}
		// The same bytes read as packed octets: never panics, stays 7-bit.
		for fill := 0; fill <= 6; fill++ {
			out := Unpack(septets, len(septets), fill)
			for _, v := range out {
				if v > 0x7F {
					t.Fatalf("Unpack produced septet %#x", v)
				}
			}
			if back := Unpack(Pack(out, fill), len(out), fill); !bytes.Equal(back, out) {
				t.Fatalf("Unpack(Pack(% X, %d)) = % X", out, fill, back)
			}
		}
	})
}

func FuzzSplit(f *testing.F) {
	f.Add("Hello, your points balance is 1200.", byte(1))
	f.Add("€uro {deal} ç 😀", byte(255))
	f.Fuzz(func(t *testing.T, s string, ref byte) {
		// Invalid UTF-8 is checked too: parts are cut from the bytes of s,
		// so they must still rejoin to it.
		c, parts := Split(s, ref)
		sc, n := Segments(s)
		if sc != c {
			t.Fatalf("Segments coding %v, Split coding %v", sc, c)
		}
		if parts == nil {
			if n <= MaxParts {
				t.Fatalf("Split gave no parts for a %d-part text", n)
			}
			return
		}
		if n != len(parts) {
			t.Fatalf("Segments = %d, Split gave %d parts", n, len(parts))
		}
		checkParts(t, s, ref, c, parts)
		if len(parts) == 1 {
			limit := map[Coding]int{GSM7: gsm7Single, UCS2: 2 * ucs2Single}[c]
			if len(parts[0].Data) > limit {
				t.Fatalf("single part carries %d bytes, over %d", len(parts[0].Data), limit)
			}
		}
		if c == UCS2 && utf8.ValidString(s) {
			for _, p := range parts {
				if DecodeUCS2(p.Data) != p.Text {
					t.Fatalf("part %q does not decode back from its data", p.Text)
				}
			}
		}
	})
}

func FuzzParseUDH(f *testing.F) {
	f.Add([]byte{0x05, 0x00, 0x03, 0x2A, 0x02, 0x01, 'h', 'i'})
	f.Add([]byte{0x06, 0x08, 0x04, 0x12, 0x34, 0x02, 0x02})
	f.Fuzz(func(t *testing.T, ud []byte) {
		ref, total, seq, hl, ok := ParseUDH(ud)
		if hl < 0 || hl > len(ud) {
			t.Fatalf("headerLen %d outside 0..%d", hl, len(ud))
		}
		if hl != 0 && hl != int(ud[0])+1 {
			t.Fatalf("headerLen %d, but UDHL says %d", hl, int(ud[0])+1)
		}
		if !ok {
			if ref != 0 || total != 0 || seq != 0 {
				t.Fatalf("not ok but returned ref %d total %d seq %d", ref, total, seq)
			}
			return
		}
		if hl < 6 || total == 0 || seq == 0 || seq > total {
			t.Fatalf("ok with headerLen %d total %d seq %d", hl, total, seq)
		}
	})
}

func FuzzDecodeUCS2(f *testing.F) {
	f.Add([]byte{0xD8, 0x3D, 0xDE, 0x00, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		s := DecodeUCS2(b)
		if !utf8.ValidString(s) {
			t.Fatalf("DecodeUCS2(% X) = %q, not valid UTF-8", b, s)
		}
		// Re-encoding the decoded text is a fixed point.
		if s2 := DecodeUCS2(EncodeUCS2(s)); s2 != s {
			t.Fatalf("decode(encode(%q)) = %q", s, s2)
		}
	})
}
