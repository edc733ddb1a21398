package tabular

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func TestReader_NormalisesHeader(t *testing.T) {
	tests := []struct {
		name   string
		input  string
		header []string
		raw    []string
	}{
		{"spaces hyphens and case", "First Name,E-mail, Phone \n",
			[]string{"first_name", "e_mail", "phone"}, []string{"First Name", "E-mail", "Phone"}},
		{"runs collapse to one underscore", "Last  -  Name,ZIP\tCode\n",
			[]string{"last_name", "zip_code"}, []string{"Last  -  Name", "ZIP\tCode"}},
		{"other punctuation is kept", "Phone #,first.name\n",
			[]string{"phone_#", "first.name"}, []string{"Phone #", "first.name"}},
		{"non-ASCII is lower-cased", "PRÉNOM,Straße\n",
			[]string{"prénom", "straße"}, []string{"PRÉNOM", "Straße"}},
		{"quoted names", "\"Name, Full\",\"Tel\"\n",
			[]string{"name,_full", "tel"}, []string{"Name, Full", "Tel"}},
		{"trailing empty names are dropped", "a,b,,\n",
			[]string{"a", "b"}, []string{"a", "b"}},
		{"BOM and CRLF", "\uFEFFa;b\r\n",
			[]string{"a", "b"}, []string{"a", "b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tt.input))
			if err != nil {
				t.Fatal(err)
			}
			if got := r.Header(); !reflect.DeepEqual(got, tt.header) {
				t.Errorf("Header() = %q, want %q", got, tt.header)
			}
			if got := r.RawHeader(); !reflect.DeepEqual(got, tt.raw) {
				t.Errorf("RawHeader() = %q, want %q", got, tt.raw)
			}
		})
	}
}

func TestReader_HeaderIsACopy(t *testing.T) {
	r, err := NewReader(strings.NewReader("a,b\n1,2\n"))
	if err != nil {
		t.Fatal(err)
	}
	r.Header()[0] = "changed"
	r.RawHeader()[0] = "changed"
	if r.Header()[0] != "a" || r.RawHeader()[0] != "a" {
		t.Error("caller changed the reader's header")
	}
}

func TestNewReader_RejectsUnusableHeaders(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		want    error  // sentinel, or nil for a *HeaderError
		reason  string // HeaderError.Reason
		columns []string
	}{
		{"empty input", "", ErrNoHeader, "", nil},
		{"blank first line", "\na,b\n", ErrNoHeader, "", nil},
		{"blank CRLF first line", "\r\na,b\n", ErrNoHeader, "", nil},
		{"only a BOM", "\uFEFF", ErrNoHeader, "", nil},
		{"only delimiters", ",,,\n1,2\n", ErrNoHeader, "", nil},
		{"UTF-16 little endian", "\xFF\xFEa\x00,\x00b\x00", ErrUnsupportedEncoding, "", nil},
		{"UTF-16 big endian", "\xFE\xFF\x00a", ErrUnsupportedEncoding, "", nil},
		{"duplicate after normalisation", "id,First Name,first-name\n", nil,
			`columns 2 ("First Name") and 3 ("first-name") both normalise to "first_name"`,
			[]string{"First Name", "first-name"}},
		{"exact duplicate", "a,b,a\n", nil, `columns 1 ("a") and 3 ("a") both normalise to "a"`, []string{"a", "a"}},
		{"empty name between others", "a,,c\n", nil, "column 2 has no name", nil},
		{"invalid UTF-8 name", "a,\xE9t\xE9\n", nil, "column 2 name is not valid UTF-8 (save the file as CSV UTF-8)", nil},
		{"bare quote", "a,b\"c\n", nil, reasonBareQuote, nil},
		{"unclosed quote", "a,\"b\n1,2\n", nil, reasonUnclosed, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewReader(strings.NewReader(tt.input))
			if r != nil || err == nil {
				t.Fatalf("NewReader = %v, %v; want an error", r, err)
			}
			if tt.want != nil {
				if !errors.Is(err, tt.want) {
					t.Errorf("err = %v, want %v", err, tt.want)
				}
				return
			}
			var he *HeaderError
			if !errors.As(err, &he) {
				t.Fatalf("err = %T %v, want *HeaderError", err, err)
			}
			if he.Reason != tt.reason || !reflect.DeepEqual(he.Columns, tt.columns) {
				t.Errorf("got Reason %q Columns %q\nwant       %q         %q", he.Reason, he.Columns, tt.reason, tt.columns)
			}
		})
	}
}

func TestReader_HeaderSpanningLinesKeepsRowNumbers(t *testing.T) {
	_, got := readAll(t, "\"Home\nAddress\",b\n1,2\n")
	want := []string{`3 ["1" "2"]`}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
