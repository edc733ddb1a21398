package engine

import (
	"errors"
	"fmt"
	"math"
	"testing"
)

func TestCompile_RefusesFiguresOutsideTheirRanges(t *testing.T) {
	const maxInt = math.MaxInt
	tests := []struct {
		name    string
		b       Benefit
		min     int64 // conditions.min_basket
		field   string
		message string
	}{
		{"an amount over MaxAmount", Benefit{Kind: AmountOff, Amount: MaxAmount + 1},
			0, "benefits[0].amount", "benefit 1: amount must be 1..100000000000"},
		{"an amount of MaxInt64", Benefit{Kind: AmountOff, Amount: math.MaxInt64},
			0, "benefits[0].amount", "benefit 1: amount must be 1..100000000000"},
		{"a negative amount", Benefit{Kind: AmountOff, Amount: math.MinInt64},
			0, "benefits[0].amount", "benefit 1: amount must be 1..100000000000"},
		{"a fixed price over MaxUnitPrice", Benefit{Kind: FixedPrice, Price: MaxUnitPrice + 1},
			0, "benefits[0].price", "benefit 1: price must be 0..10000000000"},
		{"a fixed price of MinInt64", Benefit{Kind: FixedPrice, Price: math.MinInt64},
			0, "benefits[0].price", "benefit 1: price must be 0..10000000000"},
		{"buy over MaxQuantity", Benefit{Kind: BuyXGetY, Buy: MaxQuantity + 1, Get: 1},
			0, "benefits[0].buy", "benefit 1: buy must be 1..100000"},
		{"buy of MaxInt, whose buy + get overflows", Benefit{Kind: BuyXGetY, Buy: maxInt, Get: 1},
			0, "benefits[0].buy", "benefit 1: buy must be 1..100000"},
		{"get of MaxInt", Benefit{Kind: BuyXGetY, Buy: 1, Get: maxInt},
			0, "benefits[0].get", "benefit 1: get must be 1..100000"},
		{"a threshold over MaxAmount", Benefit{Kind: SpendThreshold, Threshold: MaxAmount + 1, Amount: 1},
			0, "benefits[0].threshold", "benefit 1: threshold must be 1..100000000000"},
		{"a threshold's amount of MaxInt64", Benefit{Kind: SpendThreshold, Threshold: 1, Amount: math.MaxInt64},
			0, "benefits[0].amount", "benefit 1: amount must be 1..100000000000 when percent is not set"},
		{"a threshold's unused amount out of range", Benefit{Kind: SpendThreshold, Threshold: 1, Percent: 5, Amount: -1},
			0, "benefits[0].amount", "benefit 1: amount must be 0 (use percent) or 1..100000000000"},
		{"a points bonus over MaxPoints", Benefit{Kind: PointsBonus, Points: MaxPoints + 1},
			0, "benefits[0].points", "benefit 1: points must be 1..1000000000"},
		{"a points bonus of MaxInt64", Benefit{Kind: PointsBonus, Points: math.MaxInt64},
			0, "benefits[0].points", "benefit 1: points must be 1..1000000000"},
		{"points per unit over MaxPointsPerUnit", Benefit{Kind: PointsPerUnit, Points: MaxPointsPerUnit + 1},
			0, "benefits[0].points", "benefit 1: points must be 1..10000"},
		{"points per unit of MaxInt64 (issue 17)", Benefit{Kind: PointsPerUnit, Points: math.MaxInt64},
			0, "benefits[0].points", "benefit 1: points must be 1..10000"},
		{"points per unit of MinInt64", Benefit{Kind: PointsPerUnit, Points: math.MinInt64},
			0, "benefits[0].points", "benefit 1: points must be 1..10000"},
		{"a multiplier over MaxMultiplier", Benefit{Kind: PointsMultiplier, Multiplier: MaxMultiplier + 1},
			0, "benefits[0].multiplier", "benefit 1: multiplier must be 2..100"},
		{"a multiplier of MaxInt", Benefit{Kind: PointsMultiplier, Multiplier: maxInt},
			0, "benefits[0].multiplier", "benefit 1: multiplier must be 2..100"},
		{"a multiplier of MinInt, whose multiplier - 1 overflows", Benefit{Kind: PointsMultiplier, Multiplier: math.MinInt},
			0, "benefits[0].multiplier", "benefit 1: multiplier must be 2..100"},
		{"a minimum basket over MaxAmount", Benefit{Kind: PercentOff, Percent: 10},
			MaxAmount + 1, "conditions.min_basket", "conditions: min_basket must be 0..100000000000"},
		{"a minimum basket of MaxInt64", Benefit{Kind: PercentOff, Percent: 10},
			math.MaxInt64, "conditions.min_basket", "conditions: min_basket must be 0..100000000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.b.ID = "b1"
			c := campaign("c", tt.b)
			c.Conditions.MinBasket = tt.min
			cc, err := Compile(c)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Compile = %v, %v; want a *ValidationError", cc, err)
			}
			if ve.Field != tt.field || ve.Message != tt.message {
				t.Errorf("error = {%q, %q}, want {%q, %q}", ve.Field, ve.Message, tt.field, tt.message)
			}
		})
	}
}

