package engine

import (
	"errors"
	"testing"
	"time"
)

func TestCompile_RejectsInvalidCampaigns(t *testing.T) {
	tests := []struct {
		name    string
		edit    func(*Campaign)
		field   string
		message string
	}{
		{"no id", func(c *Campaign) { c.ID = "" }, "id", "id is required"},
		{"end before start", func(c *Campaign) { c.Start, c.End = monday, monday.Add(-time.Hour) },
			"end", "end must be after start"},
		{"end equal to start", func(c *Campaign) { c.Start, c.End = monday, monday },
			"end", "end must be after start"},
		{"an empty store code", func(c *Campaign) { c.Stores = []string{"S1", ""} },
			"stores[1]", "store 2 is empty"},
		{"negative minimum", func(c *Campaign) { c.Conditions.MinBasket = -1 },
			"conditions.min_basket", "conditions: min_basket must be 0..100000000000"},
		{"a day out of range", func(c *Campaign) { c.Conditions.Days = []time.Weekday{time.Monday, 7} },
			"conditions.days[1]", "conditions: day 2 must be 0 (Sunday) .. 6 (Saturday)"},
		{"from not HH:MM", func(c *Campaign) { c.Conditions.From = "9:00" },
			"conditions.from", `conditions: from "9:00" must be HH:MM (00:00..23:59)`},
		{"to out of range", func(c *Campaign) { c.Conditions.To = "24:00" },
			"conditions.to", `conditions: to "24:00" must be HH:MM (00:00..23:59)`},
		{"minutes out of range", func(c *Campaign) { c.Conditions.From = "10:60" },
			"conditions.from", `conditions: from "10:60" must be HH:MM (00:00..23:59)`},
		{"an empty window", func(c *Campaign) { c.Conditions.From, c.Conditions.To = "10:00", "10:00" },
			"conditions.to", "conditions: to must differ from from (the window would be empty)"},
		{"an empty required SKU", func(c *Campaign) { c.Conditions.RequireSKUs = []string{""} },
			"conditions.require_skus[0]", "conditions: required SKU 1 is empty"},
		{"no benefits", func(c *Campaign) { c.Benefits = nil }, "benefits", "a campaign needs at least one benefit"},
		{"a benefit without id", func(c *Campaign) { c.Benefits[1].ID = "" },
			"benefits[1].id", "benefit 2: id is required"},
		{"two benefits with one id", func(c *Campaign) { c.Benefits[1].ID = "b1" },
			"benefits[1].id", `benefit 2: id "b1" is also benefit 1's`},
		{"no kind", func(c *Campaign) { c.Benefits[1].Kind = "" },
			"benefits[1].kind", "benefit 2: kind is required"},
		{"an unknown kind", func(c *Campaign) { c.Benefits[1].Kind = "half_off" },
			"benefits[1].kind", `benefit 2: kind "half_off" is not a known kind`},
		{"percent 0", func(c *Campaign) { c.Benefits[1].Percent = 0 },
			"benefits[1].percent", "benefit 2: percent must be 1..100"},
		{"percent over 100", func(c *Campaign) { c.Benefits[1].Percent = 101 },
			"benefits[1].percent", "benefit 2: percent must be 1..100"},
		{"amount_off of nothing", func(c *Campaign) { c.Benefits[1] = Benefit{ID: "b2", Kind: AmountOff} },
			"benefits[1].amount", "benefit 2: amount must be 1..100000000000"},
		{"a negative fixed price", func(c *Campaign) { c.Benefits[1] = Benefit{ID: "b2", Kind: FixedPrice, Price: -1} },
			"benefits[1].price", "benefit 2: price must be 0..10000000000"},
		{"buy 0", func(c *Campaign) { c.Benefits[1] = Benefit{ID: "b2", Kind: BuyXGetY, Get: 1} },
			"benefits[1].buy", "benefit 2: buy must be 1..100000"},
		{"get 0", func(c *Campaign) { c.Benefits[1] = Benefit{ID: "b2", Kind: BuyXGetY, Buy: 1} },
			"benefits[1].get", "benefit 2: get must be 1..100000"},
		{"buy_x_get_y over 100%", func(c *Campaign) { c.Benefits[1] = Benefit{ID: "b2", Kind: BuyXGetY, Buy: 1, Get: 1, Percent: 150} },
			"benefits[1].percent", "benefit 2: percent must be 0 (free) or 1..100"},
		{"a threshold of 0", func(c *Campaign) { c.Benefits[1] = Benefit{ID: "b2", Kind: SpendThreshold, Amount: 100} },
			"benefits[1].threshold", "benefit 2: threshold must be 1..100000000000"},
		{"a threshold giving nothing", func(c *Campaign) { c.Benefits[1] = Benefit{ID: "b2", Kind: SpendThreshold, Threshold: 100} },
			"benefits[1].amount", "benefit 2: amount must be 1..100000000000 when percent is not set"},
		{"a points bonus of 0", func(c *Campaign) { c.Benefits[1] = Benefit{ID: "b2", Kind: PointsBonus} },
			"benefits[1].points", "benefit 2: points must be 1..1000000000"},
		{"a multiplier of 1", func(c *Campaign) { c.Benefits[1] = Benefit{ID: "b2", Kind: PointsMultiplier, Multiplier: 1} },
			"benefits[1].multiplier", "benefit 2: multiplier must be 2..100"},
		{"free content without a pool", func(c *Campaign) { c.Benefits[1] = Benefit{ID: "b2", Kind: FreeContent} },
			"benefits[1].pool", "benefit 2: pool is required"},
		{"free content with a scope", func(c *Campaign) {
			c.Benefits[1] = Benefit{ID: "b2", Kind: FreeContent, Pool: "p", Scope: skus("A")}
		}, "benefits[1].scope", "benefit 2: scope is not used by free_content: use conditions.require_skus or require_categories"},
		{"an empty scope category", func(c *Campaign) { c.Benefits[1].Scope = cats("dairy", "") },
			"benefits[1].scope.categories[1]", "benefit 2: scope category 2 is empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := campaign("c", amountOff("b1", 100), pct("b2", 10))
			tt.edit(&c)
			cc, err := Compile(c)
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Compile = %v, %v; want a *ValidationError", cc, err)
			}
			if ve.Field != tt.field || ve.Message != tt.message || err.Error() != tt.message {
				t.Errorf("error = {%q, %q}, want {%q, %q}", ve.Field, ve.Message, tt.field, tt.message)
			}
		})
	}
}

