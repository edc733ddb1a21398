package tabular

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"testing"
	"unicode/utf8"
)

// FuzzReader checks that any input is read to the end without panics or
// endless loops, with sane records and row numbers, and that wherever
// encoding/csv accepts the whole input, both parsers agree.
func FuzzReader(f *testing.F) {
	for _, s := range []string{
		"a,b\n1,2\n",
		"\uFEFFa;b\r\n\"x;\"\"y\"\"\nz\";2\r\n\r\n3;4",
		"a,b,c\n1,\"2\n3,4,5\n6,\"7\",8\n",
		"a|b\n1|2|||\n\"|\"|\"\n",
		"a\tb\n\xff\t1\n1\"\t2\n",
		"\"\n,\"\n\n1\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := NewReader(bytes.NewReader(data))
		got := checkInvariants(t, r, err, data)
		// Small limits let short fuzz inputs reach the limit paths too.
		rs, err := newReader(bytes.NewReader(data), 16, 32)
		checkInvariants(t, rs, err, data)
		if r != nil {
			if want, ok := csvOutcome(r, data); ok && !slices.Equal(got, want) {
				t.Errorf("disagrees with encoding/csv\ngot  %q\nwant %q", got, want)
			}
		}
	})
}

// checkInvariants drains r and returns its outcome rendered like readAll.
func checkInvariants(t *testing.T, r *Reader, err error, data []byte) []string {
	var he *HeaderError
	if err != nil {
		if r != nil || !(err == ErrNoHeader || err == ErrUnsupportedEncoding || errors.As(err, &he)) {
			t.Fatalf("NewReader = %v, %v", r, err)
		}
		return nil
	}
	lines := bytes.Count(data, []byte("\n")) + 1
	h := len(r.Header())
	var got []string
	last := 1
	for i := 0; ; i++ {
		if i > len(data)+2 {
			t.Fatalf("Next did not reach io.EOF within %d calls", len(data)+2)
		}
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		row := rec.Row
		var re *RowError
		switch {
		case errors.As(err, &re):
			row = re.Row
			got = append(got, fmt.Sprintf("ERR %d", re.Row))
		case err != nil:
			t.Fatalf("Next: unexpected error %v", err)
		case len(rec.Fields) != h:
			t.Fatalf("row %d has %d fields, header has %d", rec.Row, len(rec.Fields), h)
		default:
			got = append(got, fmt.Sprintf("%d %q", rec.Row, rec.Fields))
		}
		if row <= last || row > lines {
			t.Fatalf("row %d after row %d (input has %d lines)", row, last, lines)
		}
		last = row
	}
	if _, err := r.Next(); err != io.EOF {
		t.Fatalf("Next after io.EOF = %v", err)
	}
	return got
}

// csvOutcome predicts what r should return from what encoding/csv parses,
// when encoding/csv accepts the whole input.
func csvOutcome(r *Reader, data []byte) ([]string, bool) {
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\uFEFF"))))
	cr.Comma = r.Delimiter()
	cr.FieldsPerRecord = -1
	if _, err := cr.Read(); err != nil { // the header
		return nil, false
	}
	h := len(r.Header())
	var want []string
	for {
		fields, err := cr.Read()
		if err == io.EOF {
			return want, true
		}
		if err != nil {
			return nil, false
		}
		row, _ := cr.FieldPos(0)
		if !csvRowOK(fields, h) {
			want = append(want, fmt.Sprintf("ERR %d", row))
			continue
		}
		want = append(want, fmt.Sprintf("%d %q", row, fields[:h]))
	}
}

func csvRowOK(fields []string, h int) bool {
	if len(fields) < h {
		return false
	}
	for i, f := range fields {
		if i >= h && f != "" || !utf8.ValidString(f) {
			return false
		}
	}
	return true
}
