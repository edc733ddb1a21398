package engine

import (
	"math/bits"
	"sync"
	"time"
)

// scratch is the working memory of one Evaluate call. It is pooled so a
// steady stream of baskets allocates little beyond the Result itself; nothing
// in it survives into a Result.
type scratch struct {
	// The basket, by position (index into Basket.Lines).
	n, words   int     // lines, and 64-bit words in a line set
	gross, net []int64 // value before any discount, and after the discounts applied so far
	qty        []int64 // units; 0 for a line with Quantity <= 0, which nothing matches
	grossTotal int64
	present    []uint64 // line set of the lines with Quantity > 0

	// Index from product and category codes to the lines carrying them, so a
	// scope costs one probe per code it lists rather than one per line.
	skuIdx, catIdx map[string]int32 // code -> offset of its line set in keyMasks
	keyMasks       []uint64
	keyRefs        int // probes a line-by-line scope match would make

	unixS   int64 // basket time
	unixN   int32
	weekday time.Weekday // local
	minute  int32        // local minute of the day

	cands []candState // one per candidate, in the caller's order
	bens  []benState  // benefits of the candidates that passed the static checks
	masks []uint64    // line set of each of those benefits' scopes, words apiece
	elig  []int32     // candidates that passed the static checks, in rank order
	stack []int32     // the non-exclusive ones among them
	excl  []int32     // the exclusive ones
	log   []share     // discounts of the option being built, in application order
	delta []int64     // per line, one benefit's discount being worked out
	items []portion
	runs  []unitRun
	tmp   []uint64 // one line set
	order []int32  // candidates in rank order, for explanations
	count []int32  // per line, offers that discount it

	best   option // the option that won
	leader int32  // its best-ranked campaign (candidate index), -1 if none
}

// share is one benefit's discount on one line.
type share struct {
	ben    int32 // index into scratch.bens
	line   int32 // basket position
	amount int64
}

var scratchPool = sync.Pool{New: func() any {
	return &scratch{skuIdx: make(map[string]int32), catIdx: make(map[string]int32)}
}}

// maxLineValue caps a line's value so sums and products of money stay far
// from int64 overflow: 2^50 minor units is over 11 trillion pounds.
const maxLineValue = 1 << 50

func lineValue(l *Line) int64 {
	if l.Quantity <= 0 || l.UnitPrice <= 0 {
		return 0
	}
	q := int64(l.Quantity)
	if l.UnitPrice > maxLineValue/q {
		return maxLineValue
	}
	return q * l.UnitPrice
}

// load indexes the basket and resets everything else.
func (s *scratch) load(b *Basket) {
	n := len(b.Lines)
	s.n, s.words = n, (n+63)/64
	s.gross = resize(s.gross, n)
	s.net = resize(s.net, n)
	s.qty = resize(s.qty, n)
	s.delta = resize(s.delta, n)
	s.present = resize(s.present, s.words)
	s.tmp = resize(s.tmp, s.words)
	clear(s.present)
	clear(s.skuIdx)
	clear(s.catIdx)
	s.keyMasks = s.keyMasks[:0]
	s.keyRefs = 0
	s.grossTotal = 0
	for i := range b.Lines {
		l := &b.Lines[i]
		v := lineValue(l)
		s.gross[i] = v
		s.grossTotal += v
		s.qty[i] = 0
		if l.Quantity <= 0 {
			continue
		}
		s.qty[i] = int64(l.Quantity)
		s.present[i/64] |= 1 << (i % 64)
		s.index(s.skuIdx, l.SKU, i)
		for _, c := range l.Categories {
			s.index(s.catIdx, c, i)
		}
		s.keyRefs += 1 + len(l.Categories)
	}

	loc := b.Location
	if loc == nil {
		loc = time.UTC
	}
	t := b.Time.In(loc)
	s.unixS, s.unixN = b.Time.Unix(), int32(b.Time.Nanosecond())
	s.weekday = t.Weekday()
	s.minute = int32(t.Hour()*60 + t.Minute())

	s.cands = s.cands[:0]
	s.bens = s.bens[:0]
	s.masks = s.masks[:0]
	s.elig = s.elig[:0]
	s.stack = s.stack[:0]
	s.excl = s.excl[:0]
	s.log = s.log[:0]
}

func (s *scratch) index(m map[string]int32, code string, line int) {
	off, ok := m[code]
	if !ok {
		off = int32(len(s.keyMasks))
		for range s.words {
			s.keyMasks = append(s.keyMasks, 0)
		}
		m[code] = off
	}
	s.keyMasks[int(off)+line/64] |= 1 << (line % 64)
}

// match sets dst to the lines whose SKU is in skus or that are in one of
// cats, probing whichever side is smaller.
func (s *scratch) match(dst []uint64, skus, cats *keySet, lines []Line) {
	clear(dst)
	if len(skus.keys)+len(cats.keys) <= s.keyRefs {
		for _, k := range skus.keys {
			if off, ok := s.skuIdx[k]; ok {
				orInto(dst, s.keyMasks[off:int(off)+s.words])
			}
		}
		for _, k := range cats.keys {
			if off, ok := s.catIdx[k]; ok {
				orInto(dst, s.keyMasks[off:int(off)+s.words])
			}
		}
		return
	}
	for i := range lines {
		if s.qty[i] == 0 {
			continue
		}
		l := &lines[i]
		hit := skus.has(l.SKU)
		for _, c := range l.Categories {
			if hit {
				break
			}
			hit = cats.has(c)
		}
		if hit {
			dst[i/64] |= 1 << (i % 64)
		}
	}
}

// scope sets dst to the lines in b's scope.
func (s *scratch) scope(dst []uint64, b *compiledBenefit, lines []Line) {
	if b.all {
		copy(dst, s.present)
		return
	}
	s.match(dst, &b.skus, &b.cats, lines)
}

// sumNet is the net value of the lines in m.
func (s *scratch) sumNet(m []uint64) int64 {
	var v int64
	for w, word := range m {
		for word != 0 {
			i := w*64 + bits.TrailingZeros64(word)
			word &= word - 1
			v += s.net[i]
		}
	}
	return v
}

func orInto(dst, src []uint64) {
	for i := range dst {
		dst[i] |= src[i]
	}
}

func empty(m []uint64) bool {
	for _, w := range m {
		if w != 0 {
			return false
		}
	}
	return true
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}
