package barcode

import (
	"bytes"
	"image/png"
	"io"
	"testing"
)

func TestPNGSize(t *testing.T) {
	mods, err := modules("40170725", EAN8)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		scale     int
		wantScale int
		wantErr   bool
	}{
		{scale: 0, wantScale: defaultScale},
		{scale: 1, wantScale: 1},
		{scale: 10, wantScale: 10},
		{scale: -1, wantErr: true},
		{scale: 11, wantErr: true},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		err := PNG(&buf, "40170725", EAN8, tt.scale)
		if tt.wantErr {
			if err == nil {
				t.Errorf("scale %d: want error", tt.scale)
			}
			continue
		}
		if err != nil {
			t.Fatalf("scale %d: %v", tt.scale, err)
		}
		img, err := png.Decode(&buf)
		if err != nil {
			t.Fatalf("scale %d: decoding own output: %v", tt.scale, err)
		}
		wantW := (len(mods) + 2*quietZone) * tt.wantScale
		wantH := canvasH * tt.wantScale
		if b := img.Bounds(); b.Dx() != wantW || b.Dy() != wantH {
			t.Errorf("scale %d: size %dx%d, want %dx%d", tt.scale, b.Dx(), b.Dy(), wantW, wantH)
		}
	}
}

func BenchmarkPNG(b *testing.B) {
	for _, sym := range []Symbology{Code128, EAN8} {
		b.Run(string(sym), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := PNG(io.Discard, "40170725", sym, 0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
