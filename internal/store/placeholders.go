package store

import "strings"

// SQLite keeps the name of every numbered parameter ($1, ?1) in a list
// that it searches from the start each time the driver asks a parameter's
// name, and modernc's driver asks for every parameter at every bind: binding
// a statement of n numbered parameters costs n²/2 steps. The queue's 256-row
// statements have up to 1,025 parameters, and that search was 5% of the CPU
// of sending SMS. Plain ? parameters are numbered by position and have no
// name to search, so a statement whose parameters are $1, $2, ... $n, each
// once and in that order in its text, runs on SQLite as the same statement
// with ? for each.

// positional returns query with its parameters written as ?, when they are
// $1 to $n in text order, each once; otherwise it returns query unchanged.
// String literals, quoted names and comments are left as they are.
func positional(query string) string {
	if strings.IndexByte(query, '$') < 0 {
		return query
	}
	var b strings.Builder
	b.Grow(len(query))
	next := 1 // the number the next parameter must have
	for i := 0; i < len(query); {
		switch c := query[i]; {
		case c == '\'' || c == '"' || c == '`' || c == '[':
			end := c
			if c == '[' {
				end = ']'
			}
			j := strings.IndexByte(query[i+1:], end)
			if j < 0 {
				return query
			}
			b.WriteString(query[i : i+j+2])
			i += j + 2
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				j = len(query) - i
			}
			b.WriteString(query[i : i+j])
			i += j
		case c == '/' && strings.HasPrefix(query[i:], "/*"):
			j := strings.Index(query[i+2:], "*/")
			if j < 0 {
				return query
			}
			b.WriteString(query[i : i+j+4])
			i += j + 4
		case c == '$':
			j := i + 1
			n := 0
			for j < len(query) && query[j] >= '0' && query[j] <= '9' && n <= 1<<20 {
				n = n*10 + int(query[j]-'0')
				j++
			}
			if j == i+1 || n != next || query[i+1] == '0' || (j < len(query) && isNameByte(query[j])) || (i > 0 && isNameByte(query[i-1])) {
				return query // a name, a number out of turn or again: leave the text alone
			}
			next++
			b.WriteByte('?')
			i = j
		case c == '?':
			return query // mixed with SQLite's own parameters
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String()
}

func isNameByte(c byte) bool {
	return c == '_' || c == '$' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}
