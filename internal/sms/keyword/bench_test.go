package keyword

import "testing"

// A realistic mix: clean and messy opt-outs, a join with a name, accents,
// and chatter that matches nothing.
var benchMessages = []string{
	"STOP",
	"  stop please.",
	"Opt-Out",
	"JOIN   Ann-Marie O'Neil",
	"jóin Zoë",
	"bal?",
	"hello, what time do you open on sunday?",
	"👍",
}

func BenchmarkParse(b *testing.B) {
	tab := Default()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		tab.Parse(benchMessages[i%len(benchMessages)])
	}
}
