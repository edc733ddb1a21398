package gsm

// Per-part capacities (TS 23.040 section 9.2.3.24.1). A single SMS carries
// 140 octets of user data; the 6-octet concatenation header takes 7 septets
// (48 bits plus 1 fill bit) or 3 UTF-16 units of that.
const (
	gsm7Single = 160
	gsm7Multi  = 153
	ucs2Single = 70
	ucs2Multi  = 67
)

// MaxParts is the most parts a concatenated message can have: the header
// counts them in one octet.
const MaxParts = 255

// Part is one SMS of a possibly concatenated message.
type Part struct {
	UDH  []byte // nil for a single-part message; else 05 00 03 ref total seq (8-bit reference, IEI 0x00)
	Text string // the text of this part
	Data []byte // the encoded user data without UDH: unpacked septets for GSM7 (one byte per septet, as SMPP short_message with data_coding 0 carries them), UTF-16BE for UCS2
}

// Split encodes s and splits it into parts: GSM7 single part up to 160
// septets, else parts of at most 153 septets, never splitting an ESC+char
// pair across parts; UCS2 single part up to 70 UTF-16 units, else at most 67
// units per part, never splitting a surrogate pair. ref is the concatenation
// reference number (the caller keeps a counter). It also returns the coding
// chosen. The empty string gives one part with empty text.
//
// A text needing more than MaxParts parts cannot be concatenated, so Split
// returns nil parts for it rather than send parts no handset can join (and
// that would be billed). Callers check Segments against MaxParts first to
// report the error.
//
// Parts are cut on rune boundaries only; a grapheme cluster made of several
// runes (a flag, a ZWJ emoji sequence, a letter with a combining accent) may
// be split across parts, as most senders do.
func Split(s string, ref byte) (Coding, []Part) {
	c, units := measure(s)
	if units <= single(c) {
		if c == GSM7 {
			return c, []Part{{Text: s, Data: encodeGSM7(s, units)}}
		}
		return c, []Part{{Text: s, Data: encodeUCS2(s, units)}}
	}
	limit := gsm7Multi
	if c == UCS2 {
		limit = ucs2Multi
	}
	if (units+limit-1)/limit > MaxParts {
		return c, nil // certainly too long; skip the work below
	}
	var parts []Part
	if c == GSM7 {
		parts = splitGSM7(s, units)
	} else {
		parts = splitUCS2(s, units)
	}
	if len(parts) > MaxParts {
		return c, nil
	}
	udh := make([]byte, 6*len(parts)) // one allocation for all headers
	for k := range parts {
		h := udh[6*k : 6*k+6 : 6*k+6]
		h[0], h[1], h[2], h[3], h[4], h[5] = 5, 0x00, 3, ref, byte(len(parts)), byte(k+1)
		parts[k].UDH = h
	}
	return c, parts
}

// splitGSM7 encodes s, which takes units septets, into parts of at most
// gsm7Multi septets. It and splitUCS2 are written out per coding, writing
// into an exactly sized buffer, because a per-rune coding switch and append
// made Split about 30% slower on the benchmark.
func splitGSM7(s string, units int) []Part {
	data := make([]byte, units)
	parts := make([]Part, 0, estimateParts(units, gsm7Multi))
	pc := partCounter{limit: gsm7Multi}
	start, off, n := 0, 0, 0
	for i, r := range s {
		v := lookup(r)
		w := 1
		if v&inExtension != 0 {
			w = 2
		}
		if pc.add(w) {
			parts = append(parts, part(s, data, start, i, off, n))
			start, off = i, n
		}
		n += putSeptets(data[n:], v)
	}
	return append(parts, part(s, data, start, len(s), off, n))
}

// splitUCS2 encodes s, which takes units UTF-16 units, into parts of at
// most ucs2Multi units.
func splitUCS2(s string, units int) []Part {
	data := make([]byte, 2*units)
	parts := make([]Part, 0, estimateParts(units, ucs2Multi))
	pc := partCounter{limit: ucs2Multi}
	start, off, n := 0, 0, 0
	for i, r := range s {
		if pc.add(ucs2Width(r)) {
			parts = append(parts, part(s, data, start, i, off, n))
			start, off = i, n
		}
		n += putUTF16(data[n:], r)
	}
	return append(parts, part(s, data, start, len(s), off, n))
}

// estimateParts sizes the parts slice: only a kept-together pair leaves a
// part a unit short, so one spare slot is rarely exceeded.
func estimateParts(units, limit int) int { return (units+limit-1)/limit + 1 }

// part makes a Part of s[start:end] whose encoding is data[off:n]. The full
// slice expression stops an append to one part's Data from overwriting the
// next part in the shared buffer.
func part(s string, data []byte, start, end, off, n int) Part {
	return Part{Text: s[start:end], Data: data[off:n:n]}
}

// Segments returns how many parts Split would produce, without allocating
// the parts (used for cost estimates and the segment count recorded per
// message). Unlike Split it reports counts above MaxParts, so callers can
// reject such texts.
func Segments(s string) (Coding, int) {
	g := partCounter{limit: gsm7Multi}
	for _, r := range s {
		v := lookup(r)
		if v == 0 {
			// Not GSM-7 after all: count again in UTF-16 units.
			u := partCounter{limit: ucs2Multi}
			for _, r := range s {
				u.add(ucs2Width(r))
			}
			return UCS2, u.count(ucs2Single)
		}
		w := 1
		if v&inExtension != 0 {
			w = 2
		}
		g.add(w)
	}
	return GSM7, g.count(gsm7Single)
}

// partCounter is the one place that decides where a part ends, shared by
// Split and Segments so the two agree by construction.
type partCounter struct {
	limit int // units per part of a concatenated message
	width int // units in the current part
	parts int // parts started so far
	total int // units in all
}

// add accounts for one character of w units (1, or 2 for an ESC pair or a
// surrogate pair) and reports whether it starts a new part. A character
// that does not fit moves whole to the next part.
func (p *partCounter) add(w int) bool {
	p.total += w
	if p.parts == 0 || p.width+w > p.limit {
		p.parts++
		p.width = w
		return p.parts > 1
	}
	p.width += w
	return false
}

// count returns the number of parts: one if everything fits a single SMS
// of singleLimit units (or the text is empty), else the concatenated count.
func (p *partCounter) count(singleLimit int) int {
	if p.total <= singleLimit {
		return 1
	}
	return p.parts
}

// measure chooses the coding and returns the length of s in its units:
// septets for GSM7, UTF-16 code units for UCS2.
func measure(s string) (Coding, int) {
	if n, ok := Septets(s); ok {
		return GSM7, n
	}
	return UCS2, ucs2Units(s)
}

func single(c Coding) int {
	if c == GSM7 {
		return gsm7Single
	}
	return ucs2Single
}
