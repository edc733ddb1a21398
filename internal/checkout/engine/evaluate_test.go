package engine

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEvaluate_BenefitKinds(t *testing.T) {
	tests := []struct {
		name    string
		lines   []Line
		benefit Benefit
		want    []int64 // discount per line
	}{
		{"percent_off takes a percentage of the scope, shared by line value",
			[]Line{ln("A", 1, 1000), ln("B", 2, 250)}, pct("b", 10), []int64{100, 50}},
		{"amount_off takes its amount, shared by line value",
			[]Line{ln("A", 1, 1000), ln("B", 1, 500)}, amountOff("b", 300), []int64{200, 100}},
		{"amount_off takes at most what the scope is worth",
			[]Line{ln("A", 1, 200), ln("B", 1, 900)}, amountOff("b", 500, skus("A")), []int64{200, 0}},
		{"fixed_price sells each unit in scope for the price",
			[]Line{ln("A", 3, 250)}, fixed("b", 100), []int64{450}},
		{"fixed_price never raises a price",
			[]Line{ln("A", 1, 250), ln("B", 2, 80)}, fixed("b", 100), []int64{150, 0}},
		{"spend_threshold gives its amount once the scope reaches the threshold",
			[]Line{ln("A", 1, 1500), ln("B", 1, 500)}, Benefit{ID: "b", Kind: SpendThreshold, Threshold: 2000, Amount: 500}, []int64{375, 125}},
		{"spend_threshold gives nothing below the threshold",
			[]Line{ln("A", 1, 1999)}, Benefit{ID: "b", Kind: SpendThreshold, Threshold: 2000, Amount: 500}, []int64{0}},
		{"spend_threshold with a percent gives the percent of the scope",
			[]Line{ln("A", 1, 2500)}, Benefit{ID: "b", Kind: SpendThreshold, Threshold: 2000, Percent: 10}, []int64{250}},
		{"buy_x_get_y: of every three units one is free",
			[]Line{ln("A", 3, 100)}, bxgy("b", 2, 1, 0), []int64{100}},
		{"buy_x_get_y with a percent takes that percent off the get units",
			[]Line{ln("A", 2, 300)}, bxgy("b", 1, 1, 50), []int64{150}},
		{"a benefit scoped to products not in the basket gives nothing",
			[]Line{ln("A", 1, 1000)}, pct("b", 50, skus("Z")), []int64{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Evaluate(basket(tt.lines...), candidates(t, campaign("c", tt.benefit)), Options{})
			if got := lineDiscounts(res); !slices.Equal(got, tt.want) {
				t.Errorf("line discounts = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEvaluate_Scopes(t *testing.T) {
	lines := func() []Line {
		return []Line{
			ln("MILK", 1, 100, "dairy"),
			ln("BREAD", 1, 200, "bakery"),
			ln("CHEESE", 1, 300, "dairy", "deli"),
			ln("WINE", 1, 400, "alcohol"),
		}
	}
	tests := []struct {
		name  string
		scope Scope
		want  []int64
	}{
		{"empty scope is the whole basket", Scope{}, []int64{50, 100, 150, 200}},
		{"a SKU scope takes only those products", skus("BREAD", "WINE"), []int64{0, 100, 0, 200}},
		{"a category scope takes every line in the category", cats("dairy"), []int64{50, 0, 150, 0}},
		{"a line in several categories matches any of them", cats("deli"), []int64{0, 0, 150, 0}},
		{"SKUs and categories together take either", Scope{SKUs: []string{"WINE"}, Categories: []string{"bakery"}}, []int64{0, 100, 0, 200}},
		{"a line matching both SKU and category counts once", Scope{SKUs: []string{"MILK"}, Categories: []string{"dairy"}}, []int64{50, 0, 150, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Evaluate(basket(lines()...), candidates(t, campaign("c", pct("half", 50, tt.scope))), Options{})
			if got := lineDiscounts(res); !slices.Equal(got, tt.want) {
				t.Errorf("line discounts = %v, want %v", got, tt.want)
			}
		})
	}

	t.Run("a line with no units matches nothing", func(t *testing.T) {
		res := Evaluate(basket(ln("A", 0, 100), ln("A", 1, 100)), candidates(t, campaign("c", pct("half", 50))), Options{})
		if got, want := lineDiscounts(res), []int64{0, 50}; !slices.Equal(got, want) {
			t.Errorf("line discounts = %v, want %v", got, want)
		}
	})
}

func TestEvaluate_Conditions(t *testing.T) {
	at := func(day, hour, min int) time.Time { return time.Date(2026, 11, day, hour, min, 0, 0, time.UTC) }
	plus1 := time.FixedZone("UTC+1", 3600)
	tests := []struct {
		name   string
		edit   func(*Campaign)
		basket func(*Basket)
		want   Reason // "" = applies
	}{
		{"no conditions: applies", nil, nil, ""},
		{"before the start", func(c *Campaign) { c.Start = monday.Add(time.Minute) }, nil, OutsideDates},
		{"at the start", func(c *Campaign) { c.Start = monday }, nil, ""},
		{"at the end, which is exclusive", func(c *Campaign) { c.End = monday }, nil, OutsideDates},
		{"just before the end", func(c *Campaign) { c.End = monday.Add(time.Nanosecond) }, nil, ""},
		{"in a listed store", func(c *Campaign) { c.Stores = []string{"S9", "S1"} }, nil, ""},
		{"in another store", func(c *Campaign) { c.Stores = []string{"S2"} }, nil, NotInStore},
		{"on a listed day", func(c *Campaign) { c.Conditions.Days = []time.Weekday{time.Monday} }, nil, ""},
		{"on another day", func(c *Campaign) { c.Conditions.Days = []time.Weekday{time.Tuesday, time.Sunday} }, nil, OutsideTimeWindow},
		{"window 09:00-17:00 at 09:00 (from is inclusive)", window("09:00", "17:00"), timeAt(at(23, 9, 0)), ""},
		{"window 09:00-17:00 at 16:59", window("09:00", "17:00"), timeAt(at(23, 16, 59)), ""},
		{"window 09:00-17:00 at 17:00 (to is exclusive)", window("09:00", "17:00"), timeAt(at(23, 17, 0)), OutsideTimeWindow},
		{"window 09:00-17:00 at 08:59", window("09:00", "17:00"), timeAt(at(23, 8, 59)), OutsideTimeWindow},
		{"from 18:00 to the end of the day at 23:59", window("18:00", ""), timeAt(at(23, 23, 59)), ""},
		{"to 00:00 is the midnight that ends the day", window("18:00", "00:00"), timeAt(at(23, 23, 59)), ""},
		{"Friday 22:00-02:00 on Friday 23:00", fridayNight, timeAt(at(27, 23, 0)), ""},
		{"Friday 22:00-02:00 on Saturday 01:30 (the night that began on Friday)", fridayNight, timeAt(at(28, 1, 30)), ""},
		{"Friday 22:00-02:00 on Saturday 02:00", fridayNight, timeAt(at(28, 2, 0)), OutsideTimeWindow},
		{"Friday 22:00-02:00 on Friday 01:00 (Thursday's night)", fridayNight, timeAt(at(27, 1, 0)), OutsideTimeWindow},
		{"Friday 22:00-02:00 on Saturday 23:00", fridayNight, timeAt(at(28, 23, 0)), OutsideTimeWindow},
		{"the window is in the store's zone: 08:30 UTC is 09:30 at UTC+1", window("09:00", "10:00"),
			func(b *Basket) { b.Time, b.Location = at(23, 8, 30), plus1 }, ""},
		{"the day is in the store's zone: Sunday 23:30 UTC is Monday at UTC+1",
			func(c *Campaign) { c.Conditions.Days = []time.Weekday{time.Monday} },
			func(b *Basket) { b.Time, b.Location = at(22, 23, 30), plus1 }, ""},
		{"no zone means UTC", window("09:00", "10:00"), timeAt(at(23, 8, 30)), OutsideTimeWindow},
		{"members only, no member", nil, func(b *Basket) { b.Member = false }, MemberOnly},
		{"open campaign, no member", func(c *Campaign) { c.Open = true }, func(b *Basket) { b.Member = false }, ""},
		{"a required SKU present", func(c *Campaign) { c.Conditions.RequireSKUs = []string{"Z", "BREAD"} }, nil, ""},
		{"no required SKU", func(c *Campaign) { c.Conditions.RequireSKUs = []string{"Z"} }, nil, RequiredItems},
		{"a required category present", func(c *Campaign) { c.Conditions.RequireCategories = []string{"dairy"} }, nil, ""},
		{"no required category", func(c *Campaign) { c.Conditions.RequireCategories = []string{"toys"} }, nil, RequiredItems},
		{"required SKU and required category are both needed", func(c *Campaign) {
			c.Conditions.RequireSKUs = []string{"BREAD"}
			c.Conditions.RequireCategories = []string{"toys"}
		}, nil, RequiredItems},
		{"minimum basket reached exactly", func(c *Campaign) { c.Conditions.MinBasket = 300 }, nil, ""},
		{"minimum basket not reached", func(c *Campaign) { c.Conditions.MinBasket = 301 }, nil, MinimumNotMet},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := campaign("c", pct("ten", 10))
			if tt.edit != nil {
				tt.edit(&c)
			}
			b := basket(ln("MILK", 1, 100, "dairy"), ln("BREAD", 1, 200, "bakery"))
			if tt.basket != nil {
				tt.basket(&b)
			}
			res := Evaluate(b, candidates(t, c), Options{Explain: true})
			if tt.want == "" {
				if !slices.Equal(res.Campaigns, []string{"c"}) {
					t.Fatalf("campaigns = %v (rejected %+v), want [c]", res.Campaigns, res.Rejected)
				}
				return
			}
			if len(res.Campaigns) != 0 || len(res.Rejected) != 1 || res.Rejected[0].Reason != tt.want {
				t.Fatalf("campaigns = %v, rejected = %+v, want rejected for %s", res.Campaigns, res.Rejected, tt.want)
			}
			if res.Rejected[0].Detail == "" {
				t.Errorf("rejection without detail: %+v", res.Rejected[0])
			}
		})
	}
}

func window(from, to string) func(*Campaign) {
	return func(c *Campaign) { c.Conditions.From, c.Conditions.To = from, to }
}

func fridayNight(c *Campaign) {
	c.Conditions.Days = []time.Weekday{time.Friday}
	c.Conditions.From, c.Conditions.To = "22:00", "02:00"
}

func timeAt(t time.Time) func(*Basket) { return func(b *Basket) { b.Time = t } }

func TestEvaluate_RankOrderAndCompounding(t *testing.T) {
	t.Run("each campaign works on the net price the better-ranked ones left", func(t *testing.T) {
		first := campaign("first", pct("twenty", 20))
		first.Priority = 1
		res := Evaluate(basket(ln("A", 1, 2000)), candidates(t, campaign("second", pct("ten", 10)), first), Options{})
		// 20% of 2000, then 10% of 1600 (not of 2000).
		if got, want := benefitDiscounts(res), map[string]int64{"twenty": 400, "ten": 160}; !maps.Equal(got, want) {
			t.Errorf("benefit discounts = %v, want %v", got, want)
		}
		if !slices.Equal(res.Campaigns, []string{"first", "second"}) {
			t.Errorf("campaigns = %v, want [first second]", res.Campaigns)
		}
	})

	t.Run("20% off then a £5-off-£18 threshold checks the discounted £16", func(t *testing.T) {
		first := campaign("first", pct("twenty", 20))
		first.Priority = 1
		spend := campaign("spend", Benefit{ID: "five", Kind: SpendThreshold, Threshold: 1800, Amount: 500})
		res := Evaluate(basket(ln("A", 1, 2000)), candidates(t, spend, first), Options{Explain: true})
		if res.TotalDiscount != 400 {
			t.Errorf("total discount = %d, want 400", res.TotalDiscount)
		}
		if got := reasons(res)["spend"]; got != NothingToDiscount {
			t.Errorf("spend rejected for %q, want %q", got, NothingToDiscount)
		}
	})

	t.Run("20% off then £5 off takes the £5 from the discounted price", func(t *testing.T) {
		first := campaign("first", pct("twenty", 20))
		first.Priority = 1
		res := Evaluate(basket(ln("A", 1, 1000), ln("B", 1, 1000)),
			candidates(t, campaign("then", amountOff("five", 500)), first), Options{})
		if got, want := lineDiscounts(res), []int64{200 + 250, 200 + 250}; !slices.Equal(got, want) {
			t.Errorf("line discounts = %v, want %v", got, want)
		}
	})

	t.Run("benefits of one campaign compound in their order too", func(t *testing.T) {
		res := Evaluate(basket(ln("A", 1, 1000)), candidates(t, campaign("c", pct("half", 50), pct("tenth", 10))), Options{})
		if got, want := benefitDiscounts(res), map[string]int64{"half": 500, "tenth": 50}; !maps.Equal(got, want) {
			t.Errorf("benefit discounts = %v, want %v", got, want)
		}
	})

	t.Run("rank is priority descending, then start ascending, then id", func(t *testing.T) {
		half := func(id string, prio int, start time.Time) Campaign {
			c := campaign(id, pct(id+"-off", 50))
			c.Priority, c.Start = prio, start
			return c
		}
		early, late := monday.Add(-48*time.Hour), monday.Add(-time.Hour)
		cs := candidates(t,
			half("d-late", 0, late),
			half("b-early", 0, early),
			half("a-late", 0, late),
			half("z-top", 5, late),
			half("c-nostart", 0, time.Time{}),
		)
		res := Evaluate(basket(ln("A", 1, 1600)), cs, Options{})
		want := []string{"z-top", "c-nostart", "b-early", "a-late", "d-late"}
		if !slices.Equal(res.Campaigns, want) {
			t.Errorf("campaigns = %v, want %v", res.Campaigns, want)
		}
		var got []int64
		for _, a := range res.Benefits {
			got = append(got, a.Discount)
		}
		if want := []int64{800, 400, 200, 100, 50}; !slices.Equal(got, want) {
			t.Errorf("discounts in application order = %v, want %v", got, want)
		}
	})

	t.Run("a minimum basket is checked on the net value at the campaign's turn", func(t *testing.T) {
		first := campaign("first", pct("twenty", 20))
		first.Priority = 1
		min := campaign("min", amountOff("one", 100))
		min.Conditions.MinBasket = 1800
		res := Evaluate(basket(ln("A", 1, 2000)), candidates(t, first, min), Options{Explain: true})
		if got := reasons(res)["min"]; got != MinimumNotMet {
			t.Errorf("min rejected for %q, want %q (net 1600 < 1800)", got, MinimumNotMet)
		}
	})
}

func TestEvaluate_ExclusiveBestDeal(t *testing.T) {
	// The stack: 10% off (200) then £3 off (300) on a £20 basket: 500 in all.
	stack := func() []Campaign {
		return []Campaign{campaign("a-ten", pct("ten", 10)), campaign("b-three", amountOff("three", 300))}
	}
	excl := func(id string, prio int, b Benefit) Campaign {
		c := campaign(id, b)
		c.Exclusive, c.Priority = true, prio
		return c
	}
	tests := []struct {
		name  string
		cs    []Campaign
		opt   Options
		want  []string // campaigns applied
		lost  []string // LostToExclusive
		total int64
	}{
		{"the stack wins when it gives more",
			append(stack(), excl("x", 0, pct("x20", 20))), Options{},
			[]string{"a-ten", "b-three"}, []string{"x"}, 500},
		{"an exclusive wins alone when it gives more",
			append(stack(), excl("x", 0, pct("x30", 30))), Options{},
			[]string{"x"}, []string{"a-ten", "b-three"}, 600},
		{"the best of several exclusives",
			[]Campaign{excl("x", 0, pct("x20", 20)), excl("y", 0, pct("y30", 30))}, Options{},
			[]string{"y"}, []string{"x"}, 600},
		{"a tie goes to the option whose best campaign ranks first: the stack's a-ten beats x by id",
			append(stack(), excl("x", 0, pct("x25", 25))), Options{},
			[]string{"a-ten", "b-three"}, []string{"x"}, 500},
		{"a tie goes to the option whose best campaign ranks first: x by priority",
			append(stack(), excl("x", 1, pct("x25", 25))), Options{},
			[]string{"x"}, []string{"a-ten", "b-three"}, 500},
		{"points count at the programme's point value: 1000 points at half a penny tie with 500 off",
			append(stack(), excl("x", 1, Benefit{ID: "pts", Kind: PointsBonus, Points: 1000})), Options{PointValueNum: 1, PointValueDen: 2},
			[]string{"x"}, []string{"a-ten", "b-three"}, 0},
		{"points worth more than the discount win",
			append(stack(), excl("x", 0, Benefit{ID: "pts", Kind: PointsBonus, Points: 1002})), Options{PointValueNum: 1, PointValueDen: 2},
			[]string{"x"}, []string{"a-ten", "b-three"}, 0},
		{"points are worth nothing when the point value has no denominator",
			append(stack(), excl("x", 9, Benefit{ID: "pts", Kind: PointsBonus, Points: 1_000_000})), Options{PointValueNum: 1},
			[]string{"a-ten", "b-three"}, []string{"x"}, 500},
		{"an exclusive is measured on the full basket, not after the stack",
			[]Campaign{campaign("a-ten", pct("ten", 10)), excl("x", 0, Benefit{ID: "t", Kind: SpendThreshold, Threshold: 2000, Amount: 250})}, Options{},
			[]string{"x"}, []string{"a-ten"}, 250},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Evaluate(basket(ln("A", 1, 2000)), candidates(t, tt.cs...), Options{
				Explain: true, PointValueNum: tt.opt.PointValueNum, PointValueDen: tt.opt.PointValueDen,
			})
			if !slices.Equal(res.Campaigns, tt.want) {
				t.Errorf("campaigns = %v, want %v", res.Campaigns, tt.want)
			}
			var lost []string
			for _, r := range res.Rejected {
				if r.Reason == LostToExclusive {
					lost = append(lost, r.CampaignID)
					if !strings.Contains(r.Detail, tt.want[0]) {
						t.Errorf("detail %q does not name the winner %s", r.Detail, tt.want[0])
					}
				}
			}
			if !slices.Equal(lost, tt.lost) {
				t.Errorf("lost to exclusive = %v, want %v", lost, tt.lost)
			}
			if res.TotalDiscount != tt.total {
				t.Errorf("total discount = %d, want %d", res.TotalDiscount, tt.total)
			}
		})
	}
}

func TestEvaluate_Budget(t *testing.T) {
	tests := []struct {
		name   string
		budget int64
		want   Reason
	}{
		{"no budget", -1, ""},
		{"budget equal to the discount", 200, ""},
		{"budget below the discount", 199, BudgetExhausted},
		{"budget spent", 0, BudgetExhausted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := candidates(t, campaign("c", pct("ten", 10)))
			cs[0].BudgetLeft = tt.budget
			res := Evaluate(basket(ln("A", 1, 2000)), cs, Options{Explain: true})
			if got := reasons(res)["c"]; got != tt.want {
				t.Errorf("reason = %q, want %q", got, tt.want)
			}
		})
	}

	t.Run("a campaign over budget leaves the basket as it was for the next", func(t *testing.T) {
		cs := candidates(t, campaign("a", pct("half", 50)), campaign("b", pct("ten", 10)))
		cs[0].BudgetLeft = 100
		res := Evaluate(basket(ln("A", 1, 2000)), cs, Options{})
		if got, want := benefitDiscounts(res), map[string]int64{"ten": 200}; !maps.Equal(got, want) {
			t.Errorf("benefit discounts = %v, want %v", got, want)
		}
	})

	t.Run("points cost no budget", func(t *testing.T) {
		cs := candidates(t, campaign("p", Benefit{ID: "bonus", Kind: PointsBonus, Points: 100}))
		cs[0].BudgetLeft = 0
		res := Evaluate(basket(ln("A", 1, 2000)), cs, Options{})
		if res.PointsEarned != 100 {
			t.Errorf("points = %d, want 100", res.PointsEarned)
		}
	})
}

