package engine

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
)

// selectCands is what a caller of Index does: gated campaigns not let in are
// ruled out in the whole list (as the checkout rules out a fixed audience
// the member is not in), and the selection keeps each candidate as it is.
func selectCands(ix *Index, b *Basket, cands []Candidate, gated func(int) bool, letIn func(int) bool) (full, picked []Candidate) {
	full = make([]Candidate, len(cands))
	var in []int32
	for i, cd := range cands {
		full[i] = cd
		if gated != nil && gated(i) {
			if letIn(i) {
				in = append(in, int32(i))
			} else if cd.Blocked == "" {
				full[i].Blocked = NotInAudience
			}
		}
	}
	seen := make([]uint64, (ix.Len()+63)/64)
	for _, i := range ix.Select(b, in, seen, nil) {
		picked = append(picked, full[i])
	}
	for w, word := range seen {
		if word != 0 {
			panic(fmt.Sprintf("Select left word %d of seen set", w))
		}
	}
	return full, picked
}

func compiledOf(cands []Candidate) []*Compiled {
	out := make([]*Compiled, len(cands))
	for i, cd := range cands {
		out[i] = cd.Campaign
	}
	return out
}

// TestIndex_SelectionEvaluatesLikeTheWholeList is the index's contract: on
// random baskets and campaigns (every condition, scope and benefit kind,
// gated campaigns let in or not), Evaluate of the campaigns the index
// selects gives exactly the Result of Evaluate of the whole list.
func TestIndex_SelectionEvaluatesLikeTheWholeList(t *testing.T) {
	cases := []struct {
		name               string
		seed               uint64
		n                  int
		maxLines, maxCamps int
	}{
		{"small baskets, overlapping campaigns", 1, 6000, 12, 8},
		{"many campaigns", 2, 1500, 12, 60},
		{"empty baskets and lists", 3, 500, 1, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(tc.seed, 15))
			narrowed := 0
			for k := range tc.n {
				b, cands, opt := genCase(t, r, tc.maxLines, tc.maxCamps)
				opt.Explain = false
				gatedSet := map[int]bool{}
				letInSet := map[int]bool{}
				for i := range cands {
					if r.IntN(4) == 0 {
						gatedSet[i] = true
						letInSet[i] = r.IntN(2) == 0
					}
				}
				gated := func(i int) bool { return gatedSet[i] }
				ix := NewIndex(compiledOf(cands), gated)
				full, picked := selectCands(ix, &b, cands, gated, func(i int) bool { return letInSet[i] })
				want, got := Evaluate(b, full, opt), Evaluate(b, picked, opt)
				if !reflect.DeepEqual(want, got) {
					t.Fatalf("case %d: basket %+v\nwhole list: %+v\nselection (%d of %d): %+v", k, b, want, len(picked), len(full), got)
				}
				if len(picked) < len(full) {
					narrowed++
				}
			}
			// A selection that is always the whole list would prove nothing.
			if tc.maxCamps > 2 && narrowed < tc.n/4 {
				t.Fatalf("the index narrowed only %d of %d cases", narrowed, tc.n)
			}
		})
	}
}

// TestIndex_BenchShopSelectsFew: on the benchmark shop (a third of the
// campaigns scoped to products nobody buys), the selection is the
// campaigns that can apply, and evaluates like the whole list.
func TestIndex_BenchShopSelectsFew(t *testing.T) {
	cands := benchCampaigns(t, 1000)
	ix := NewIndex(compiledOf(cands), nil)
	for i, b := range benchBaskets(16) {
		full, picked := selectCands(ix, &b, cands, nil, nil)
		if want, got := Evaluate(b, full, benchOptions), Evaluate(b, picked, benchOptions); !reflect.DeepEqual(want, got) {
			t.Fatalf("basket %d: whole list %+v\nselection %+v", i, want, got)
		}
		if len(picked) > len(full)*9/10 {
			t.Errorf("basket %d: %d of %d campaigns selected", i, len(picked), len(full))
		}
	}
}

// BenchmarkIndexedEvaluate is BenchmarkEvaluate with the selection first,
// as the checkout does it.
func BenchmarkIndexedEvaluate(b *testing.B) {
	baskets := benchBaskets(16)
	for _, n := range []int{10, 100, 1000} {
		cands := benchCampaigns(b, n)
		ix := NewIndex(compiledOf(cands), nil)
		seen := make([]uint64, (n+63)/64)
		var pos []int32
		var picked []Candidate
		b.Run(fmt.Sprintf("campaigns=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				bk := &baskets[i%len(baskets)]
				pos = ix.Select(bk, nil, seen, pos[:0])
				picked = picked[:0]
				for _, p := range pos {
					picked = append(picked, cands[p])
				}
				Evaluate(*bk, picked, benchOptions)
				i++
			}
		})
	}
}
