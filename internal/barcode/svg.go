package barcode

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"
)

// svgFontSize makes monospace digits about glyphH modules tall (digit height
// is ~0.7em in common monospace faces) and about glyphAdvance modules apart
// (advance is ~0.6em), matching the PNG's text line.
const svgFontSize = 10

// SVG writes a standalone SVG of content encoded in sym, digits underneath.
// The viewBox is in modules and width/height default to 3 px per module, the
// same size as PNG at the default scale. Bars are <rect>s with crisp edges and
// the digits a <text> in the generic monospace family, so the document has no
// external references. Content is XML-escaped, so the output is well-formed
// and can be inlined into HTML as is.
func SVG(w io.Writer, content string, sym Symbology) error {
	l, err := newLayout(content, sym)
	if err != nil {
		return err
	}

	var b strings.Builder
	label := escape(l.text)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img" aria-label="%s">`+"\n",
		l.width*defaultScale, l.height*defaultScale, l.width, l.height, label)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/>`+"\n", l.width, l.height)
	b.WriteString(`<g fill="#000">` + "\n")
	l.bars(func(x, w int) {
		fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d"/>`+"\n", x, barTop, w, barHeight)
	})
	b.WriteString("</g>\n")
	fmt.Fprintf(&b, `<text x="%g" y="%d" font-family="monospace" font-size="%d" text-anchor="middle" fill="#000">%s</text>`+"\n",
		float64(l.width)/2, textTop+glyphH, svgFontSize, label)
	b.WriteString("</svg>\n")

	_, err = io.WriteString(w, b.String())
	return err
}

// escape XML-escapes s for use in both text and double-quoted attributes.
func escape(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s)) // strings.Builder never fails
	return b.String()
}