func TestEvaluate_Explain(t *testing.T) {
	open := func(c Campaign) Campaign { c.Open = true; return c }
	with := func(c Campaign, f func(*Campaign)) Campaign { f(&c); return c }
	cs := candidates(t,
		open(campaign("k-applies", pct("ten", 10), Benefit{ID: "pts", Kind: PointsPerUnit, Points: 1, Scope: skus("Z")})),
		open(campaign("a-blocked", pct("b", 10))),
		open(with(campaign("b-dates", pct("b", 10)), func(c *Campaign) { c.End = monday })),
		open(with(campaign("c-store", pct("b", 10)), func(c *Campaign) { c.Stores = []string{"S2"} })),
		open(with(campaign("d-window", pct("b", 10)), func(c *Campaign) { c.Conditions.From = "13:00" })),
		campaign("e-member", pct("b", 10)),
		open(with(campaign("f-required", pct("b", 10)), func(c *Campaign) { c.Conditions.RequireSKUs = []string{"Z"} })),
		open(with(campaign("g-minimum", pct("b", 10)), func(c *Campaign) { c.Conditions.MinBasket = 5000 })),
		open(campaign("h-nothing", pct("b", 10, skus("Z")))),
		open(campaign("i-budget", pct("b", 10))),
		open(with(campaign("j-exclusive", pct("b", 5)), func(c *Campaign) { c.Exclusive = true })),
	)
	cs[1].Blocked = NotInAudience
	cs[9].BudgetLeft = 10
	b := basket(ln("A", 1, 2000))
	b.Member = false

	res := Evaluate(b, cs, Options{Explain: true})
	want := []Rejection{
		{CampaignID: "a-blocked", Reason: NotInAudience},
		{CampaignID: "b-dates", Reason: OutsideDates},
		{CampaignID: "c-store", Reason: NotInStore},
		{CampaignID: "d-window", Reason: OutsideTimeWindow},
		{CampaignID: "e-member", Reason: MemberOnly},
		{CampaignID: "f-required", Reason: RequiredItems},
		{CampaignID: "g-minimum", Reason: MinimumNotMet},
		{CampaignID: "h-nothing", Reason: NothingToDiscount},
		{CampaignID: "i-budget", Reason: BudgetExhausted},
		{CampaignID: "j-exclusive", Reason: LostToExclusive},
		{CampaignID: "k-applies", OfferID: "pts", Reason: NothingToDiscount},
	}
	if len(res.Rejected) != len(want) {
		t.Fatalf("rejected = %+v, want %d entries", res.Rejected, len(want))
	}
	for i, r := range res.Rejected {
		if r.CampaignID != want[i].CampaignID || r.OfferID != want[i].OfferID || r.Reason != want[i].Reason {
			t.Errorf("rejected[%d] = %+v, want %+v", i, r, want[i])
		}
		if r.Detail == "" {
			t.Errorf("rejected[%d] has no detail", i)
		}
		t.Logf("%s %s: %s", r.CampaignID, r.Reason, r.Detail)
	}
	if !slices.Equal(res.Campaigns, []string{"k-applies"}) {
		t.Errorf("campaigns = %v, want [k-applies]", res.Campaigns)
	}

	t.Run("without explain nothing is listed", func(t *testing.T) {
		if res := Evaluate(b, cs, Options{}); res.Rejected != nil {
			t.Errorf("rejected = %+v, want nil", res.Rejected)
		}
	})
}

