package engine

import (
	"hash/maphash"
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
	qty        []int64 // units (lineQuantity); 0 for a line with Quantity <= 0, which nothing matches
	grossTotal int64
	present    []uint64 // line set of the lines with Quantity > 0

	// Index from product and category codes to the lines carrying them, so a
	// scope costs one probe per code it lists rather than one per line.
	skuIdx, catIdx codeIndex // code -> offset of its line set in keyMasks
	keyMasks       []uint64
	keyRefs        int // probes a line-by-line scope match would make

	unixS   int64 // basket time
	unixN   int32
	weekday time.Weekday // local
	minute  int32        // local minute of the day

	cands []candState // one per candidate, in the caller's order
	bens  []benState  // benefits of the candidates that passed the static checks
	masks []uint64    // line set of each of those benefits' scopes, words apiece
	keys  []rankKey
	elig  []int32 // candidates that passed the static checks, in rank order
	stack []int32 // the non-exclusive ones among them
	excl  []int32 // the exclusive ones
	log   []share // discounts of the option being built, in application order
	delta []int64 // per line, one benefit's discount being worked out
	items []portion
	runs  []unitRun
	tmp   []uint64 // one line set
	order []int32  // candidates in rank order, for explanations
	count []int32  // per line, offers that discount it

	best   option // the option that won
	leader int32  // its best-ranked campaign (candidate index), -1 if none
}

// share is one benefit's discount on one line; which benefit is known from
// the benefit's range of the log (benState.logStart, logEnd).
type share struct {
	line   int32 // basket position
	amount int64
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// maxUnits caps a line's units as the engine counts them. The API allows
// MaxQuantity; the engine takes far more (its unit arithmetic does not grow
// with the quantity), but no more than the units of millions of lines can
// sum to without overflowing.
const maxUnits = 1 << 40

// lineQuantity is a line's units as the engine counts them: none for a
// quantity <= 0, at most maxUnits.
func lineQuantity(l *Line) int64 {
	if l.Quantity <= 0 {
		return 0
	}
	return min(int64(l.Quantity), maxUnits)
}

// lineValue is a line's gross value: its units times its unit price, 0 for a
// negative price, at most MaxAmount (as a basket is), so that sums and
// products of money stay far from int64 overflow however many lines come.
func lineValue(l *Line) int64 {
	q := lineQuantity(l)
	if q == 0 || l.UnitPrice <= 0 {
		return 0
	}
	if l.UnitPrice > MaxAmount/q {
		return MaxAmount
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
	ncats := 0
	for i := range b.Lines {
		ncats += len(b.Lines[i].Categories)
	}
	s.skuIdx.reset(n)
	s.catIdx.reset(ncats)
	s.keyMasks = s.keyMasks[:0]
	s.keyRefs = 0
	s.grossTotal = 0
	for i := range b.Lines {
		l := &b.Lines[i]
		v := lineValue(l)
		s.gross[i] = v
		s.grossTotal += v
		s.qty[i] = lineQuantity(l)
		if s.qty[i] == 0 {
			continue
		}
		s.present[i/64] |= 1 << (i % 64)
		s.index(&s.skuIdx, l.SKU, i)
		for _, c := range l.Categories {
			s.index(&s.catIdx, c, i)
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
	s.keys = s.keys[:0]
	s.elig = s.elig[:0]
	s.stack = s.stack[:0]
	s.excl = s.excl[:0]
	s.log = s.log[:0]
}

func (s *scratch) index(x *codeIndex, code string, line int) {
	h := hashCode(code)
	off, ok := x.find(h, code)
	if !ok {
		off = int32(len(s.keyMasks))
		for range s.words {
			s.keyMasks = append(s.keyMasks, 0)
		}
		x.insert(h, code, off)
	}
	s.keyMasks[int(off)+line/64] |= 1 << (line % 64)
}

// match sets dst to the lines whose SKU is in c's codes sp or that are in
// one of its categories cats. It probes the basket's index with each code,
// unless the lists are long (sets is not nil) and the basket has fewer codes,
// when it checks each line against the sets.
func (s *scratch) match(dst []uint64, c *Compiled, skus, cats span, sets *codeSets, lines []Line) {
	clear(dst)
	if sets == nil || skus.len()+cats.len() <= s.keyRefs {
		// Most codes are not in the basket: the filter turns them away before
		// the code itself is even loaded.
		for k := skus.lo; k < skus.hi; k++ {
			if h := c.hashes[k]; s.skuIdx.mayHave(h) {
				if off, ok := s.skuIdx.find(h, c.codes[k]); ok {
					orInto(dst, s.keyMasks[off:int(off)+s.words])
				}
			}
		}
		for k := cats.lo; k < cats.hi; k++ {
			if h := c.hashes[k]; s.catIdx.mayHave(h) {
				if off, ok := s.catIdx.find(h, c.codes[k]); ok {
					orInto(dst, s.keyMasks[off:int(off)+s.words])
				}
			}
		}
		return
	}
	for i := range lines {
		if s.qty[i] == 0 {
			continue
		}
		l := &lines[i]
		hit := skus.len() > 0 && has(sets.skus, l.SKU)
		for _, cat := range l.Categories {
			if hit || cats.len() == 0 {
				break
			}
			hit = has(sets.cats, cat)
		}
		if hit {
			dst[i/64] |= 1 << (i % 64)
		}
	}
}

// codeSeed hashes product and category codes. It differs from process to
// process; only lookups depend on it, never a result.
var codeSeed = maphash.MakeSeed()

func hashCode(code string) uint64 { return maphash.String(codeSeed, code) }

// codeIndex is an open-addressing hash table from a code to the offset of
// its line set. The campaigns' codes are hashed once by Compile, so a probe
// costs a load and a compare where a Go map would hash the string again.
type codeIndex struct {
	filter [16]uint64 // a one-hash Bloom filter of the codes: 1,024 bits, two cache lines
	slots  []codeSlot // a power of two, at most half full
}

type codeSlot struct {
	hash uint64
	code string
	off  int32
	used bool
}

func (x *codeIndex) reset(codes int) {
	size := 16
	for size < 2*codes {
		size <<= 1
	}
	x.slots = resize(x.slots, size)
	clear(x.slots)
	x.filter = [16]uint64{}
}

func (x *codeIndex) mayHave(h uint64) bool {
	b := h >> 54 // the top bits: the table's slot comes from the bottom ones
	return x.filter[b/64]&(1<<(b%64)) != 0
}

func (x *codeIndex) find(h uint64, code string) (int32, bool) {
	m := uint64(len(x.slots) - 1)
	for i := h & m; ; i = (i + 1) & m {
		sl := &x.slots[i]
		if !sl.used {
			return 0, false
		}
		if sl.hash == h && sl.code == code {
			return sl.off, true
		}
	}
}

func (x *codeIndex) insert(h uint64, code string, off int32) {
	m := uint64(len(x.slots) - 1)
	i := h & m
	for x.slots[i].used {
		i = (i + 1) & m
	}
	x.slots[i] = codeSlot{hash: h, code: code, off: off, used: true}
	b := h >> 54
	x.filter[b/64] |= 1 << (b % 64)
}

// scope sets dst to the lines in the scope of c's benefit j.
func (s *scratch) scope(dst []uint64, c *Compiled, j int, lines []Line) {
	sc := &c.scopes[j]
	if sc.all {
		copy(dst, s.present)
		return
	}
	s.match(dst, c, sc.skus, sc.cats, sc.sets, lines)
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