func TestCompile_AcceptsFiguresAtTheirLimits(t *testing.T) {
	c := campaign("c",
		amountOff("a", MaxAmount),
		fixed("f", MaxUnitPrice),
		bxgy("x", MaxQuantity, MaxQuantity, 100),
		Benefit{ID: "t", Kind: SpendThreshold, Threshold: MaxAmount, Amount: MaxAmount},
		Benefit{ID: "pb", Kind: PointsBonus, Points: MaxPoints},
		Benefit{ID: "pu", Kind: PointsPerUnit, Points: MaxPointsPerUnit},
		Benefit{ID: "pm", Kind: PointsMultiplier, Multiplier: MaxMultiplier},
	)
	c.Conditions.MinBasket = MaxAmount
	if _, err := Compile(c); err != nil {
		t.Fatal(err)
	}
}

func TestEvaluate_ABasketEarnsAtMostMaxPoints(t *testing.T) {
	bonus := func(id string, p int64) Campaign {
		return campaign(id, Benefit{ID: id + ".1", Kind: PointsBonus, Points: p})
	}
	perUnit := func(id string, p int64) Campaign {
		return campaign(id, Benefit{ID: id + ".1", Kind: PointsPerUnit, Points: p})
	}
	multiplier := func(id string, m int) Campaign {
		return campaign(id, Benefit{ID: id + ".1", Kind: PointsMultiplier, Multiplier: m})
	}
	// The most valuable basket a till may send: MaxAmount minor units.
	big := basket(ln("A", 10, MaxAmount/10), ln("B", 1, 0))
	tests := []struct {
		name       string
		b          Basket
		baseEarn   int64
		campaigns  []Campaign
		wantBase   int64
		wantPoints map[string]int64 // offer id -> points
		wantEarned int64
		wantCamps  []string
	}{
		{"well under the cap nothing changes", basket(ln("A", 1, 1000)), 1,
			[]Campaign{bonus("a", 50), perUnit("b", 3)},
			10, map[string]int64{"a.1": 50, "b.1": 30}, 90, []string{"a", "b"}},
		{"base earn alone saturates at the cap", big, 1000,
			nil, MaxPoints, map[string]int64{}, MaxPoints, []string{}},
		{"base earn of MaxInt64 (a misconfiguration) saturates instead of overflowing", basket(ln("A", 1, 1000)), math.MaxInt64,
			[]Campaign{multiplier("m", MaxMultiplier)}, MaxPoints, map[string]int64{}, MaxPoints, []string{}},
		{"the largest points per unit on the largest basket", big, 0,
			[]Campaign{perUnit("a", MaxPointsPerUnit)}, 0, map[string]int64{"a.1": MaxPoints}, MaxPoints, []string{"a"}},
		{"two maximal bonuses: the second gets what room is left", basket(ln("A", 1, 1000)), 1,
			[]Campaign{bonus("a", MaxPoints), bonus("b", MaxPoints)},
			10, map[string]int64{"a.1": MaxPoints - 10}, MaxPoints, []string{"a"}},
		{"a multiplier on a large base gets only what base earn left", basket(ln("A", 10, 100_000_000)), 5,
			[]Campaign{multiplier("m", MaxMultiplier)}, 50_000_000,
			map[string]int64{"m.1": MaxPoints - 50_000_000}, MaxPoints, []string{"m"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cands := candidates(t, tt.campaigns...)
			opt := Options{BaseEarn: tt.baseEarn, Explain: true}
			res := Evaluate(tt.b, cands, opt)
			checkInvariants(t, tt.b, cands, opt, res)
			got := map[string]int64{}
			for _, a := range res.Benefits {
				got[a.OfferID] = a.Points
			}
			if res.BasePoints != tt.wantBase || res.PointsEarned != tt.wantEarned || fmt.Sprint(got) != fmt.Sprint(tt.wantPoints) ||
				fmt.Sprint(res.Campaigns) != fmt.Sprint(tt.wantCamps) {
				t.Fatalf("base %d, points %v, earned %d, campaigns %v; want base %d, points %v, earned %d, campaigns %v",
					res.BasePoints, got, res.PointsEarned, res.Campaigns, tt.wantBase, tt.wantPoints, tt.wantEarned, tt.wantCamps)
			}
		})
	}
}

