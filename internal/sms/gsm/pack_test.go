package gsm

import (
	"bytes"
	"math/rand/v2"
	"testing"
)

func TestPackMatchesTheClassicHellohelloVector(t *testing.T) {
	sep, err := EncodeGSM7("hellohello")
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{0xE8, 0x32, 0x9B, 0xFD, 0x46, 0x97, 0xD9, 0xEC, 0x37}
	if got := Pack(sep, 0); !bytes.Equal(got, want) {
		t.Errorf("Pack(hellohello) = % X, want % X", got, want)
	}
	if got := Unpack(want, 10, 0); !bytes.Equal(got, sep) {
		t.Errorf("Unpack = % X, want % X", got, sep)
	}
}

func TestPackWithFillBitsShiftsTheSeptetsPastTheHeader(t *testing.T) {
	// After a 6-octet concatenation header one fill bit aligns the text to
	// septet 7; 'A' (0x41) then sits in bits 1..7 of the first octet.
	tests := []struct {
		septets []byte
		fill    int
		want    []byte
	}{
		{[]byte{0x41}, 1, []byte{0x82}},
		{[]byte{0x41}, 0, []byte{0x41}},
		{[]byte{0x7F}, 6, []byte{0xC0, 0x1F}},
		{[]byte{0x7F, 0x7F}, 2, []byte{0xFC, 0xFF}},
		{[]byte{0x7F, 0x7F}, 3, []byte{0xF8, 0xFF, 0x01}},
		{nil, 3, []byte{}}, // no septet, so nothing to align
	}
	for _, tt := range tests {
		got := Pack(tt.septets, tt.fill)
		if !bytes.Equal(got, tt.want) {
			t.Errorf("Pack(% X, %d) = % X, want % X", tt.septets, tt.fill, got, tt.want)
		}
	}
}

func TestPackUnpackRoundTripsEveryLengthAndFill(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 38))
	for n := 0; n <= 200; n++ {
		sep := make([]byte, n)
		for i := range sep {
			sep[i] = byte(rng.IntN(128))
		}
		for fill := 0; fill <= 6; fill++ {
			packed := Pack(sep, fill)
			want := (fill + 7*n + 7) / 8
			if n == 0 {
				want = 0
			}
			if len(packed) != want {
				t.Fatalf("len(Pack(n=%d, fill=%d)) = %d, want %d", n, fill, len(packed), want)
			}
			if fill > 0 && n > 0 && packed[0]&(1<<fill-1) != 0 {
				t.Fatalf("fill bits of Pack(n=%d, fill=%d) are not zero: %08b", n, fill, packed[0])
			}
			if got := Unpack(packed, n, fill); !bytes.Equal(got, sep) {
				t.Fatalf("Unpack(Pack(n=%d, fill=%d)) = % X, want % X", n, fill, got, sep)
			}
		}
	}
}

func TestPackIgnoresTheEighthBitSoNeighboursSurvive(t *testing.T) {
	got := Unpack(Pack([]byte{0xC1, 0x42}, 0), 2, 0)
	if !bytes.Equal(got, []byte{0x41, 0x42}) {
		t.Errorf("round trip of 0xC1 0x42 = % X, want 41 42", got)
	}
}

func TestUnpackReturnsOnlyTheSeptetsWhollyPresent(t *testing.T) {
	packed := Pack([]byte("ABCDEFGH"), 0) // 7 octets
	tests := []struct {
		name   string
		octets []byte
		count  int
		fill   int
		want   []byte
	}{
		{"a count beyond the data is truncated", packed[:3], 8, 0, []byte("ABC")},
		{"a count of zero gives nothing", packed, 0, 0, []byte{}},
		{"a negative count gives nothing", packed, -5, 0, []byte{}},
		{"no octets give nothing", nil, 4, 6, []byte{}},
		{"fill bits larger than the data give nothing", []byte{0xFF}, 1, 6, []byte{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Unpack(tt.octets, tt.count, tt.fill)
			if !bytes.Equal(got, tt.want) {
				t.Errorf("Unpack(% X, %d, %d) = % X, want % X", tt.octets, tt.count, tt.fill, got, tt.want)
			}
		})
	}
}

func TestPackAndUnpackPanicOnFillBitsOutside0To6(t *testing.T) {
	for _, fill := range []int{-1, 7, 8} {
		for name, f := range map[string]func(){
			"Pack":   func() { Pack([]byte{1}, fill) },
			"Unpack": func() { Unpack([]byte{1}, 1, fill) },
		} {
			func() {
				defer func() {
					if recover() == nil {
						t.Errorf("%s with fillBits %d did not panic", name, fill)
					}
				}()
				f()
			}()
		}
	}
}
