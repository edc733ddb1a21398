package barcode

// A hand-drawn 5x7 bitmap font for the human-readable line of the PNG, so the
// package needs no font dependency. Member codes are digits; anything else
// (Code 128 allows printable ASCII) is drawn as an outlined box rather than
// left blank, so a reader can see that a character is there.
var digitGlyphs = [10][glyphH]string{
	{
		".###.",
		"#...#",
		"#..##",
		"#.#.#",
		"##..#",
		"#...#",
		".###.",
	},
	{
		"..#..",
		".##..",
		"..#..",
		"..#..",
		"..#..",
		"..#..",
		".###.",
	},
	{
		".###.",
		"#...#",
		"....#",
		"...#.",
		"..#..",
		".#...",
		"#####",
	},
	{
		"#####",
		"...#.",
		"..#..",
		"...#.",
		"....#",
		"#...#",
		".###.",
	},
	{
		"...#.",
		"..##.",
		".#.#.",
		"#..#.",
		"#####",
		"...#.",
		"...#.",
	},
	{
		"#####",
		"#....",
		"####.",
		"....#",
		"....#",
		"#...#",
		".###.",
	},
	{
		"..##.",
		".#...",
		"#....",
		"####.",
		"#...#",
		"#...#",
		".###.",
	},
	{
		"#####",
		"....#",
		"...#.",
		"..#..",
		".#...",
		".#...",
		".#...",
	},
	{
		".###.",
		"#...#",
		"#...#",
		".###.",
		"#...#",
		"#...#",
		".###.",
	},
	{
		".###.",
		"#...#",
		"#...#",
		".####",
		"....#",
		"...#.",
		".##..",
	},
}

// unknownGlyph stands in for characters outside 0-9; a space stays blank.
var unknownGlyph = [glyphH]string{
	"#####",
	"#...#",
	"#...#",
	"#...#",
	"#...#",
	"#...#",
	"#####",
}

var blankGlyph = [glyphH]string{}

// glyph returns the bitmap for c; '#' marks an ink pixel.
func glyph(c byte) *[glyphH]string {
	switch {
	case c >= '0' && c <= '9':
		return &digitGlyphs[c-'0']
	case c == ' ':
		return &blankGlyph
	}
	return &unknownGlyph
}
