package phone

import "testing"

func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		if _, err := Parse("07400 123456", "GB"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkTimeZone(b *testing.B) {
	n := Number("+447400123456")
	for b.Loop() {
		if n.TimeZone() == "" {
			b.Fatal("no zone")
		}
	}
}
