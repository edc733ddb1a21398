package tabular

import (
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

// readAll reads input to the end and renders every record as `ROW ["a" "b"]`
// and every row error as `ERR <message>`, so tables can state the whole
// outcome, including what happens after an error.
func readAll(t *testing.T, input string) (*Reader, []string) {
	t.Helper()
	r, err := NewReader(strings.NewReader(input))
	if err != nil {
		t.Fatalf("NewReader: %v", err)
	}
	return r, drain(t, r, len(input)+2)
}

func drain(t *testing.T, r *Reader, max int) []string {
	t.Helper()
	var got []string
	for i := 0; ; i++ {
		if i > max {
			t.Fatalf("Next did not reach io.EOF after %d calls", max)
		}
		rec, err := r.Next()
		if err == io.EOF {
			return got
		}
		var re *RowError
		if errors.As(err, &re) {
			got = append(got, "ERR "+re.Error())
			continue
		}
		if err != nil {
			t.Fatalf("Next: unexpected error %v", err)
		}
		got = append(got, fmt.Sprintf("%d %q", rec.Row, rec.Fields))
	}
}

func TestReader_SniffsDelimiter(t *testing.T) {
	tests := []struct {
		name  string
		input string
		delim rune
	}{
		{"comma", "a,b,c\n1,2,3\n", ','},
		{"tab", "a\tb\tc\n1\t2\t3\n", '\t'},
		{"semicolon", "a;b;c\n1;2;3\n", ';'},
		{"pipe", "a|b|c\n1|2|3\n", '|'},
		{"semicolon wins over commas inside quotes", "\"a,b,c\";d;e\n1;2;3\n", ';'},
		{"tie goes to comma", "a,b;c\n1,2;3\n", ','},
		{"tie without comma goes to tab", "a\tb;c\n1\t2;3\n", '\t'},
		{"single column defaults to comma", "email\nx@example.com\n", ','},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tt.input))
			if err != nil {
				t.Fatal(err)
			}
			if r.Delimiter() != tt.delim {
				t.Errorf("Delimiter() = %q, want %q", r.Delimiter(), tt.delim)
			}
		})
	}
}

func TestReader_ReadsWellFormedFiles(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{"plain rows", "a,b\n1,2\n3,4\n", []string{`2 ["1" "2"]`, `3 ["3" "4"]`}},
		{"no final newline", "a,b\n1,2", []string{`2 ["1" "2"]`}},
		{"BOM is stripped", "\uFEFFa,b\n1,2\n", []string{`2 ["1" "2"]`}},
		{"CRLF line ends", "a,b\r\n1,2\r\n3,4\r\n", []string{`2 ["1" "2"]`, `3 ["3" "4"]`}},
		{"lone CR at end of input is dropped", "a,b\n1,2\r", []string{`2 ["1" "2"]`}},
		{"values are not trimmed", "a,b\n 1 , 2\t\n", []string{`2 [" 1 " " 2\t"]`}},
		{"blank lines are skipped but counted", "a,b\n\n1,2\r\n\r\n\n3,4\n\n", []string{`3 ["1" "2"]`, `6 ["3" "4"]`}},
		{"row of delimiters is not blank", "a,b\n,\n", []string{`2 ["" ""]`}},
		{"quoted delimiter", "a,b\n\"x,y\",2\n", []string{`2 ["x,y" "2"]`}},
		{"escaped quotes", "a,b\n\"say \"\"hi\"\"\",\"\"\n", []string{`2 ["say \"hi\"" ""]`}},
		{"quoted newline keeps row numbers right",
			"a,b\n\"line1\nline2\",2\n3,4\n\"x\r\ny\r\nz\",5\n6,7\n",
			[]string{`2 ["line1\nline2" "2"]`, `4 ["3" "4"]`, `5 ["x\ny\nz" "5"]`, `8 ["6" "7"]`}},
		{"quoted blank lines are data", "a,b\n\"\n\n\",1\n2,3\n", []string{`2 ["\n\n" "1"]`, `5 ["2" "3"]`}},
		{"trailing empty extra fields are accepted", "a,b\n1,2,,\n3,4,\"\"\n", []string{`2 ["1" "2"]`, `3 ["3" "4"]`}},
		{"semicolon file with quotes", "a;b\n\"1;x\";2\n", []string{`2 ["1;x" "2"]`}},
		{"multi-byte UTF-8", "name,city\nZoë,Zürich\n", []string{`2 ["Zoë" "Zürich"]`}},
		{"header only", "a,b\n", nil},
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

func TestRecord_GetLooksUpNormalisedColumns(t *testing.T) {
	r, err := NewReader(strings.NewReader("First Name,E-mail\nAnn,ann@example.com\n"))
	if err != nil {
		t.Fatal(err)
	}
	rec, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := rec.Get("e_mail"); !ok || v != "ann@example.com" {
		t.Errorf(`Get("e_mail") = %q, %v`, v, ok)
	}
	if v, ok := rec.Get("First Name"); ok {
		t.Errorf(`Get("First Name") = %q, true; raw names must not match`, v)
	}
	if _, ok := (Record{}).Get("e_mail"); ok {
		t.Error("zero Record has a column")
	}
}

func TestReader_RecordsDoNotAliasLaterOnes(t *testing.T) {
	r, err := NewReader(strings.NewReader("a,b\n1,2\n3,4\n"))
	if err != nil {
		t.Fatal(err)
	}
	first, _ := r.Next()
	if _, err := r.Next(); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(first.Fields, []string{"1", "2"}) {
		t.Errorf("first record changed to %q", first.Fields)
	}
}

func TestReader_EOFIsSticky(t *testing.T) {
	r, got := readAll(t, "a\n1\n")
	if len(got) != 1 {
		t.Fatalf("got %q", got)
	}
	if _, err := r.Next(); err != io.EOF {
		t.Errorf("second Next after end = %v, want io.EOF", err)
	}
}
