package gsm

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// checkParts verifies what every Split result must satisfy: the parts rejoin
// to s, each part's Data is the encoding of its Text within the limit, and
// the headers are 05 00 03 ref total seq with seq counting from 1.
func checkParts(t *testing.T, s string, ref byte, c Coding, parts []Part) {
	t.Helper()
	var joined strings.Builder
	for i, p := range parts {
		joined.WriteString(p.Text)
		var want []byte
		limit := map[Coding]int{GSM7: gsm7Multi, UCS2: 2 * ucs2Multi}[c]
		if c == GSM7 {
			want, _ = EncodeGSM7(p.Text)
		} else {
			want = EncodeUCS2(p.Text)
		}
		if !bytes.Equal(p.Data, want) {
			t.Fatalf("part %d: Data = % X, want encoding of %q = % X", i+1, p.Data, p.Text, want)
		}
		if len(parts) == 1 {
			if p.UDH != nil {
				t.Fatalf("single part has UDH % X, want nil", p.UDH)
			}
			continue
		}
		if len(p.Data) > limit {
			t.Fatalf("part %d carries %d bytes, over the limit %d", i+1, len(p.Data), limit)
		}
		wantUDH := []byte{0x05, 0x00, 0x03, ref, byte(len(parts)), byte(i + 1)}
		if !bytes.Equal(p.UDH, wantUDH) {
			t.Fatalf("part %d: UDH = % X, want % X", i+1, p.UDH, wantUDH)
		}
	}
	if joined.String() != s {
		t.Fatalf("parts rejoin to %q, want %q", joined.String(), s)
	}
}

// lengths returns each part's size in units: septets for GSM7, UTF-16 units for UCS2.
func lengths(c Coding, parts []Part) []int {
	var n []int
	for _, p := range parts {
		if c == GSM7 {
			n = append(n, len(p.Data))
		} else {
			n = append(n, len(p.Data)/2)
		}
	}
	return n
}