func TestEvaluate_AnonymousBasketGetsOnlyOpenCampaigns(t *testing.T) {
	open := campaign("open", pct("five", 5))
	open.Open = true
	b := basket(ln("A", 1, 1000))
	b.Member = false
	res := Evaluate(b, candidates(t, open, campaign("members", pct("ten", 10))), Options{BaseEarn: 1})
	if !slices.Equal(res.Campaigns, []string{"open"}) || res.TotalDiscount != 50 {
		t.Errorf("campaigns = %v, total = %d; want [open], 50", res.Campaigns, res.TotalDiscount)
	}
}

func TestEvaluate_Rounding(t *testing.T) {
	tests := []struct {
		name    string
		lines   []Line
		benefit Benefit
		want    []int64
	}{
		{"half a penny rounds up: 5% of 1010 is 50.5", []Line{ln("A", 1, 1010)}, pct("b", 5), []int64{51}},
		{"less than half rounds down: 5% of 1009 is 50.45", []Line{ln("A", 1, 1009)}, pct("b", 5), []int64{50}},
		{"the percent is of the scope's total, not rounded per line: 5% of 3 x 10p",
			[]Line{ln("A", 1, 10), ln("B", 1, 10), ln("C", 1, 10)}, pct("b", 5), []int64{2, 0, 0}},
		{"leftover pennies go to the largest line", []Line{ln("A", 1, 333), ln("B", 1, 334), ln("C", 1, 333)}, pct("b", 10), []int64{33, 34, 33}},
		{"equal largest lines: the leftover goes to the first", []Line{ln("A", 1, 500), ln("B", 1, 500), ln("C", 1, 1)}, pct("b", 10), []int64{51, 49, 0}},
		{"a largest line with no room passes the leftover to the next largest",
			[]Line{ln("A", 1, 2), ln("B", 1, 2), ln("C", 1, 2)}, amountOff("b", 5), []int64{2, 2, 1}},
		{"an amount is shared by value too", []Line{ln("A", 1, 100), ln("B", 1, 200)}, amountOff("b", 100), []int64{33, 67}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Evaluate(basket(tt.lines...), candidates(t, campaign("c", tt.benefit)), Options{})
			if got := lineDiscounts(res); !slices.Equal(got, tt.want) {
				t.Errorf("line discounts = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestEvaluate_NeverMoreThanALineIsWorth(t *testing.T) {
	free := campaign("free", pct("all", 100, skus("A")))
	free.Priority = 1
	res := Evaluate(basket(ln("A", 1, 1000), ln("B", 1, 300)),
		candidates(t, free, campaign("five", amountOff("five", 500)), campaign("fix", fixed("fix", 50))), Options{Explain: true})
	// A is free; £5 off finds only B's 300 left; nothing is left for the fixed price.
	if got, want := lineDiscounts(res), []int64{1000, 300}; !slices.Equal(got, want) {
		t.Errorf("line discounts = %v, want %v", got, want)
	}
	if got := reasons(res)["fix"]; got != NothingToDiscount {
		t.Errorf("fix rejected for %q, want %q", got, NothingToDiscount)
	}
}

func TestEvaluate_BuyXGetY(t *testing.T) {
	tests := []struct {
		name    string
		lines   []Line
		benefit Benefit
		want    []int64
	}{
		{"buy one get one: the cheaper of each pair, pairs formed from the dearest down",
			[]Line{ln("A", 1, 200), ln("B", 1, 500), ln("C", 1, 100), ln("D", 1, 300)}, bxgy("b", 1, 1, 0),
			[]int64{0, 0, 100, 300}},
		{"an incomplete last group gets nothing",
			[]Line{ln("A", 2, 400), ln("B", 1, 300), ln("C", 2, 100)}, bxgy("b", 2, 1, 0),
			[]int64{0, 300, 0}},
		{"units of one line split over groups",
			[]Line{ln("A", 6, 100)}, bxgy("b", 2, 1, 0), []int64{200}},
		{"equal prices: the later line's units are the cheapest",
			[]Line{ln("A", 1, 100), ln("B", 1, 100)}, bxgy("b", 1, 1, 0), []int64{0, 100}},
		{"buy two get two free takes the two cheapest of four",
			[]Line{ln("A", 1, 400), ln("B", 1, 300), ln("C", 1, 200), ln("D", 1, 100)}, bxgy("b", 2, 2, 0),
			[]int64{0, 0, 200, 100}},
		{"a percent rounds half up per group: 4 x 105 at half price in pairs is 53 + 53",
			[]Line{ln("A", 4, 105)}, bxgy("b", 1, 1, 50), []int64{106}},
		{"a group whose get units span lines shares its discount by value",
			[]Line{ln("A", 1, 500), ln("B", 1, 201), ln("C", 1, 200)}, bxgy("b", 1, 2, 50),
			[]int64{0, 101, 100}},
		{"only the scope's units count",
			[]Line{ln("A", 1, 1000, "shoes"), ln("B", 1, 50, "socks"), ln("C", 1, 400, "shoes")}, bxgy("b", 1, 1, 0, cats("shoes")),
			[]int64{0, 0, 400}},
		{"too few units gives nothing", []Line{ln("A", 2, 100)}, bxgy("b", 2, 1, 0), []int64{0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Evaluate(basket(tt.lines...), candidates(t, campaign("c", tt.benefit)), Options{})
			if got := lineDiscounts(res); !slices.Equal(got, tt.want) {
				t.Errorf("line discounts = %v, want %v", got, tt.want)
			}
		})
	}

	t.Run("unit prices come from the net line value, split to add up exactly", func(t *testing.T) {
		// 100 off a 3 x 100 line leaves 200 net: units of 67, 67, 66. Buy 2
		// get 1 frees the 66 unit.
		first := campaign("first", amountOff("hundred", 100))
		first.Priority = 1
		res := Evaluate(basket(ln("A", 3, 100)), candidates(t, first, campaign("c", bxgy("b", 2, 1, 0))), Options{})
		if got, want := benefitDiscounts(res), map[string]int64{"hundred": 100, "b": 66}; !maps.Equal(got, want) {
			t.Errorf("benefit discounts = %v, want %v", got, want)
		}
	})

	t.Run("huge quantities cost no more than small ones", func(t *testing.T) {
		res := Evaluate(basket(ln("A", 1_000_000_000, 3)), candidates(t, campaign("c", bxgy("b", 2, 1, 50))), Options{})
		// 333,333,333 groups, each 50% of 3 rounded half up = 2.
		if res.TotalDiscount != 666_666_666 {
			t.Errorf("total = %d, want 666666666", res.TotalDiscount)
		}
	})
}

func TestEvaluate_Points(t *testing.T) {
	opt := Options{BaseEarn: 1, MinorPerUnit: 100}
	tests := []struct {
		name    string
		lines   []Line
		cs      []Campaign
		opt     Options
		base    int64
		earned  int64
		benefit map[string]int64 // points per offer
	}{
		{"base earn is per whole currency unit paid", []Line{ln("A", 1, 1599)}, nil, opt, 15, 15, nil},
		{"no minor-per-unit means 100", []Line{ln("A", 1, 1599)}, nil, Options{BaseEarn: 2}, 30, 30, nil},
		{"base earn is on what is paid after discounts",
			[]Line{ln("A", 1, 2000)}, []Campaign{campaign("c", pct("half", 50))}, opt, 10, 10, nil},
		{"points_bonus adds its points once",
			[]Line{ln("A", 2, 500)}, []Campaign{campaign("c", Benefit{ID: "bonus", Kind: PointsBonus, Points: 50})}, opt, 10, 60,
			map[string]int64{"bonus": 50}},
		{"points_bonus with a scope needs a line in it",
			[]Line{ln("A", 2, 500)}, []Campaign{campaign("c", Benefit{ID: "bonus", Kind: PointsBonus, Points: 50, Scope: skus("Z")})}, opt, 10, 10,
			nil},
		{"points_per_unit is per whole currency unit in scope",
			[]Line{ln("A", 1, 1050), ln("B", 1, 990)}, []Campaign{campaign("c", Benefit{ID: "ppu", Kind: PointsPerUnit, Points: 2, Scope: skus("A")})}, opt, 20, 40,
			map[string]int64{"ppu": 20}},
		{"points_multiplier adds (multiplier-1) x base earn on the scope",
			[]Line{ln("A", 1, 1050), ln("B", 1, 990)}, []Campaign{campaign("c", Benefit{ID: "x3", Kind: PointsMultiplier, Multiplier: 3, Scope: skus("A")})}, opt, 20, 40,
			map[string]int64{"x3": 20}},
		{"points are worked out after every discount, whatever the rank",
			[]Line{ln("A", 1, 2000)}, []Campaign{
				func() Campaign {
					c := campaign("pts", Benefit{ID: "ppu", Kind: PointsPerUnit, Points: 1})
					c.Priority = 9
					return c
				}(),
				campaign("half", pct("half", 50)),
			}, opt, 10, 20, map[string]int64{"ppu": 10, "half": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := Evaluate(basket(tt.lines...), candidates(t, tt.cs...), tt.opt)
			if res.BasePoints != tt.base || res.PointsEarned != tt.earned {
				t.Errorf("base, earned = %d, %d; want %d, %d", res.BasePoints, res.PointsEarned, tt.base, tt.earned)
			}
			got := make(map[string]int64)
			for _, a := range res.Benefits {
				got[a.OfferID] = a.Points
			}
			if tt.benefit == nil {
				for _, a := range res.Benefits {
					if a.Points != 0 {
						t.Errorf("offer %s gave %d points, want none", a.OfferID, a.Points)
					}
				}
				return
			}
			if !maps.Equal(got, tt.benefit) {
				t.Errorf("points by offer = %v, want %v", got, tt.benefit)
			}
		})
	}
}

func TestEvaluate_FreeContent(t *testing.T) {
	c := campaign("song", Benefit{ID: "tune", Kind: FreeContent, Pool: "songs", Description: "a free song"})
	c.Conditions.RequireSKUs = []string{"COFFEE"}
	t.Run("applies whenever the campaign's conditions hold", func(t *testing.T) {
		res := Evaluate(basket(ln("COFFEE", 1, 250)), candidates(t, c), Options{})
		want := []Applied{{OfferID: "tune", CampaignID: "song", Kind: FreeContent, Description: "a free song", Pool: "songs"}}
		if len(res.Benefits) != 1 || res.Benefits[0].Pool != want[0].Pool || res.Benefits[0].Discount != 0 || res.Benefits[0].Lines != nil {
			t.Errorf("benefits = %+v, want %+v", res.Benefits, want)
		}
	})
	t.Run("and not otherwise", func(t *testing.T) {
		res := Evaluate(basket(ln("TEA", 1, 250)), candidates(t, c), Options{})
		if len(res.Benefits) != 0 {
			t.Errorf("benefits = %+v, want none", res.Benefits)
		}
	})
}

func TestEvaluate_ResultShape(t *testing.T) {
	res := Evaluate(basket(ln("A", 1, 1000), ln("B", 1, 1000), ln("C", 1, 1000)),
		candidates(t, campaign("c", pct("a-off", 10, skus("A")), pct("ab-off", 50, skus("A", "B")))), Options{})
	want := []LineResult{
		{Line: 10, Discount: 100 + 450, OfferIDs: []string{"a-off", "ab-off"}},
		{Line: 20, Discount: 500, OfferIDs: []string{"ab-off"}},
		{Line: 30, Discount: 0, OfferIDs: []string{}},
	}
	for i, l := range res.Lines {
		if l.Line != want[i].Line || l.Discount != want[i].Discount || !slices.Equal(l.OfferIDs, want[i].OfferIDs) || l.OfferIDs == nil {
			t.Errorf("line %d = %+v, want %+v (offer ids never nil)", i, l, want[i])
		}
	}
	if got := res.Benefits[1].Lines; !slices.Equal(got, []LineShare{{Line: 10, Discount: 450}, {Line: 20, Discount: 500}}) {
		t.Errorf("ab-off lines = %+v", got)
	}

	t.Run("an empty result has empty lists, not null", func(t *testing.T) {
		res := Evaluate(basket(), nil, Options{})
		if res.Lines == nil || res.Benefits == nil || res.Campaigns == nil {
			t.Errorf("result = %#v, want empty non-nil lists", res)
		}
	})
}
