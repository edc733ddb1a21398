package gsm

import (
	"strings"
	"testing"
)

// A 400-character loyalty message: 3 GSM-7 parts, or 6 UCS-2 parts once a
// single emoji forces UCS-2.
var (
	benchGSM7 = firstRunes(strings.Repeat("Hi Anna, you have 1200 points! Get €5 off today at Perk. ", 8), 400)
	benchUCS2 = firstRunes("🎉 "+strings.Repeat("Hi Anna, you have 1200 points! Get 5 off today at Perk. ", 8), 400)
)

func firstRunes(s string, n int) string { return string([]rune(s)[:n]) }

func TestBenchmarkMessagesAre400Characters(t *testing.T) {
	for _, s := range []string{benchGSM7, benchUCS2} {
		if n := len([]rune(s)); n != 400 {
			t.Errorf("benchmark message has %d characters, want 400", n)
		}
	}
	if c, n := Segments(benchGSM7); c != GSM7 || n != 3 {
		t.Errorf("GSM7 benchmark message: %v, %d parts; want GSM7, 3", c, n)
	}
	if c, n := Segments(benchUCS2); c != UCS2 || n != 6 {
		t.Errorf("UCS2 benchmark message: %v, %d parts; want UCS2, 6", c, n)
	}
}

func BenchmarkSplitGSM7(b *testing.B) {
	b.SetBytes(int64(len(benchGSM7)))
	b.ReportAllocs()
	for b.Loop() {
		Split(benchGSM7, 1)
	}
}

func BenchmarkSplitUCS2(b *testing.B) {
	b.SetBytes(int64(len(benchUCS2)))
	b.ReportAllocs()
	for b.Loop() {
		Split(benchUCS2, 1)
	}
}

func BenchmarkSegmentsGSM7(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		Segments(benchGSM7)
	}
}

func BenchmarkDecodeGSM7(b *testing.B) {
	sep, _ := EncodeGSM7(benchGSM7)
	b.ReportAllocs()
	for b.Loop() {
		DecodeGSM7(sep)
	}
}
