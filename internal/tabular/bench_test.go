package tabular

import (
	"bytes"
	"fmt"
	"io"
	"testing"
)

// BenchmarkReader reads a 100k-row, 10-column member file shaped like a CRM
// export (some quoted values, some non-ASCII) and reports rows/s.
func BenchmarkReader(b *testing.B) {
	const rows = 100_000
	var buf bytes.Buffer
	buf.WriteString("id,first_name,last_name,email,phone,birth_date,city,postcode,points,opt_in\n")
	for i := range rows {
		fmt.Fprintf(&buf, "%d,Zoë,\"O'Brien, Jr\",member%d@example.com,+4477009%05d,1980-01-%02d,Zürich,SW1A 1AA,%d,yes\n",
			i, i, i%100000, i%28+1, i%5000)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		r, err := NewReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		n := 0
		for {
			_, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			n++
		}
		if n != rows {
			b.Fatalf("read %d rows, want %d", n, rows)
		}
	}
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
