package jsonscan

import "testing"

// TestScanner specifies what a Scanner takes and what it leaves to
// encoding/json.
func TestScanner(t *testing.T) {
	strs := []struct {
		in   string
		want string
		ok   bool
	}{
		{` "SKU-1" `, "SKU-1", true},
		{`"Café"`, "Café", true},
		{`""`, "", true},
		{`"a\"b"`, "", false},           // an escape
		{"\"a\x01b\"", "", false},       // a control character
		{"\"\xff\"", "", false},         // not UTF-8
		{"\"\xed\xa0\x80\"", "", false}, // a surrogate
		{`"open`, "", false},
		{`5`, "", false},
	}
	for _, c := range strs {
		s := Scanner{B: []byte(c.in)}
		got, ok := s.Str()
		if ok != c.ok || (ok && string(got) != c.want) {
			t.Errorf("Str(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
	nums := []struct {
		in, want string
		ok       bool
	}{
		{`0`, "0", true}, {` -12,`, "-12", true}, {`1.5e-3]`, "1.5e-3", true}, {`2E+10`, "2E+10", true},
		{`01`, "0", true}, // a number, then what the caller finds after it
		{`-`, "", false}, {`.5`, "", false}, {`1.`, "", false}, {`1e`, "", false}, {`+1`, "", false},
	}
	for _, c := range nums {
		s := Scanner{B: []byte(c.in)}
		got, ok := s.Number()
		if ok != c.ok || string(got) != c.want {
			t.Errorf("Number(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
	s := Scanner{B: []byte(" \t\n{ }")}
	if !s.Byte('{') || s.Peek() != '}' || !s.Byte('}') || s.Peek() != 0 {
		t.Error("Byte and Peek do not skip white space")
	}
}
