package engine

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// The benchmark shop: 5,000 SKUs in 200 categories. Baskets buy from SKUs
// 0..3999, mostly the 500 best sellers; SKUs 4000..4999 (categories
// 180..199) are never bought, so a campaign scoped to them cannot match.
const (
	benchSKUs     = 5000
	benchBought   = 4000
	benchHot      = 500
	benchCats     = 200
	benchColdCats = 20
)

func benchSKU(i int) string { return fmt.Sprintf("SKU%04d", i) }
func benchCat(i int) string { return fmt.Sprintf("CAT%03d", i) }

func benchCategories(sku int) []string {
	live := benchCats - benchColdCats
	if sku >= benchBought {
		return []string{benchCat(live + sku%benchColdCats)}
	}
	cats := []string{benchCat(sku % live)}
	if sku%3 == 0 {
		cats = append(cats, benchCat((sku/3+7)%live))
	}
	return cats
}

// benchBaskets are 50-line baskets at different times of the week.
func benchBaskets(n int) []Basket {
	r := rand.New(rand.NewPCG(1, 1))
	out := make([]Basket, n)
	for k := range out {
		seen := make(map[int]bool)
		b := Basket{Store: fmt.Sprintf("S%02d", r.IntN(20)), Time: monday.Add(time.Duration(r.IntN(7*24*60)) * time.Minute),
			Currency: "GBP", Member: r.IntN(5) != 0}
		for len(b.Lines) < 50 {
			sku := r.IntN(benchBought)
			if r.IntN(10) < 7 {
				sku = r.IntN(benchHot)
			}
			if seen[sku] {
				continue
			}
			seen[sku] = true
			qty := 1
			if r.IntN(4) == 0 {
				qty = 2 + r.IntN(5)
			}
			b.Lines = append(b.Lines, Line{Line: len(b.Lines) + 1, SKU: benchSKU(sku), Categories: benchCategories(sku),
				Quantity: qty, UnitPrice: int64(50 + r.IntN(2000))})
		}
		out[k] = b
	}
	return out
}

// benchCampaigns makes n campaigns of every kind: mostly scoped to a few
// SKUs or categories, about 30% scoped to products no basket buys, a few
// exclusive, some with time windows, store lists, minimums and budgets.
func benchCampaigns(tb testing.TB, n int) []Candidate {
	r := rand.New(rand.NewPCG(2, 2))
	out := make([]Candidate, 0, n)
	for i := range n {
		cold := r.IntN(10) < 3
		scope := func() Scope {
			var s Scope
			switch x := r.IntN(20); {
			case x < 10:
				for range 3 + r.IntN(18) {
					sku := r.IntN(benchHot)
					if cold {
						sku = benchBought + r.IntN(benchSKUs-benchBought)
					}
					s.SKUs = append(s.SKUs, benchSKU(sku))
				}
			case x < 17:
				for range 1 + r.IntN(3) {
					c := r.IntN(benchCats - benchColdCats)
					if cold {
						c = benchCats - benchColdCats + r.IntN(benchColdCats)
					}
					s.Categories = append(s.Categories, benchCat(c))
				}
			default:
				if cold { // a whole-basket offer that needs a product nobody buys
					s.SKUs = []string{benchSKU(benchBought + r.IntN(benchSKUs-benchBought))}
				}
			}
			return s
		}
		c := Campaign{ID: fmt.Sprintf("cmp_%05d", i), Priority: r.IntN(10), Exclusive: r.IntN(100) < 3, Open: r.IntN(2) == 0,
			Start: monday.Add(-time.Duration(1+r.IntN(1000)) * time.Hour)}
		if r.IntN(10) == 0 {
			c.End = monday.Add(time.Duration(r.IntN(14*24)) * time.Hour)
		}
		if r.IntN(10) == 0 {
			c.Stores = []string{fmt.Sprintf("S%02d", r.IntN(20)), fmt.Sprintf("S%02d", r.IntN(20))}
		}
		switch r.IntN(20) {
		case 0:
			c.Conditions.From, c.Conditions.To = "17:00", "20:00"
		case 1:
			c.Conditions.From, c.Conditions.To, c.Conditions.Days = "22:00", "02:00", []time.Weekday{time.Friday, time.Saturday}
		case 2:
			c.Conditions.Days = []time.Weekday{time.Weekday(r.IntN(7))}
		}
		if r.IntN(10) == 0 {
			c.Conditions.MinBasket = int64(1000 + r.IntN(40000))
		}
		for j := range 1 + r.IntN(2) {
			bn := Benefit{ID: fmt.Sprintf("%s.%d", c.ID, j+1), Scope: scope()}
			switch x := r.IntN(20); {
			case x < 5:
				bn.Kind, bn.Percent = PercentOff, []int{5, 10, 15, 20, 25, 50}[r.IntN(6)]
			case x < 7:
				bn.Kind, bn.Amount = AmountOff, int64(50*(1+r.IntN(10)))
			case x < 9:
				bn.Kind, bn.Price = FixedPrice, int64(100*(1+r.IntN(10)))
			case x < 12:
				bn.Kind, bn.Buy, bn.Get = BuyXGetY, 1+r.IntN(3), 1
				if r.IntN(2) == 0 {
					bn.Percent = 50
				}
			case x < 14:
				bn.Kind, bn.Threshold, bn.Amount = SpendThreshold, int64(1000*(1+r.IntN(5))), int64(100*(1+r.IntN(5)))
			case x < 15:
				bn.Kind, bn.Points = PointsBonus, int64(50*(1+r.IntN(10)))
			case x < 17:
				bn.Kind, bn.Points = PointsPerUnit, int64(1+r.IntN(4))
			case x < 19:
				bn.Kind, bn.Multiplier = PointsMultiplier, 2+r.IntN(3)
			default:
				bn.Kind, bn.Pool, bn.Scope = FreeContent, "songs", Scope{}
				if cold {
					c.Conditions.RequireSKUs = []string{benchSKU(benchBought + r.IntN(benchSKUs-benchBought))}
				}
			}
			c.Benefits = append(c.Benefits, bn)
		}
		cd := Candidate{Campaign: compile(tb, c), BudgetLeft: -1}
		if r.IntN(10) == 0 {
			cd.BudgetLeft = int64(r.IntN(5000))
		}
		out = append(out, cd)
	}
	return out
}

