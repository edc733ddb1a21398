package barcode

// Geometry shared by the PNG and SVG renderers, in modules (the width of the
// narrowest bar). PNG multiplies by the scale; SVG uses modules as its viewBox
// units, so both outputs have identical proportions.
const (
	quietZone    = 10 // Code 128 requires 10 modules, EAN-8 7; use the larger for both
	marginTop    = 5  // keeps bars off the edge when the image is placed flush
	barHeight    = 60 // roughly the GS1 nominal aspect for an 8-digit symbol
	textGap      = 3  // clearance so scanners do not read glyphs as bars
	marginBottom = 5

	// The human-readable line uses a 5x7 cell font with one module per font
	// pixel and one blank column between glyphs (see font.go).
	glyphW       = 5
	glyphH       = 7
	glyphAdvance = glyphW + 1
)

// layout places the bars and the human-readable text on the canvas.
type layout struct {
	mods          []bool // module pattern, true = bar
	text          string // human-readable line; the content itself
	width, height int    // canvas size
	barX          int    // x of the first module
	textX         int    // x of the first glyph's left edge
}

// Vertical positions do not depend on the content.
const (
	barTop  = marginTop
	textTop = barTop + barHeight + textGap
	canvasH = textTop + glyphH + marginBottom
)

// newLayout encodes content and centres bars and text horizontally. The canvas
// is widened if the text is wider than the bars (possible only for long
// all-digit Code 128 content, where code set C packs two digits per symbol),
// so the quiet zones are never eaten into.
func newLayout(content string, sym Symbology) (layout, error) {
	mods, err := modules(content, sym)
	if err != nil {
		return layout{}, err
	}
	textW := len(content)*glyphAdvance - 1
	inner := max(len(mods), textW)
	width := inner + 2*quietZone
	return layout{
		mods:   mods,
		text:   content,
		width:  width,
		height: canvasH,
		barX:   (width - len(mods)) / 2,
		textX:  (width - textW) / 2,
	}, nil
}

// bars calls fn for each run of consecutive bar modules, with the run's start
// (in canvas modules) and width. Merging runs keeps the SVG small and avoids
// hairline seams between adjacent rects in anti-aliasing viewers.
func (l layout) bars(fn func(x, w int)) {
	for i := 0; i < len(l.mods); {
		if !l.mods[i] {
			i++
			continue
		}
		j := i
		for j < len(l.mods) && l.mods[j] {
			j++
		}
		fn(l.barX+i, j-i)
		i = j
	}
}
