package phone

import (
	"syscall"
	"testing"
	"time"
)

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

// BenchmarkParseZone is what an import asks of every row, through the fast
// path and through libphonenumber alone (the "before"), over the forms a
// CRM file holds.
func BenchmarkParseZone(b *testing.B) {
	inputs := []string{"07400 123456", "+44 7400 123456", "07412345678", "0044 7412 345678", "+44 (0)7400 123457"}
	b.Run("fast", func(b *testing.B) {
		defer reportCPU(b)()
		i := 0
		for b.Loop() {
			if _, _, err := ParseZone(inputs[i%len(inputs)], "GB"); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("libphonenumber", func(b *testing.B) {
		defer reportCPU(b)()
		i := 0
		for b.Loop() {
			n, num, err := parseLib(inputs[i%len(inputs)], "GB")
			if err != nil || zoneOf(num) == "" || n == "" {
				b.Fatal(err)
			}
			i++
		}
	})
}

// reportCPU reports the process's user+sys CPU per operation, since wall
// time on a shared machine says little.
func reportCPU(b *testing.B) func() {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	return func() { b.ReportMetric(float64(cpu()-start)/float64(b.N), "cpu-ns/op") }
}
