package phone

import (
	"errors"
	"fmt"
	"regexp/syntax"
	"slices"
	"strconv"
	"strings"
)

// digitDFA is a deterministic automaton over the ten ASCII digits, built from
// one of libphonenumber's number patterns. Those patterns are only ever
// matched against strings of ASCII digits (national significant numbers), so
// a table walk answers exactly what the library's regexp answers, in one
// step per digit and without the backtracker the library's regexps spend most
// of an import in.
type digitDFA struct {
	next   [][10]int32 // next[state][digit]; -1 is the dead state
	accept []bool      // the digits read so far match the whole pattern
}

// maxDFAStates bounds the subset construction: a pattern that needs more is
// left to libphonenumber (none in the embedded metadata comes near it).
const maxDFAStates = 20_000

var errUnsupportedPattern = errors.New("phone: pattern outside the digit automaton")

// compileDigits builds the automaton for pattern with Go's own parser and
// compiler (the ones regexp uses, so the language is the same), then the
// subset construction over the digit alphabet. Patterns with assertions
// (^, $, \b) are refused: the metadata's number patterns have none.
func compileDigits(pattern string) (*digitDFA, error) {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil, fmt.Errorf("phone: pattern %q: %w", pattern, err)
	}
	prog, err := syntax.Compile(re.Simplify())
	if err != nil {
		return nil, fmt.Errorf("phone: pattern %q: %w", pattern, err)
	}
	c := dfaBuilder{prog: prog, index: map[string]int32{}, d: &digitDFA{}}
	start, err := c.closure([]uint32{uint32(prog.Start)})
	if err != nil {
		return nil, err
	}
	c.state(start)
	for i := 0; i < len(c.sets); i++ {
		for digit := range 10 {
			var moved []uint32
			r := rune('0' + digit)
			for _, pc := range c.sets[i] {
				in := &prog.Inst[pc]
				if in.Op != syntax.InstMatch && in.MatchRune(r) {
					moved = append(moved, in.Out)
				}
			}
			if len(moved) == 0 {
				c.d.next[i][digit] = -1
				continue
			}
			set, err := c.closure(moved)
			if err != nil {
				return nil, err
			}
			if len(set) == 0 {
				c.d.next[i][digit] = -1
				continue
			}
			c.d.next[i][digit] = c.state(set)
			if len(c.sets) > maxDFAStates {
				return nil, errUnsupportedPattern
			}
		}
	}
	return c.d, nil
}

type dfaBuilder struct {
	prog  *syntax.Prog
	index map[string]int32 // set key -> state
	sets  [][]uint32       // state -> sorted instructions that consume a rune or match
	d     *digitDFA
}

// state returns the state for set, adding it if new.
func (c *dfaBuilder) state(set []uint32) int32 {
	var b strings.Builder
	for _, pc := range set {
		b.WriteString(strconv.FormatUint(uint64(pc), 36))
		b.WriteByte(',')
	}
	key := b.String()
	if s, ok := c.index[key]; ok {
		return s
	}
	s := int32(len(c.sets))
	c.index[key] = s
	c.sets = append(c.sets, set)
	c.d.next = append(c.d.next, [10]int32{})
	accept := false
	for _, pc := range set {
		accept = accept || c.prog.Inst[pc].Op == syntax.InstMatch
	}
	c.d.accept = append(c.d.accept, accept)
	return s
}

// closure follows the instructions that consume nothing from pcs and returns
// the sorted set of those that consume a rune or match.
func (c *dfaBuilder) closure(pcs []uint32) ([]uint32, error) {
	seen := map[uint32]bool{}
	var out []uint32
	stack := slices.Clone(pcs)
	for len(stack) > 0 {
		pc := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if seen[pc] {
			continue
		}
		seen[pc] = true
		in := &c.prog.Inst[pc]
		switch in.Op {
		case syntax.InstAlt, syntax.InstAltMatch:
			stack = append(stack, in.Out, in.Arg)
		case syntax.InstCapture, syntax.InstNop:
			stack = append(stack, in.Out)
		case syntax.InstFail:
		case syntax.InstMatch, syntax.InstRune, syntax.InstRune1, syntax.InstRuneAny, syntax.InstRuneAnyNotNL:
			out = append(out, pc)
		default: // InstEmptyWidth: an assertion the walk does not model
			return nil, errUnsupportedPattern
		}
	}
	slices.Sort(out)
	return out, nil
}

// full reports whether the pattern matches all of s, as the library's
// "^(?:pattern)$" does. s must be ASCII digits.
func (d *digitDFA) full(s string) bool {
	st := int32(0)
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return false
		}
		if st = d.next[st][c]; st < 0 {
			return false
		}
	}
	return d.accept[st]
}

// prefix reports whether the pattern matches some prefix of s (the empty one
// included), as the library's "^(?:pattern)" does.
func (d *digitDFA) prefix(s string) bool {
	st := int32(0)
	if d.accept[st] {
		return true
	}
	for i := 0; i < len(s); i++ {
		c := s[i] - '0'
		if c > 9 {
			return false
		}
		if st = d.next[st][c]; st < 0 {
			return false
		}
		if d.accept[st] {
			return true
		}
	}
	return false
}
