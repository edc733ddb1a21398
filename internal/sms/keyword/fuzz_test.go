package keyword

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// Seeds beyond these live in testdata/fuzz/FuzzParse/.

func FuzzParse(f *testing.F) {
	f.Add("stop")
	f.Add("jóin Zoë")
	f.Add("please thank you opt out now")
	tab, err := Default().With(Stop, "ARRÊT", "NE PLUS")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		m := tab.Parse(msg)
		if again := tab.Parse(msg); again != m {
			t.Fatalf("Parse(%q) gave %+v then %+v", msg, m, again)
		}
		if m.Keyword == Unknown {
			if m.Alias != "" {
				t.Fatalf("Parse(%q) = %+v: Unknown with an alias", msg, m)
			}
		} else if e, ok := tab.alias[m.Alias]; !ok || e.k != m.Keyword {
			t.Fatalf("Parse(%q) = %+v: alias not in the table for that keyword", msg, m)
		}
		if len(m.Args) > 160 {
			t.Fatalf("Parse(%q): Args is %d bytes", msg, len(m.Args))
		}
		if utf8.ValidString(msg) && !utf8.ValidString(m.Args) {
			t.Fatalf("Parse(%q): Args %q is not valid UTF-8", msg, m.Args)
		}
		// Stronger than asked: Args is cut from msg even when msg is not UTF-8.
		if !strings.Contains(msg, m.Args) {
			t.Fatalf("Parse(%q): Args %q is not part of the message", msg, m.Args)
		}
		// Surrounding whitespace never changes the reading.
		if padded := tab.Parse(" \t" + msg + "\r\n"); padded != m {
			t.Fatalf("Parse(padded %q) = %+v, Parse = %+v", msg, padded, m)
		}
		for _, w := range Normalize(msg) {
			if w == "" || strings.Contains(w, " ") {
				t.Fatalf("Normalize(%q) gave word %q", msg, w)
			}
		}
	})
}