func TestEvaluate_ExplainsABenefitCutToNothingByTheCap(t *testing.T) {
	cands := candidates(t, campaign("a", Benefit{ID: "a.1", Kind: PointsBonus, Points: MaxPoints}),
		campaign("b", Benefit{ID: "b.1", Kind: PointsBonus, Points: 1}))
	res := Evaluate(basket(ln("A", 1, 100)), cands, Options{Explain: true})
	want := `[{b  no_qualifying_items b.1: the basket already earns the most points one basket can (1000000000)}]`
	if got := fmt.Sprint(res.Rejected); got != want {
		t.Fatalf("rejected %s\nwant %s", got, want)
	}
}

func TestEvaluate_LinesBeyondTheRangesAreCapped(t *testing.T) {
	// The API never sends these; the engine must still not overflow on them.
	tests := []struct {
		name  string
		lines []Line
		b     Benefit
		want  int64 // total discount
	}{
		{"a line of MaxInt units at MaxInt64 counts as MaxAmount", []Line{ln("A", math.MaxInt, math.MaxInt64)},
			pct("p", 10), MaxAmount / 10},
		{"three such lines count as three times MaxAmount", []Line{ln("A", math.MaxInt, math.MaxInt64),
			ln("B", math.MaxInt, math.MaxInt64), ln("C", math.MaxInt, math.MaxInt64)}, pct("p", 100), 3 * MaxAmount},
		// Each line's MaxAmount spread over its units: MaxAmount of them cost 1, the rest 0.
		{"buy one get one over lines of MaxInt units does not overflow the unit count", []Line{ln("A", math.MaxInt, 1),
			ln("B", math.MaxInt, 1)}, bxgy("x", 1, 1, 0), MaxAmount},
		{"a fixed price of 0 on a line of MaxInt units takes its whole value", []Line{ln("A", math.MaxInt, 3)}, fixed("f", 0), MaxAmount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := basket(tt.lines...)
			cands := candidates(t, campaign("c", tt.b))
			res := Evaluate(b, cands, Options{BaseEarn: 1, Explain: true})
			checkInvariants(t, b, cands, Options{Explain: true}, res)
			if res.TotalDiscount != tt.want || res.PointsEarned < 0 || res.PointsEarned > MaxPoints {
				t.Fatalf("discount %d (want %d), points %d", res.TotalDiscount, tt.want, res.PointsEarned)
			}
		})
	}
}

// extremes are the values FuzzExtremeValues starts from: the edges of int64
// and of every range, and either side of them.
var extremes = []int64{0, 1, -1, 2, 50, 99, 100, 101, math.MaxInt64, math.MaxInt64 - 1, math.MinInt64, math.MinInt64 + 1,
	math.MaxInt32, math.MaxInt32 + 1, math.MinInt32,
	MaxQuantity, MaxQuantity + 1, MaxUnitPrice, MaxUnitPrice + 1, MaxAmount, MaxAmount + 1,
	MaxPoints, MaxPoints + 1, MaxPointsPerUnit, MaxPointsPerUnit + 1, MaxMultiplier, MaxMultiplier + 1}

var fuzzKinds = []Kind{PercentOff, AmountOff, FixedPrice, BuyXGetY, SpendThreshold, PointsBonus, PointsPerUnit, PointsMultiplier, FreeContent}

