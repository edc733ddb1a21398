package catalogue

import (
	"strings"
	"unicode/utf8"
)

// Categories are paths: "drinks/coffee" is within "drinks". A campaign
// scoped to a category matches every line in it or below it, which the
// checkout gets by giving the engine each line's categories together with
// all their ancestors (Expand): the engine keeps matching codes exactly,
// and a tree costs nothing per basket.

// maxCategoryLen bounds a category path, as the checkout bounds ids.
const maxCategoryLen = 100

// ValidCategory reports whether c is a category path: non-empty segments
// separated by "/", printable, at most 100 bytes.
func ValidCategory(c string) bool {
	if c == "" || len(c) > maxCategoryLen || !utf8.ValidString(c) {
		return false
	}
	for seg := range strings.SplitSeq(c, "/") {
		if strings.TrimSpace(seg) == "" {
			return false
		}
	}
	return !strings.ContainsFunc(c, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// Ancestors appends c and every category c is within, nearest last
// ("drinks/coffee/beans" gives it, "drinks/coffee", "drinks"), to dst.
func Ancestors(dst []string, c string) []string {
	dst = append(dst, c)
	for i := len(c) - 1; i > 0; i-- {
		if c[i] == '/' {
			dst = append(dst, c[:i])
		}
	}
	return dst
}

// Expand returns the categories with all their ancestors, each once, in
// the order first met. It allocates only when there is a path to expand or
// a repeat to drop.
func Expand(cats []string) []string {
	simple := true
	for i, c := range cats {
		if strings.IndexByte(c, '/') >= 0 {
			simple = false
			break
		}
		for _, d := range cats[:i] {
			if d == c {
				simple = false
			}
		}
	}
	if simple {
		return cats
	}
	out := make([]string, 0, 2*len(cats))
	var buf []string
	for _, c := range cats {
		buf = Ancestors(buf[:0], c)
		for _, a := range buf {
			if !contains(out, a) {
				out = append(out, a)
			}
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// Within reports whether category c is cat or below it.
func Within(c, cat string) bool {
	return c == cat || strings.HasPrefix(c, cat) && len(c) > len(cat) && c[len(cat)] == '/'
}
