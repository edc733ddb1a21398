package gsm

import "testing"

// wantBasic is the default alphabet as Unicode code points, written out from
// the Unicode consortium's GSM0338 mapping layout (one row per high nibble)
// rather than copied from basic, so a transcription slip in either shows up.
// -1 is ESC, which has no character of its own.
var wantBasic = [8][16]rune{
	{0x40, 0xA3, 0x24, 0xA5, 0xE8, 0xE9, 0xF9, 0xEC, 0xF2, 0xC7, 0x0A, 0xD8, 0xF8, 0x0D, 0xC5, 0xE5},
	{0x394, 0x5F, 0x3A6, 0x393, 0x39B, 0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398, 0x39E, -1, 0xC6, 0xE6, 0xDF, 0xC9},
	{0x20, 0x21, 0x22, 0x23, 0xA4, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2A, 0x2B, 0x2C, 0x2D, 0x2E, 0x2F},
	{0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x3B, 0x3C, 0x3D, 0x3E, 0x3F},
	{0xA1, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49, 0x4A, 0x4B, 0x4C, 0x4D, 0x4E, 0x4F},
	{0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0xC4, 0xD6, 0xD1, 0xDC, 0xA7},
	{0xBF, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6A, 0x6B, 0x6C, 0x6D, 0x6E, 0x6F},
	{0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0xE4, 0xF6, 0xF1, 0xFC, 0xE0},
}

// wantExtension is the whole extension table; every other position is undefined.
var wantExtension = map[byte]rune{
	0x0A: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2F: '\\',
	0x3C: '[', 0x3D: '~', 0x3E: ']', 0x40: '|', 0x65: '€',
}

func TestBasicTableMatchesTS23038InAll128Positions(t *testing.T) {
	for i, want := range wantBasic {
		for j, r := range want {
			if got := basic[i*16+j]; got != r {
				t.Errorf("basic[0x%02X] = %U, want %U", i*16+j, got, r)
			}
		}
	}
}

func TestExtensionTableDefinesExactlyTheTenCharacters(t *testing.T) {
	for i, got := range extension {
		want, ok := wantExtension[byte(i)]
		if !ok {
			want = noRune
		}
		if got != want {
			t.Errorf("extension[0x%02X] = %U, want %U", i, got, want)
		}
	}
}

func TestWellKnownCharactersEncodeToTheirSpecPositions(t *testing.T) {
	tests := []struct {
		r    rune
		want []byte
	}{
		{'@', []byte{0x00}}, {'£', []byte{0x01}}, {'$', []byte{0x02}},
		{'è', []byte{0x04}}, {'Ç', []byte{0x09}}, {'\n', []byte{0x0A}},
		{'\r', []byte{0x0D}}, {'Δ', []byte{0x10}}, {'_', []byte{0x11}},
		{'Ξ', []byte{0x1A}}, {'Æ', []byte{0x1C}}, {'ß', []byte{0x1E}},
		{'É', []byte{0x1F}}, {' ', []byte{0x20}}, {'¤', []byte{0x24}},
		{'¡', []byte{0x40}}, {'Ä', []byte{0x5B}}, {'§', []byte{0x5F}},
		{'¿', []byte{0x60}}, {'ä', []byte{0x7B}}, {'à', []byte{0x7F}},
		{'€', []byte{0x1B, 0x65}}, {'\f', []byte{0x1B, 0x0A}},
		{'^', []byte{0x1B, 0x14}}, {'{', []byte{0x1B, 0x28}},
		{'}', []byte{0x1B, 0x29}}, {'\\', []byte{0x1B, 0x2F}},
		{'[', []byte{0x1B, 0x3C}}, {'~', []byte{0x1B, 0x3D}},
		{']', []byte{0x1B, 0x3E}}, {'|', []byte{0x1B, 0x40}},
	}
	for _, tt := range tests {
		got, err := EncodeGSM7(string(tt.r))
		if err != nil || string(got) != string(tt.want) {
			t.Errorf("EncodeGSM7(%q) = % X, %v; want % X", tt.r, got, err, tt.want)
		}
	}
}

func TestChoosePicksGSM7OnlyWhenEveryRuneIsInTheAlphabet(t *testing.T) {
	tests := []struct {
		name string
		s    string
		want Coding
	}{
		{"empty text is GSM7", "", GSM7},
		{"plain ASCII letters are GSM7", "Your points: 1200", GSM7},
		{"extension characters are GSM7", "€5 off {today} [x] ~|^\\", GSM7},
		{"Greek capitals of the table are GSM7", "ΔΦΓΛΩΠΨΣΘΞ", GSM7},
		{"capital C cedilla is GSM7", "Ça va", GSM7},
		{"lowercase c cedilla forces UCS2", "garçon", UCS2},
		{"lowercase Greek forces UCS2", "ω", UCS2},
		{"Greek capital alpha is not Latin A", "Α", UCS2},
		{"backtick forces UCS2", "`", UCS2},
		{"tab forces UCS2", "a\tb", UCS2},
		{"emoji forces UCS2", "Thanks 🎉", UCS2},
		{"CJK forces UCS2", "谢谢", UCS2},
		{"invalid UTF-8 forces UCS2", "ab\xff", UCS2},
		{"U+FFFD forces UCS2", "\uFFFD", UCS2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Choose(tt.s); got != tt.want {
				t.Errorf("Choose(%q) = %v, want %v", tt.s, got, tt.want)
			}
		})
	}
}

func TestSeptetsCountsExtensionCharactersTwice(t *testing.T) {
	tests := []struct {
		s    string
		want int
		ok   bool
	}{
		{"", 0, true},
		{"hello", 5, true},
		{"€", 2, true},
		{"a{b}c", 7, true},
		{"Ωß\r\n", 4, true},
		{"ç", 0, false},
		{"ok 😀", 0, false},
	}
	for _, tt := range tests {
		n, ok := Septets(tt.s)
		if n != tt.want || ok != tt.ok {
			t.Errorf("Septets(%q) = %d, %v; want %d, %v", tt.s, n, ok, tt.want, tt.ok)
		}
	}
}

func TestCodingStringNamesTheCoding(t *testing.T) {
	for c, want := range map[Coding]string{GSM7: "GSM7", UCS2: "UCS2", 7: "Coding(7)"} {
		if got := c.String(); got != want {
			t.Errorf("Coding(%d).String() = %q, want %q", int(c), got, want)
		}
	}
}