var benchOptions = Options{BaseEarn: 1, MinorPerUnit: 100, PointValueNum: 1, PointValueDen: 2}

// BenchmarkEvaluate is one Evaluate of a 50-line basket against n active
// campaigns. applied-% and unmatched-% describe the mix (see shares).
func BenchmarkEvaluate(b *testing.B) {
	baskets := benchBaskets(16)
	for _, n := range []int{10, 100, 1000} {
		cands := benchCampaigns(b, n)
		b.Run(fmt.Sprintf("campaigns=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				Evaluate(baskets[i%len(baskets)], cands, benchOptions)
				i++
			}
			applied, unmatched := shares(baskets, cands)
			b.ReportMetric(applied, "applied-%")
			b.ReportMetric(unmatched, "unmatched-%")
		})
	}
}

// BenchmarkEvaluateLatency times every call on its own and reports the
// median and the 99th percentile.
func BenchmarkEvaluateLatency(b *testing.B) {
	baskets := benchBaskets(16)
	for _, n := range []int{10, 100, 1000} {
		cands := benchCampaigns(b, n)
		b.Run(fmt.Sprintf("campaigns=%d", n), func(b *testing.B) {
			var took []time.Duration
			i := 0
			for b.Loop() {
				start := time.Now()
				Evaluate(baskets[i%len(baskets)], cands, benchOptions)
				took = append(took, time.Since(start))
				i++
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Nanoseconds()), "p50-ns")
			b.ReportMetric(float64(took[len(took)*99/100].Nanoseconds()), "p99-ns")
		})
	}
}

// shares measures the mix: the share of campaigns that apply to a basket,
// and of those that find no line they could work on (nothing in scope, or a
// required product missing).
func shares(baskets []Basket, cands []Candidate) (applied, unmatched float64) {
	var a, u int
	for _, bk := range baskets {
		res := Evaluate(bk, cands, Options{Explain: true, BaseEarn: 1})
		a += len(res.Campaigns)
		for _, r := range res.Rejected {
			if r.Reason == RequiredItems || r.Reason == NothingToDiscount && r.Detail == "no line in any benefit's scope" {
				u++
			}
		}
	}
	all := float64(len(baskets) * len(cands))
	return 100 * float64(a) / all, 100 * float64(u) / all
}
