package engine

import (
	"testing"
	"time"
)

// monday is a Monday noon, UTC: the default basket time in tests.
var monday = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// ln is a basket line; till line numbers are 10, 20, 30... in tests so a
// mix-up between a line's number and its position shows.
func ln(sku string, qty int, price int64, cats ...string) Line {
	return Line{SKU: sku, Quantity: qty, UnitPrice: price, Categories: cats}
}

// basket is a member's basket in store S1 on monday.
func basket(lines ...Line) Basket {
	for i := range lines {
		lines[i].Line = 10 * (i + 1)
	}
	return Basket{Store: "S1", Time: monday, Currency: "GBP", Member: true, Lines: lines}
}

func campaign(id string, benefits ...Benefit) Campaign {
	return Campaign{ID: id, Benefits: benefits}
}

// Benefit builders; the offer id is the campaign's plus a suffix in tests.
func pct(id string, p int, scope ...Scope) Benefit {
	return Benefit{ID: id, Kind: PercentOff, Percent: p, Scope: one(scope)}
}

func amountOff(id string, a int64, scope ...Scope) Benefit {
	return Benefit{ID: id, Kind: AmountOff, Amount: a, Scope: one(scope)}
}

func fixed(id string, price int64, scope ...Scope) Benefit {
	return Benefit{ID: id, Kind: FixedPrice, Price: price, Scope: one(scope)}
}

func bxgy(id string, buy, get, percent int, scope ...Scope) Benefit {
	return Benefit{ID: id, Kind: BuyXGetY, Buy: buy, Get: get, Percent: percent, Scope: one(scope)}
}

func one(scope []Scope) Scope {
	if len(scope) == 0 {
		return Scope{}
	}
	return scope[0]
}

func skus(s ...string) Scope { return Scope{SKUs: s} }
func cats(c ...string) Scope { return Scope{Categories: c} }

func compile(t testing.TB, c Campaign) *Compiled {
	t.Helper()
	cc, err := Compile(c)
	if err != nil {
		t.Fatalf("Compile(%s): %v", c.ID, err)
	}
	return cc
}

// candidates compiles campaigns into unblocked candidates without budgets.
func candidates(t testing.TB, cs ...Campaign) []Candidate {
	t.Helper()
	out := make([]Candidate, len(cs))
	for i, c := range cs {
		out[i] = Candidate{Campaign: compile(t, c), BudgetLeft: -1}
	}
	return out
}

// lineDiscounts is each line's discount, in basket order.
func lineDiscounts(r Result) []int64 {
	out := make([]int64, len(r.Lines))
	for i, l := range r.Lines {
		out[i] = l.Discount
	}
	return out
}

// benefitDiscounts maps offer id to its discount.
func benefitDiscounts(r Result) map[string]int64 {
	out := make(map[string]int64)
	for _, a := range r.Benefits {
		out[a.OfferID] = a.Discount
	}
	return out
}

// reasons maps campaign id (or "campaign/offer") to its rejection reason.
func reasons(r Result) map[string]Reason {
	out := make(map[string]Reason)
	for _, j := range r.Rejected {
		k := j.CampaignID
		if j.OfferID != "" {
			k += "/" + j.OfferID
		}
		out[k] = j.Reason
	}
	return out
}
