package tabular

import (
	"bytes"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func TestErrorWriter_MatchesGoldenFile(t *testing.T) {
	var buf bytes.Buffer
	w := NewErrorWriter(&buf)
	for _, e := range []*RowError{
		{Row: 2, Column: "phone", Reason: "too short"},
		{Row: 3, Reason: "row has 3 fields, header has 5"},
		{Row: 7, Column: "name", Reason: `quote (") inside a value that does not start with a quote`},
		{Row: 9, Column: "notes", Reason: "two\nlines, and a comma"},
		{Row: 11, Column: "=HYPERLINK(\"http://evil\")", Reason: "-5 points is negative"},
		{Row: 12, Column: "email", Reason: "@home is not an address"},
		nil, // ignored
	} {
		if err := w.Write(e); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "errors.golden.csv")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("output differs from %s (run go test -update if intended)\ngot:\n%s\nwant:\n%s", golden, buf.Bytes(), want)
	}
}

// The errors file is itself a delimited file with a header, so this package
// must be able to read it back unchanged (apart from formula defusing).
func TestErrorWriter_OutputReadsBackWithReader(t *testing.T) {
	var buf bytes.Buffer
	w := NewErrorWriter(&buf)
	in := &RowError{Row: 9, Column: "notes", Reason: "two\nlines, \"quoted\""}
	if err := w.Write(in); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(&buf)
	if err != nil {
		t.Fatal(err)
	}
	rec, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	if row, _ := rec.Get("row"); row != "9" {
		t.Errorf("row = %q", row)
	}
	if reason, _ := rec.Get("reason"); reason != in.Reason {
		t.Errorf("reason = %q, want %q", reason, in.Reason)
	}
}

func TestErrorWriter_EmptyReportHasHeader(t *testing.T) {
	var buf bytes.Buffer
	if err := NewErrorWriter(&buf).Flush(); err != nil {
		t.Fatal(err)
	}
	if buf.String() != "row,column,reason\n" {
		t.Errorf("got %q", buf.String())
	}
}

type brokenWriter struct{}

func (brokenWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

func TestErrorWriter_FlushReportsWriteFailure(t *testing.T) {
	w := NewErrorWriter(brokenWriter{})
	if err := w.Write(&RowError{Row: 2, Reason: strings.Repeat("x", 10)}); err != nil {
		t.Fatalf("Write = %v; buffered writes should not fail yet", err)
	}
	if err := w.Flush(); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Errorf("Flush = %v, want disk full", err)
	}
}

// Defuse marks as text what a spreadsheet would run as a formula, and leaves
// numbers (phones in E.164, negative amounts) as the digits a machine reads.
func TestDefuse(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"Ann", "Ann"},
		{"=HYPERLINK(\"http://evil\",\"x\")", "'=HYPERLINK(\"http://evil\",\"x\")"},
		{"@SUM(A1:A9)", "'@SUM(A1:A9)"},
		{"+cmd|' /C calc'!A0", "'+cmd|' /C calc'!A0"},
		{"-2+3+cmd|' /C calc'!A0", "'-2+3+cmd|' /C calc'!A0"},
		{"\t=1+1", "'\t=1+1"},
		{"\r=1+1", "'\r=1+1"},
		{"+447700900123", "+447700900123"},
		{"-350", "-350"},
		{"-2.5", "-2.5"},
		{"+", "'+"},
		{"-.5", "'-.5"},
		{"-5.", "'-5."},
		{"-1.2.3", "'-1.2.3"},
		{"12=3", "12=3"}, // only the first character makes a formula
	} {
		if got := Defuse(tc.in); got != tc.want {
			t.Errorf("Defuse(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
