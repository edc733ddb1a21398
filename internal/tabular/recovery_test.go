package tabular

import (
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// Every case ends with good rows: the point is that reading goes on after a
// bad one, with the right row numbers.
func TestReader_ReportsBadRowsAndContinues(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{"short row", "a,b,c,d,e\n1,2,3\n1,2,3,4,5\n", []string{
			"ERR row 2: row has 3 fields, header has 5",
			`3 ["1" "2" "3" "4" "5"]`}},
		{"non-empty extra fields", "a,b\n1,2,,x\n1,2, \n3,4\n", []string{
			"ERR row 2: row has 4 fields, header has 2",
			"ERR row 3: row has 3 fields, header has 2",
			`4 ["3" "4"]`}},
		{"bare quote in the middle row", "id,name,city\n1,Ann,Paris\n2,Bo\"b,Rome\n3,Cy,Oslo\n", []string{
			`2 ["1" "Ann" "Paris"]`,
			"ERR row 3, column name: " + reasonBareQuote,
			`4 ["3" "Cy" "Oslo"]`}},
		{"text after closing quote", "id,name\n1,\"Ann\"x\n2,Bob\n", []string{
			"ERR row 2, column name: " + reasonAfterQuote,
			`3 ["2" "Bob"]`}},
		{"unclosed quote does not swallow the rest of the file", "id,name,city\n1,\"Ann,Paris\n2,Bob,Rome\n3,Cy,Oslo\n", []string{
			"ERR row 2, column name: " + reasonUnclosed,
			`3 ["2" "Bob" "Rome"]`,
			`4 ["3" "Cy" "Oslo"]`}},
		{"stray quote closed by a later quoted value", "id,name,city\n1,\"Ann,Paris\n2,Bob,Rome\n3,\"Cy\",Oslo\n", []string{
			"ERR row 2, column name: " + reasonAfterQuote,
			`3 ["2" "Bob" "Rome"]`,
			`4 ["3" "Cy" "Oslo"]`}},
		{"error after a legitimate multi-line value", "id,note\n1,\"a\nb\"x\n2,ok\n", []string{
			"ERR row 2, column note: " + reasonAfterQuote,
			"ERR row 3, column id: " + reasonBareQuote,
			`4 ["2" "ok"]`}},
		{"stray quotes that balance are reported with their span", "id,name,city\n1,\"Ann,Paris\n2,Bob,Rome\"\n3,Cy,Oslo\n", []string{
			"ERR row 2: row has 2 fields, header has 3 (a quoted value runs from line 2 to 3; check for an unbalanced quote)",
			`4 ["3" "Cy" "Oslo"]`}},
		{"invalid UTF-8 names the column", "id,name,city\n1,Andr\xe9,Paris\n2,Bob,Rome\n", []string{
			"ERR row 2, column name: value is not valid UTF-8 (save the file as CSV UTF-8)",
			`3 ["2" "Bob" "Rome"]`}},
		{"UTF-8 split across two fields is still invalid", "a,b\n\xC3,\xA9\n1,2\n", []string{
			"ERR row 2, column a: value is not valid UTF-8 (save the file as CSV UTF-8)",
			`3 ["1" "2"]`}},
		{"unclosed quote on the last line", "a,b\n1,2\n3,\"4\n", []string{
			`2 ["1" "2"]`,
			"ERR row 3, column b: " + reasonUnclosed}},
		{"bad quoting in an extra field has no column", "a\n1,x\"y\n2\n", []string{
			"ERR row 2: " + reasonBareQuote,
			`3 ["2"]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, got := readAll(t, tt.input)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestReader_LimitsBoundMemoryAndReadingContinues(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{"long line", "a,b\n1,2\n" + strings.Repeat("x", 100) + "\n3,4\n", []string{
			`2 ["1" "2"]`,
			"ERR row 3: line is longer than 64 bytes",
			`4 ["3" "4"]`}},
		{"long last line", "a,b\n" + strings.Repeat("x", 100), []string{
			"ERR row 2: line is longer than 64 bytes"}},
		{"quoted value longer than the limit is replayed", "a,b\n1,\"x\n" + strings.Repeat("2,3\n", 40) + "4,5\n", append(append(
			[]string{"ERR row 2, column b: quoted value is not closed within 128 bytes"},
			repeatRows(3, 40, `["2" "3"]`)...), `43 ["4" "5"]`)},
		{"long line inside a quoted value", "a,b\n1,\"x\n2,3\n" + strings.Repeat("y", 100) + "\n4,5\n", []string{
			"ERR row 2: " + reasonUnclosed + "; line 4 is longer than 64 bytes; lines 2-4 skipped",
			`5 ["4" "5"]`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := newReader(strings.NewReader(tt.input), 64, 128)
			if err != nil {
				t.Fatal(err)
			}
			got := drain(t, r, len(tt.input)+2)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func repeatRows(from, n int, fields string) []string {
	var rows []string
	for i := range n {
		rows = append(rows, strconv.Itoa(from+i)+" "+fields)
	}
	return rows
}

func TestReader_LongLinesBeyondTheBufferAreRead(t *testing.T) {
	long := strings.Repeat("x", 200<<10) // larger than the 64 KiB read buffer
	_, got := readAll(t, "a,b\n1,"+long+"\n2,3\n")
	if len(got) != 2 || got[0] != `2 ["1" "`+long+`"]` || got[1] != `3 ["2" "3"]` {
		t.Errorf("got %d results, first %.40q...", len(got), got)
	}
}

type failingReader struct {
	data string
	err  error
}

func (f *failingReader) Read(p []byte) (int, error) {
	if f.data == "" {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	return n, nil
}

func TestReader_IOErrorIsStickyAndDropsThePartialLine(t *testing.T) {
	boom := errors.New("connection reset")
	r, err := NewReader(&failingReader{data: "a,b\n1,2\n3,tru", err: boom})
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := r.Next(); err != nil || rec.Row != 2 {
		t.Fatalf("first Next = %v, %v", rec, err)
	}
	for range 3 {
		if rec, err := r.Next(); err != boom {
			t.Fatalf("Next = %v, %v; want %v", rec, err, boom)
		}
	}
	if _, err := NewReader(&failingReader{err: boom}); err != boom {
		t.Errorf("NewReader on failing input = %v, want %v", err, boom)
	}
	if _, err := NewReader(&failingReader{err: io.ErrUnexpectedEOF}); err != io.ErrUnexpectedEOF {
		t.Errorf("NewReader = %v, want io.ErrUnexpectedEOF", err)
	}
}