func TestSplitRespectsPartBoundaries(t *testing.T) {
	a, c := strings.Repeat, "ç" // ç is UCS-2 only: one UTF-16 unit each
	tests := []struct {
		name   string
		s      string
		coding Coding
		want   []int
	}{
		{"empty text is one empty GSM7 part", "", GSM7, []int{0}},
		{"160 GSM characters fit one part", a("a", 160), GSM7, []int{160}},
		{"161 GSM characters make 153 + 8", a("a", 161), GSM7, []int{153, 8}},
		{"306 GSM characters fill exactly two parts", a("a", 306), GSM7, []int{153, 153}},
		{"307 GSM characters need a third part", a("a", 307), GSM7, []int{153, 153, 1}},
		{"a euro counts two septets toward 160", a("a", 158) + "€", GSM7, []int{160}},
		{"a euro that overflows 160 forces two parts", a("a", 159) + "€", GSM7, []int{153, 8}},
		{"a euro at 0-based 152 moves whole to the next part", a("a", 152) + "€" + a("b", 10), GSM7, []int{152, 12}},
		{"a euro ending exactly at septet 153 stays", a("a", 151) + "€" + a("b", 10), GSM7, []int{153, 10}},
		{"70 UCS2 units fit one part", a(c, 70), UCS2, []int{70}},
		{"71 UCS2 units make 67 + 4", a(c, 71), UCS2, []int{67, 4}},
		{"134 UCS2 units fill exactly two parts", a(c, 134), UCS2, []int{67, 67}},
		{"an emoji straddling unit 67 moves to the next part", a(c, 66) + "😀" + a(c, 5), UCS2, []int{66, 7}},
		{"an emoji ending exactly at unit 67 stays", a(c, 65) + "😀" + a(c, 5), UCS2, []int{67, 5}},
		{"35 emoji are 70 units, one part", a("😀", 35), UCS2, []int{70}},
		{"one c cedilla turns GSM text into UCS2", a("a", 100) + "ç", UCS2, []int{67, 34}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, parts := Split(tt.s, 0x2A)
			if c != tt.coding {
				t.Fatalf("coding = %v, want %v", c, tt.coding)
			}
			if got := lengths(c, parts); !equalInts(got, tt.want) {
				t.Fatalf("part sizes = %v, want %v", got, tt.want)
			}
			checkParts(t, tt.s, 0x2A, c, parts)
			if sc, n := Segments(tt.s); sc != c || n != len(parts) {
				t.Errorf("Segments = %v, %d; Split gave %v, %d", sc, n, c, len(parts))
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestSplitHeadersCarryRefTotalAndSeqFromOne(t *testing.T) {
	_, parts := Split(strings.Repeat("x", 400), 0xFE)
	want := [][]byte{
		{0x05, 0x00, 0x03, 0xFE, 0x03, 0x01},
		{0x05, 0x00, 0x03, 0xFE, 0x03, 0x02},
		{0x05, 0x00, 0x03, 0xFE, 0x03, 0x03},
	}
	if len(parts) != len(want) {
		t.Fatalf("got %d parts, want %d", len(parts), len(want))
	}
	for i := range want {
		if !bytes.Equal(parts[i].UDH, want[i]) {
			t.Errorf("part %d UDH = % X, want % X", i+1, parts[i].UDH, want[i])
		}
	}
}

func TestSplitPartsDoNotShareWritableMemory(t *testing.T) {
	_, parts := Split(strings.Repeat("y", 200), 1)
	next, nextUDH := string(parts[1].Data), string(parts[1].UDH)
	_ = append(parts[0].Data, 'Z')
	_ = append(parts[0].UDH, 'Z')
	if string(parts[1].Data) != next || string(parts[1].UDH) != nextUDH {
		t.Error("appending to part 1 overwrote part 2")
	}
}

func TestSplitRefusesTextsBeyond255Parts(t *testing.T) {
	max := strings.Repeat("a", MaxParts*gsm7Multi)
	if c, parts := Split(max, 9); c != GSM7 || len(parts) != MaxParts {
		t.Fatalf("Split of %d septets = %v, %d parts; want GSM7, %d", len(max), c, len(parts), MaxParts)
	}
	over := max + "a"
	if _, parts := Split(over, 9); parts != nil {
		t.Errorf("Split of %d septets gave %d parts, want nil", len(over), len(parts))
	}
	if _, n := Segments(over); n != MaxParts+1 {
		t.Errorf("Segments = %d, want %d so callers can reject it", n, MaxParts+1)
	}
	// 19507 euros are 39014 septets, under 255*153, but keeping each ESC
	// pair whole leaves 76 euros (152 septets) per part: 257 parts.
	euros := strings.Repeat("€", 19507)
	if _, parts := Split(euros, 9); parts != nil {
		t.Errorf("Split of 19507 euros gave %d parts, want nil", len(parts))
	}
	if _, n := Segments(euros); n != 257 {
		t.Errorf("Segments of 19507 euros = %d, want 257", n)
	}
}

// mixed draws from every class Split treats differently: basic GSM,
// extension (2 septets), UCS2-only BMP, and astral (2 UTF-16 units).
var mixed = []rune("aZ0 @£\nΔ€{}[]~^|\\çñωé谢😀🎉")

func TestSegmentsAgreesWithSplitOnRandomTexts(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 38))
	for i := 0; i < 3000; i++ {
		// Mostly GSM text with a rare UCS2 rune, as real messages look.
		n := rng.IntN(500)
		gsmOnly := rng.IntN(2) == 0
		rs := make([]rune, n)
		for j := range rs {
			k := rng.IntN(len(mixed))
			for gsmOnly && lookup(mixed[k]) == 0 {
				k = rng.IntN(len(mixed))
			}
			rs[j] = mixed[k]
		}
		s := string(rs)
		c, parts := Split(s, byte(i))
		checkParts(t, s, byte(i), c, parts)
		if sc, n := Segments(s); sc != c || n != len(parts) {
			t.Fatalf("Segments(%q) = %v, %d; Split gave %v, %d", s, sc, n, c, len(parts))
		}
	}
}

func TestSegmentsDoesNotAllocate(t *testing.T) {
	s := strings.Repeat("Dear member, €5 off! ", 20)
	if n := testing.AllocsPerRun(100, func() { Segments(s) }); n != 0 {
		t.Errorf("Segments allocates %v times per call, want 0", n)
	}
}