func TestCompile_AcceptsEveryKind(t *testing.T) {
	c := campaign("c",
		pct("p", 100),
		amountOff("a", 1),
		fixed("f", 0),
		bxgy("x", 1, 1, 0),
		bxgy("xp", 3, 2, 100),
		Benefit{ID: "t", Kind: SpendThreshold, Threshold: 1, Amount: 1},
		Benefit{ID: "tp", Kind: SpendThreshold, Threshold: 1, Percent: 5},
		Benefit{ID: "pb", Kind: PointsBonus, Points: 1},
		Benefit{ID: "pu", Kind: PointsPerUnit, Points: 1},
		Benefit{ID: "pm", Kind: PointsMultiplier, Multiplier: 2},
		Benefit{ID: "fc", Kind: FreeContent, Pool: "songs"},
	)
	c.Start = monday
	c.Conditions = Conditions{From: "22:00", To: "02:00", Days: []time.Weekday{time.Sunday, time.Saturday}}
	if _, err := Compile(c); err != nil {
		t.Fatal(err)
	}
}

func TestCompile_IsNotChangedByLaterEdits(t *testing.T) {
	c := campaign("c", pct("ten", 10, skus("A")))
	c.Stores = []string{"S1"}
	cc := compile(t, c)
	c.Benefits[0].Percent = 90
	c.Benefits[0].Scope.SKUs[0] = "B"
	c.Stores[0] = "S2"
	res := Evaluate(basket(ln("A", 1, 1000)), []Candidate{{Campaign: cc, BudgetLeft: -1}}, Options{})
	if res.TotalDiscount != 100 {
		t.Errorf("total = %d, want 100 as compiled", res.TotalDiscount)
	}
	if cc.Stores[0] != "S1" || cc.Benefits[0].Percent != 10 || cc.Benefits[0].Scope.SKUs[0] != "A" {
		t.Errorf("compiled campaign changed with its source: %+v", cc.Campaign)
	}
}
