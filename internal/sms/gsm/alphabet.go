package gsm

import "strconv"

// esc is the basic-table septet that switches the next septet to the
// extension table (TS 23.038 section 6.2.1, note 1).
const esc = 0x1B

// noRune marks a septet with no character of its own: ESC in the basic table
// and the undefined positions of the extension table.
const noRune = -1

// basic is the GSM 7-bit default alphabet, indexed by septet (TS 23.038
// section 6.2.1). It is the single source of truth: the encoder tables are
// derived from it so the two directions cannot disagree.
var basic = [128]rune{
	'@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'Ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
	'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', noRune, 'Æ', 'æ', 'ß', 'É',
	' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
	'¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
	'¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
}

// extension is the basic-set extension table (TS 23.038 section 6.2.1.1),
// reached through ESC. Only ten positions are defined; the rest are noRune.
var extension = func() (t [128]rune) {
	for i := range t {
		t[i] = noRune
	}
	t[0x0A] = '\f' // page break, shown as form feed
	t[0x14] = '^'
	t[0x28] = '{'
	t[0x29] = '}'
	t[0x2F] = '\\'
	t[0x3C] = '['
	t[0x3D] = '~'
	t[0x3E] = ']'
	t[0x40] = '|'
	t[0x65] = '€'
	return t
}()

// Encoder table entries: the low 7 bits are the septet; the flags say whether
// the rune is encodable at all (septet 0 is '@', so zero cannot mean "absent")
// and whether it needs ESC first.
const (
	inBasic     = 0x100
	inExtension = 0x200
)

// Above U+00FF the alphabet has only ten Greek capitals, all within
// U+0393..U+03A9, and the euro sign.
const (
	greekFirst = 0x0390
	euro       = '€'
)

// encLatin1 maps every rune below U+0100 to its encoder entry; nearly all
// retail text is in this range, so the hot path is one array index. encGreek
// covers the Greek block the same way and encEuro holds the euro's entry.
// Plain arrays instead of a map keep lookup at a few nanoseconds.
var encLatin1, encGreek, encEuro = buildEncoder()

func buildEncoder() (lo [0x100]uint16, greek [0x20]uint16, eur uint16) {
	put := func(r rune, v uint16) {
		switch {
		case r < 0x100:
			lo[r] = v
		case r == euro:
			eur = v
		default: // the Greek capitals; an index panic here means a table typo
			greek[r-greekFirst] = v
		}
	}
	for i, r := range basic {
		if r != noRune {
			put(r, inBasic|uint16(i))
		}
	}
	for i, r := range extension {
		if r != noRune {
			put(r, inExtension|uint16(i))
		}
	}
	return lo, greek, eur
}

// lookup returns the encoder entry of r, 0 if r is not GSM-7 encodable.
func lookup(r rune) uint16 {
	switch {
	case r >= 0 && r < 0x100:
		return encLatin1[r]
	case r >= greekFirst && r < greekFirst+0x20:
		return encGreek[r-greekFirst]
	case r == euro:
		return encEuro
	}
	return 0
}

// Coding is the data coding a message needs.
type Coding int

// The codings Choose and Split pick between, with the SMPP data_coding
// value each needs.
const (
	GSM7 Coding = iota // data_coding 0x00 (SMSC default alphabet)
	UCS2               // data_coding 0x08
)

// String returns the coding's name, for logs.
func (c Coding) String() string {
	switch c {
	case GSM7:
		return "GSM7"
	case UCS2:
		return "UCS2"
	}
	return "Coding(" + strconv.Itoa(int(c)) + ")"
}

// Choose returns GSM7 if every rune of s is in the GSM 03.38 default
// alphabet or its extension table, else UCS2. Invalid UTF-8 forces UCS2
// because it decodes to U+FFFD, which GSM-7 lacks.
func Choose(s string) Coding {
	if _, ok := Septets(s); ok {
		return GSM7
	}
	return UCS2
}

// Septets returns the number of septets s takes in GSM-7 (extension
// characters count 2: ESC + char), and false if s is not GSM-7 encodable.
func Septets(s string) (int, bool) {
	n := 0
	for _, r := range s {
		switch v := lookup(r); {
		case v&inBasic != 0:
			n++
		case v&inExtension != 0:
			n += 2
		default:
			return 0, false
		}
	}
	return n, true
}
