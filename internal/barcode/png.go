package barcode

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"sync"
)

const (
	defaultScale = 3
	maxScale     = 10
)

// Palette indices: a two-colour palette makes image/png write a 1-bit image,
// which is both the smallest file and exactly black-on-white for scanners.
const (
	white = 0
	black = 1
)

var palette = color.Palette{white: color.White, black: color.Black}

// PNG writes a PNG of content encoded in sym, digits underneath. scale is the
// module width in pixels (1..10; 0 means the default, 3). The image has quiet
// zones of at least 10 modules on both sides, black bars on white, and the
// content printed centred under the bars in a built-in bitmap font.
func PNG(w io.Writer, content string, sym Symbology, scale int) error {
	if scale == 0 {
		scale = defaultScale
	}
	if scale < 1 || scale > maxScale {
		return fmt.Errorf("barcode: scale %d out of range 1..%d", scale, maxScale)
	}
	l, err := newLayout(content, sym)
	if err != nil {
		return err
	}

	// A new Paletted image is all index 0, i.e. already white.
	img := image.NewPaletted(image.Rect(0, 0, l.width*scale, l.height*scale), palette)

	// Every bar row is identical: draw one, then copy it down.
	first := img.Pix[barTop*scale*img.Stride:][:img.Stride]
	l.bars(func(x, w int) {
		fill(first[x*scale : (x+w)*scale])
	})
	for y := 1; y < barHeight*scale; y++ {
		copy(img.Pix[(barTop*scale+y)*img.Stride:], first)
	}

	for i := 0; i < len(l.text); i++ {
		g := glyph(l.text[i])
		x0 := l.textX + i*glyphAdvance
		for gy, line := range g {
			for gx := 0; gx < len(line); gx++ {
				if line[gx] == '#' {
					square(img, (x0+gx)*scale, (textTop+gy)*scale, scale)
				}
			}
		}
	}
	return encoder.Encode(w, img)
}

// encoder reuses image/png's buffers (mostly the zlib compressor state, which
// is most of the ~0.9 MB an unpooled png.Encode allocates) across calls, since
// a server renders one barcode per request.
var encoder = png.Encoder{BufferPool: new(bufferPool)}

type bufferPool sync.Pool

func (p *bufferPool) Get() *png.EncoderBuffer {
	b, _ := (*sync.Pool)(p).Get().(*png.EncoderBuffer)
	return b
}

func (p *bufferPool) Put(b *png.EncoderBuffer) { (*sync.Pool)(p).Put(b) }

func fill(px []uint8) {
	for i := range px {
		px[i] = black
	}
}

// square blackens the size x size block whose top-left pixel is (x, y).
func square(img *image.Paletted, x, y, size int) {
	for dy := 0; dy < size; dy++ {
		off := img.PixOffset(x, y+dy)
		fill(img.Pix[off : off+size])
	}
}