// FuzzExtremeValues feeds extreme figures through Compile and Evaluate: a
// campaign either fails to compile, or its figures are inside their ranges
// and every basket it meets, however extreme, gets sums that are
// non-negative, bounded and add up.
func FuzzExtremeValues(f *testing.F) {
	for k := range fuzzKinds {
		for i, v := range extremes {
			w := extremes[(i+7)%len(extremes)]
			f.Add(uint8(k), v, w, int64(k*10), v, w, v, uint8(i))
			f.Add(uint8(k), v, int64(1), v, int64(MaxQuantity), int64(MaxUnitPrice), int64(1), uint8(i+k))
		}
	}
	f.Fuzz(func(t *testing.T, kind uint8, a, b, c, qty, price, baseEarn int64, shape uint8) {
		bn := Benefit{ID: "b", Kind: fuzzKinds[int(kind)%len(fuzzKinds)], Percent: int(c), Amount: a, Price: a,
			Threshold: b, Buy: int(a), Get: int(b), Points: a, Multiplier: int(a), Pool: "p"}
		c0 := Campaign{ID: "c0", Benefits: []Benefit{bn}, Conditions: Conditions{MinBasket: c}}
		cc, err := Compile(c0)
		if err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Compile = %v, not a *ValidationError", err)
			}
			// Keep evaluating with the figures the campaign may have, so the
			// basket's extremes are still exercised.
			bn.Percent, bn.Amount, bn.Price, bn.Threshold, bn.Buy, bn.Get, bn.Points, bn.Multiplier = 50, 100, 100, 100, 1, 1, 10, 2
			c0 = Campaign{ID: "c0", Benefits: []Benefit{bn}}
			if cc, err = Compile(c0); err != nil {
				t.Fatalf("a campaign within every range does not compile: %v", err)
			}
		} else {
			checkCompiledRanges(t, bn, c)
		}
		cands := []Candidate{{Campaign: cc, BudgetLeft: -1}}
		for i := range int(shape % 4) { // more copies of it, stacked or exclusive
			ci := c0
			ci.ID, ci.Exclusive = fmt.Sprintf("c%d", i+1), shape&(16<<i) != 0
			cands = append(cands, Candidate{Campaign: compile(t, ci), BudgetLeft: -1})
		}
		bk := basket(Line{SKU: "A", Quantity: int(qty), UnitPrice: price}, ln("B", 1, 999),
			ln("C", MaxQuantity, MaxUnitPrice), Line{SKU: "D", Quantity: int(price), UnitPrice: qty})
		opt := Options{BaseEarn: baseEarn, MinorPerUnit: []int64{0, 1, 100, math.MaxInt64}[shape>>6],
			PointValueNum: baseEarn, PointValueDen: 1, Explain: shape&8 != 0}
		res := Evaluate(bk, cands, opt)
		checkInvariants(t, bk, cands, opt, res)
		var gross int64
		for i := range bk.Lines {
			gross += lineValue(&bk.Lines[i])
		}
		if res.TotalDiscount < 0 || res.TotalDiscount > gross || res.BasePoints < 0 || res.PointsEarned < 0 || res.PointsEarned > MaxPoints {
			t.Fatalf("out of bounds: discount %d of %d, base %d, earned %d (max %d)", res.TotalDiscount, gross,
				res.BasePoints, res.PointsEarned, int64(MaxPoints))
		}
	})
}

// checkCompiledRanges fails unless the figures that matter for the benefit's
// kind are inside their documented ranges: Compile accepted them.
func checkCompiledRanges(t *testing.T, b Benefit, minBasket int64) {
	t.Helper()
	in := func(v, lo, hi int64) bool { return lo <= v && v <= hi }
	ok := in(minBasket, 0, MaxAmount)
	switch b.Kind {
	case PercentOff:
		ok = ok && in(int64(b.Percent), 1, 100)
	case AmountOff:
		ok = ok && in(b.Amount, 1, MaxAmount)
	case FixedPrice:
		ok = ok && in(b.Price, 0, MaxUnitPrice)
	case BuyXGetY:
		ok = ok && in(int64(b.Buy), 1, MaxQuantity) && in(int64(b.Get), 1, MaxQuantity) && in(int64(b.Percent), 0, 100)
	case SpendThreshold:
		ok = ok && in(b.Threshold, 1, MaxAmount) && in(int64(b.Percent), 0, 100) && in(b.Amount, 0, MaxAmount) &&
			(b.Percent > 0 || b.Amount > 0)
	case PointsBonus:
		ok = ok && in(b.Points, 1, MaxPoints)
	case PointsPerUnit:
		ok = ok && in(b.Points, 1, MaxPointsPerUnit)
	case PointsMultiplier:
		ok = ok && in(int64(b.Multiplier), 2, MaxMultiplier)
	}
	if !ok {
		t.Fatalf("Compile accepted %+v with min_basket %d, outside the ranges", b, minBasket)
	}
}
