package engine

import (
	"math/bits"
	"slices"
)

// Index narrows a list of compiled campaigns (a live set, in rank order) to
// the ones that can apply to a basket, so the cost of an evaluation follows
// the campaigns a basket touches rather than every campaign on the books.
// It is built once per list and is read-only afterwards.
//
// A campaign is left out of a selection only when Evaluate would reject it
// in its own conditions, whatever the other campaigns: its store list lacks
// the basket's store, it is for members and the basket is anonymous, or it
// needs codes (required SKUs or categories, or, when every benefit is
// scoped and none is free content, its scopes' codes) the basket has none
// of. Evaluate without Explain gives the same Result for the selection as
// for the whole list (TestIndex_SelectionEvaluatesLikeTheWholeList); with
// Explain, hand it the whole list, since it reports every campaign.
type Index struct {
	n     int
	skus  map[string][]int32 // code -> campaigns keyed on it as a SKU
	cats  map[string][]int32 // code -> campaigns keyed on it as a category
	any   []int32            // not keyed on codes, every store
	store map[string][]int32 // not keyed on codes, store-listed: by store
	gated []bool             // left to the caller (Select's gated argument)
	list  []*Compiled
}

// NewIndex indexes cs. gated, if not nil, marks campaigns the index leaves
// out unless the caller names them in Select (campaigns whose audience is a
// fixed list: the member's own memberships name the few that can apply).
func NewIndex(cs []*Compiled, gated func(i int) bool) *Index {
	ix := &Index{n: len(cs), skus: map[string][]int32{}, cats: map[string][]int32{}, store: map[string][]int32{},
		gated: make([]bool, len(cs)), list: cs}
	for i, c := range cs {
		if gated != nil && gated(i) {
			ix.gated[i] = true
			continue
		}
		skus, cats, keyed := c.keyCodes()
		if !keyed {
			if c.hasStores {
				for _, st := range c.stores {
					ix.store[st] = append(ix.store[st], int32(i))
				}
			} else {
				ix.any = append(ix.any, int32(i))
			}
			continue
		}
		for _, code := range skus {
			if l := ix.skus[code]; len(l) == 0 || l[len(l)-1] != int32(i) {
				ix.skus[code] = append(l, int32(i))
			}
		}
		for _, code := range cats {
			if l := ix.cats[code]; len(l) == 0 || l[len(l)-1] != int32(i) {
				ix.cats[code] = append(l, int32(i))
			}
		}
	}
	return ix
}

// keyCodes are codes of which a basket must hold one for c to apply, as
// SKUs and as categories; keyed is false when c can apply to any basket.
func (c *Compiled) keyCodes() (skus, cats []string, keyed bool) {
	switch {
	case c.reqSKUs.len() > 0: // a line with one of these SKUs is required
		return c.codes[c.reqSKUs.lo:c.reqSKUs.hi], nil, true
	case c.reqCats.len() > 0:
		return nil, c.codes[c.reqCats.lo:c.reqCats.hi], true
	case c.hasFree:
		return nil, nil, false // free content needs no line in scope
	}
	for _, sc := range c.scopes {
		if sc.all {
			return nil, nil, false
		}
	}
	// Every benefit is scoped: without a line in one of the scopes the
	// campaign has nothing to work on.
	for _, sc := range c.scopes {
		skus = append(skus, c.codes[sc.skus.lo:sc.skus.hi]...)
		cats = append(cats, c.codes[sc.cats.lo:sc.cats.hi]...)
	}
	return skus, cats, true
}

// Len is the number of campaigns indexed.
func (ix *Index) Len() int { return ix.n }

// Select appends to dst, in list order, the positions of the campaigns that
// can apply to b: the indexed ones that pass, and of gated, positions of
// gated campaigns the caller lets in, those that pass the same checks.
// seen is scratch space of at least (Len()+63)/64 words, all zero on entry
// and on return.
func (ix *Index) Select(b *Basket, gated []int32, seen []uint64, dst []int32) []int32 {
	mark := func(i int32) { seen[i/64] |= 1 << (i % 64) }
	for _, i := range ix.any {
		mark(i)
	}
	for _, i := range ix.store[b.Store] {
		mark(i)
	}
	for k := range b.Lines {
		l := &b.Lines[k]
		for _, i := range ix.skus[l.SKU] {
			mark(i)
		}
		for _, cat := range l.Categories {
			for _, i := range ix.cats[cat] {
				mark(i)
			}
		}
	}
	for _, i := range gated {
		if i >= 0 && int(i) < ix.n && ix.gated[i] && ix.touches(ix.list[i], b) {
			mark(i)
		}
	}
	for w, word := range seen {
		for word != 0 {
			i := int32(w*64 + bits.TrailingZeros64(word))
			word &= word - 1
			c := ix.list[i]
			if c.hasStores && !has(c.storeSet, b.Store) || !b.Member && !c.open {
				continue
			}
			dst = append(dst, i)
		}
		seen[w] = 0
	}
	return dst
}

// touches reports whether b holds one of c's key codes (true for a campaign
// not keyed on codes).
func (ix *Index) touches(c *Compiled, b *Basket) bool {
	skus, cats, keyed := c.keyCodes()
	if !keyed {
		return true
	}
	for k := range b.Lines {
		l := &b.Lines[k]
		if slices.Contains(skus, l.SKU) {
			return true
		}
		for _, cat := range l.Categories {
			if slices.Contains(cats, cat) {
				return true
			}
		}
	}
	return false
}
