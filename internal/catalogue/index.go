package catalogue

import "hash/maphash"

// index finds a product's position in the snapshot's slab by a key (its
// SKU, or one of its barcodes). It is an open-addressing table of hashes
// and positions with no pointers in it, so the garbage collector never
// scans it: a Go map of 200,000 string keys would be scanned on every
// cycle, and on a till server that cost more than the look-ups.
type index struct {
	seed  maphash.Seed
	slots []slot // a power of two, at most half full
}

type slot struct {
	hash uint64
	pos  int32 // position in the slab + 1; 0 is an empty slot
	code int32 // for barcodes: which of the product's barcodes; -1 for the SKU
}

func newIndex(n int) *index {
	size := 16
	for size < 2*n {
		size <<= 1
	}
	return &index{seed: maphash.MakeSeed(), slots: make([]slot, size)}
}

func (x *index) add(key string, pos, code int32) {
	h := maphash.String(x.seed, key)
	m := uint64(len(x.slots) - 1)
	i := h & m
	for x.slots[i].pos != 0 {
		i = (i + 1) & m
	}
	x.slots[i] = slot{hash: h, pos: pos + 1, code: code}
}

// find returns the position of the product whose key (as keyOf reads it
// from the product at a position) is key, or -1.
func (x *index) find(key string, keyOf func(pos, code int32) string) int32 {
	h := maphash.String(x.seed, key)
	m := uint64(len(x.slots) - 1)
	for i := h & m; ; i = (i + 1) & m {
		sl := &x.slots[i]
		if sl.pos == 0 {
			return -1
		}
		if sl.hash == h && keyOf(sl.pos-1, sl.code) == key {
			return sl.pos - 1
		}
	}
}
