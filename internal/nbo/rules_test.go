package nbo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// bruteRules recomputes association rules the slow, obvious way, as an
// independent check of Mine: for every ordered pair of distinct items, scan
// every basket for each, and apply the definitions.
func bruteRules(level string, baskets [][]string, th Thresholds, related func(a, b string) bool) map[string]Rule {
	var items []string
	for _, b := range baskets {
		for _, x := range b {
			if !slices.Contains(items, x) {
				items = append(items, x)
			}
		}
	}
	n := float64(len(baskets))
	count := func(want ...string) (c int64) {
		for _, b := range baskets {
			all := true
			for _, w := range want {
				all = all && slices.Contains(b, w)
			}
			if all {
				c++
			}
		}
		return c
	}
	out := map[string]Rule{}
	for _, x := range items {
		for _, y := range items {
			if x == y || (related != nil && related(x, y)) {
				continue
			}
			both := count(x, y)
			supp := float64(both) / n
			conf := float64(both) / float64(count(x))
			if both < th.MinBaskets || supp < th.MinSupport || conf < th.MinConfidence {
				continue
			}
			out[x+"->"+y] = Rule{Level: level, Antecedent: x, Consequent: y, Baskets: both, Support: supp,
				Confidence: conf, Lift: conf / (float64(count(y)) / n)}
		}
	}
	return out
}

func near(a, b float64) bool { return math.Abs(a-b) <= 1e-12*math.Max(1, math.Abs(b)) }

// sameRules fails the test unless got holds exactly the rules of want.
func sameRules(t *testing.T, got []Rule, want map[string]Rule) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%d rules, want %d", len(got), len(want))
	}
	for _, r := range got {
		w, ok := want[r.Antecedent+"->"+r.Consequent]
		if !ok {
			t.Errorf("rule %s -> %s not in the recomputation", r.Antecedent, r.Consequent)
			continue
		}
		if r.Level != w.Level || r.Baskets != w.Baskets || !near(r.Support, w.Support) || !near(r.Confidence, w.Confidence) || !near(r.Lift, w.Lift) {
			t.Errorf("rule %s -> %s = %+v, recomputed %+v", r.Antecedent, r.Consequent, r, w)
		}
	}
}

func TestMine_EqualsBruteForceRecomputation(t *testing.T) {
	rnd := rand.New(rand.NewPCG(1, 2))
	items := []string{"coffee", "pastries", "milk", "bread", "butter", "jam", "tea", "biscuits"}
	var baskets [][]string
	for range 500 {
		var b []string
		for j, it := range items {
			// Planted pairs: pastries follow coffee, butter follows bread.
			p := 0.15 + 0.05*float64(j%3)
			if it == "pastries" && slices.Contains(b, "coffee") || it == "butter" && slices.Contains(b, "bread") {
				p = 0.7
			}
			if rnd.Float64() < p {
				b = append(b, it)
				if rnd.IntN(10) == 0 {
					b = append(b, it) // a repeated line counts once
				}
			}
		}
		baskets = append(baskets, b)
	}
	for _, th := range []Thresholds{
		{MinSupport: 0.01, MinConfidence: 0.2, MinBaskets: 5},
		{MinSupport: 0.05, MinConfidence: 0.5, MinBaskets: 1},
		{MinSupport: 0, MinConfidence: 0, MinBaskets: 0},
		{MinSupport: 0.9, MinConfidence: 0.9, MinBaskets: 1},
	} {
		t.Run(fmt.Sprintf("%+v", th), func(t *testing.T) {
			dedup := make([][]string, len(baskets))
			for i, b := range baskets {
				dedup[i] = slices.Compact(slices.Sorted(slices.Values(b)))
			}
			sameRules(t, Mine(LevelCategory, baskets, th, nil), bruteRules(LevelCategory, dedup, th, nil))
		})
	}
	t.Run("the planted pair is found with its lift", func(t *testing.T) {
		for _, r := range Mine(LevelSKU, baskets, DefaultThresholds, nil) {
			if r.Antecedent == "coffee" && r.Consequent == "pastries" {
				if r.Lift < 1.5 {
					t.Errorf("coffee -> pastries lift %.2f, want the planted association (> 1.5)", r.Lift)
				}
				return
			}
		}
		t.Error("coffee -> pastries not mined")
	})
}

func TestMine_LeavesOutRelatedCategories(t *testing.T) {
	baskets := [][]string{}
	for range 10 {
		baskets = append(baskets, []string{"drinks", "drinks/coffee", "bakery"})
	}
	for _, r := range Mine(LevelCategory, baskets, Thresholds{}, nested) {
		if nested(r.Antecedent, r.Consequent) {
			t.Errorf("rule %s -> %s relates a category to its own parent", r.Antecedent, r.Consequent)
		}
	}
	if got := len(Mine(LevelCategory, baskets, Thresholds{}, nested)); got != 4 {
		t.Errorf("%d rules, want 4 (drinks and drinks/coffee each with bakery, both ways)", got)
	}
	if got := Mine(LevelCategory, nil, DefaultThresholds, nested); len(got) != 0 {
		t.Errorf("no baskets gave %d rules", len(got))
	}
}
