// Package jsonscan is the cursor of Perk's one-pass JSON decoders (events,
// the till's basket): they read the bodies clients actually send without
// reflection, and hand anything unusual to encoding/json, whose answer is
// the API's. A Scanner only reads what such a decoder may take for certain:
// strings without escapes, holding no control character and valid UTF-8,
// and numbers as JSON writes them; everything else is a false that sends
// the body to encoding/json.
package jsonscan

import "unicode/utf8"

// Scanner walks B; I is the next byte to read.
type Scanner struct {
	B []byte
	I int
}

// Space skips JSON white space.
func (s *Scanner) Space() {
	for s.I < len(s.B) {
		switch s.B[s.I] {
		case ' ', '\t', '\n', '\r':
			s.I++
		default:
			return
		}
	}
}

// Peek skips white space and returns the next byte (0 at the end).
func (s *Scanner) Peek() byte {
	s.Space()
	if s.I < len(s.B) {
		return s.B[s.I]
	}
	return 0
}

// Byte reads c after white space.
func (s *Scanner) Byte(c byte) bool {
	if s.Peek() != c {
		return false
	}
	s.I++
	return true
}

// Str reads a string without escapes or control characters, in valid
// UTF-8, and returns its contents (aliasing B).
func (s *Scanner) Str() ([]byte, bool) {
	if !s.Byte('"') {
		return nil, false
	}
	start, ascii := s.I, true
	for ; s.I < len(s.B); s.I++ {
		switch c := s.B[s.I]; {
		case c == '"':
			v := s.B[start:s.I]
			s.I++
			return v, ascii || utf8.Valid(v)
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

// Number reads a number as JSON writes it and returns its text.
func (s *Scanner) Number() ([]byte, bool) {
	s.Space()
	b, start := s.B, s.I
	i := start
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() bool {
		j := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i > j
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case !digits():
		return nil, false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if !digits() {
			return nil, false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if !digits() {
			return nil, false
		}
	}
	s.I = i
	return b[start:i], true
}
