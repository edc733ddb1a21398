package engine

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"
)

// chooser is the source of choices for generated cases: math/rand for the
// property test, the fuzzer's bytes for FuzzEvaluate.
type chooser interface{ IntN(n int) int }

// byteChooser turns fuzz input into choices; once the bytes run out every
// choice is 0, so any input makes a valid case.
type byteChooser struct{ data []byte }

func (c *byteChooser) IntN(n int) int {
	if n <= 1 || len(c.data) == 0 {
		return 0
	}
	v := int(c.data[0])
	c.data = c.data[1:]
	if n > 256 && len(c.data) > 0 {
		v = v<<8 | int(c.data[0])
		c.data = c.data[1:]
	}
	return v % n
}

// genCase makes a small basket and campaigns over a few SKUs and categories,
// so that scopes overlap, campaigns compound and exclusives compete often.
func genCase(t testing.TB, ch chooser, maxLines, maxCampaigns int) (Basket, []Candidate, Options) {
	t.Helper()
	pick := func(s ...string) string { return s[ch.IntN(len(s))] }
	skuCodes := []string{"A", "B", "C", "D", "E", "F"}
	catCodes := []string{"c1", "c2", "c3", "c4"}
	some := func(from []string) []string {
		out := []string{pick(from...)}
		if ch.IntN(3) == 0 {
			out = append(out, pick(from...))
		}
		return out
	}

	b := Basket{Store: pick("S1", "S2"), Time: monday.Add(time.Duration(ch.IntN(7*24*60)) * time.Minute), Member: ch.IntN(3) != 0}
	if ch.IntN(3) == 0 {
		b.Location = time.FixedZone("east", 5*3600+1800)
	}
	for i := range ch.IntN(maxLines + 1) {
		l := Line{Line: 100 + 7*i, SKU: pick(skuCodes...), Quantity: 1 + ch.IntN(5), UnitPrice: int64(ch.IntN(3000))}
		switch ch.IntN(8) {
		case 0:
			l.UnitPrice = int64(ch.IntN(10))
		case 1:
			l.Quantity = 6 + ch.IntN(20)
		case 2:
			l.Quantity = 0
		}
		for range ch.IntN(3) {
			l.Categories = append(l.Categories, pick(catCodes...))
		}
		b.Lines = append(b.Lines, l)
	}

	var cands []Candidate
	for i := range ch.IntN(maxCampaigns + 1) {
		c := Campaign{ID: fmt.Sprintf("c%d", i), Priority: ch.IntN(3), Exclusive: ch.IntN(5) == 0, Open: ch.IntN(2) == 0}
		switch ch.IntN(8) {
		case 0:
			c.Start = b.Time.Add(-time.Duration(ch.IntN(100)) * time.Hour)
		case 1:
			c.Start = b.Time.Add(time.Hour)
		case 2:
			c.End = b.Time
		case 3:
			c.End = b.Time.Add(time.Hour)
		}
		switch ch.IntN(6) {
		case 0:
			c.Stores = []string{"S1"}
		case 1:
			c.Stores = []string{"S2", "S3"}
		}
		k := &c.Conditions
		if ch.IntN(4) == 0 {
			k.MinBasket = int64(ch.IntN(6000))
		}
		if ch.IntN(6) == 0 {
			k.RequireSKUs = some(skuCodes)
		}
		if ch.IntN(6) == 0 {
			k.RequireCategories = some(catCodes)
		}
		if ch.IntN(5) == 0 {
			k.Days = []time.Weekday{time.Weekday(ch.IntN(7)), time.Weekday(ch.IntN(7))}
		}
		if ch.IntN(5) == 0 {
			k.From = fmt.Sprintf("%02d:%02d", ch.IntN(24), 15*ch.IntN(4))
			if k.To = fmt.Sprintf("%02d:00", ch.IntN(24)); k.To == k.From {
				k.To = ""
			}
		}
		for j := range 1 + ch.IntN(3) {
			bn := Benefit{ID: fmt.Sprintf("c%d-b%d", i, j)}
			switch ch.IntN(3) {
			case 1:
				bn.Scope.SKUs = some(skuCodes)
			case 2:
				bn.Scope.Categories = some(catCodes)
			}
			switch ch.IntN(9) {
			case 0:
				bn.Kind, bn.Percent = PercentOff, 1+ch.IntN(100)
			case 1:
				bn.Kind, bn.Amount = AmountOff, int64(1+ch.IntN(2000))
			case 2:
				bn.Kind, bn.Price = FixedPrice, int64(ch.IntN(1000))
			case 3:
				bn.Kind, bn.Buy, bn.Get = BuyXGetY, 1+ch.IntN(3), 1+ch.IntN(2)
				if ch.IntN(3) == 0 {
					bn.Percent = 1 + ch.IntN(100)
				}
			case 4:
				bn.Kind, bn.Threshold = SpendThreshold, int64(1+ch.IntN(4000))
				if ch.IntN(2) == 0 {
					bn.Percent = 1 + ch.IntN(100)
				} else {
					bn.Amount = int64(1 + ch.IntN(1500))
				}
			case 5:
				bn.Kind, bn.Points = PointsBonus, int64(1+ch.IntN(50))
			case 6:
				bn.Kind, bn.Points = PointsPerUnit, int64(1+ch.IntN(5))
			case 7:
				bn.Kind, bn.Multiplier = PointsMultiplier, 2+ch.IntN(3)
			default:
				bn.Kind, bn.Pool, bn.Scope = FreeContent, "songs", Scope{}
			}
			c.Benefits = append(c.Benefits, bn)
		}
		cc, err := Compile(c)
		if err != nil {
			t.Fatalf("generated an invalid campaign %+v: %v", c, err)
		}
		cd := Candidate{Campaign: cc, BudgetLeft: -1}
		if ch.IntN(4) == 0 {
			cd.BudgetLeft = int64(ch.IntN(1000))
		}
		if ch.IntN(10) == 0 {
			cd.Blocked = Paused
		}
		cands = append(cands, cd)
	}

	opt := Options{BaseEarn: int64(ch.IntN(3)), MinorPerUnit: []int64{0, 100, 1}[ch.IntN(3)], Explain: ch.IntN(2) == 0}
	pv := [][2]int64{{0, 0}, {1, 1}, {1, 2}, {3, 1}}[ch.IntN(4)]
	opt.PointValueNum, opt.PointValueDen = pv[0], pv[1]
	return b, cands, opt
}

// checkInvariants checks what must hold of every Result, whatever the rules
// decided.
func checkInvariants(t testing.TB, b Basket, cands []Candidate, opt Options, res Result) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s\nbasket %+v\nresult %+v", fmt.Sprintf(format, args...), b, res)
	}
	if len(res.Lines) != len(b.Lines) {
		fail("%d result lines for %d basket lines", len(res.Lines), len(b.Lines))
	}
	var sumLines, sumBenefits, sumPoints int64
	for i, l := range res.Lines {
		gross := lineValue(&b.Lines[i])
		if l.Line != b.Lines[i].Line || l.OfferIDs == nil {
			fail("line %d: %+v does not match basket line %d or has nil offer ids", i, l, b.Lines[i].Line)
		}
		if l.Discount < 0 || l.Discount > gross {
			fail("line %d: discount %d outside 0..%d", i, l.Discount, gross)
		}
		sumLines += l.Discount
	}
	applied := make(map[string]bool)
	for _, id := range res.Campaigns {
		if applied[id] {
			fail("campaign %s listed twice", id)
		}
		applied[id] = true
	}
	byCampaign := make(map[string]int64)
	for _, a := range res.Benefits {
		if !applied[a.CampaignID] {
			fail("benefit %s of campaign %s, which is not listed as applied", a.OfferID, a.CampaignID)
		}
		if a.Discount < 0 || a.Points < 0 || a.Discount == 0 && a.Points == 0 && a.Kind != FreeContent {
			fail("benefit %+v gives nothing or less", a)
		}
		var s int64
		for _, sh := range a.Lines {
			if sh.Discount <= 0 {
				fail("benefit %s: share %+v", a.OfferID, sh)
			}
			s += sh.Discount
		}
		if s != a.Discount {
			fail("benefit %s: shares add up to %d, discount is %d", a.OfferID, s, a.Discount)
		}
		sumBenefits += a.Discount
		sumPoints += a.Points
		byCampaign[a.CampaignID] += a.Discount
	}
	if sumLines != res.TotalDiscount || sumBenefits != res.TotalDiscount {
		fail("lines add up to %d, benefits to %d, total %d", sumLines, sumBenefits, res.TotalDiscount)
	}
	if res.BasePoints < 0 || res.PointsEarned != res.BasePoints+sumPoints {
		fail("points earned %d, base %d, benefits %d", res.PointsEarned, res.BasePoints, sumPoints)
	}
	for _, cd := range cands {
		id := cd.Campaign.ID
		if !applied[id] {
			continue
		}
		if cd.Blocked != "" {
			fail("blocked campaign %s applied", id)
		}
		if cd.BudgetLeft >= 0 && byCampaign[id] > cd.BudgetLeft {
			fail("campaign %s gave %d over its budget %d", id, byCampaign[id], cd.BudgetLeft)
		}
		if cd.Campaign.Exclusive && len(res.Campaigns) != 1 {
			fail("exclusive campaign %s applied with others: %v", id, res.Campaigns)
		}
		if !b.Member && !cd.Campaign.Open {
			fail("members-only campaign %s applied to an anonymous basket", id)
		}
	}
	if !opt.Explain {
		if res.Rejected != nil {
			fail("rejections without explain")
		}
		return
	}
	rejected := make(map[string]int)
	byID := make(map[string]*Compiled)
	for _, cd := range cands {
		byID[cd.Campaign.ID] = cd.Campaign
	}
	for i, r := range res.Rejected {
		if r.OfferID == "" {
			rejected[r.CampaignID]++
		} else if !applied[r.CampaignID] {
			fail("offer-level rejection %+v for a campaign that did not apply", r)
		}
		if i > 0 && CompareRank(byID[res.Rejected[i-1].CampaignID], byID[r.CampaignID]) > 0 {
			fail("rejections out of rank order: %+v", res.Rejected)
		}
	}
	for _, cd := range cands {
		id := cd.Campaign.ID
		if applied[id] == (rejected[id] == 1) || rejected[id] > 1 {
			fail("campaign %s: applied %v, rejected %d times", id, applied[id], rejected[id])
		}
	}
}

func TestEvaluate_Invariants(t *testing.T) {
	r := rand.New(rand.NewPCG(20261123, 1))
	for i := range 4000 {
		b, cands, opt := genCase(t, r, 12, 8)
		res := Evaluate(b, cands, opt)
		checkInvariants(t, b, cands, opt, res)

		if again := Evaluate(b, cands, opt); !reflect.DeepEqual(res, again) {
			t.Fatalf("case %d: not deterministic:\n%+v\n%+v", i, res, again)
		}
		shuffled := slices.Clone(cands)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if other := Evaluate(b, shuffled, opt); !reflect.DeepEqual(res, other) {
			t.Fatalf("case %d: depends on candidate order:\n%+v\n%+v", i, res, other)
		}
	}
}

func TestEvaluate_ConcurrentCallsAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	type tc struct {
		b     Basket
		cands []Candidate
		opt   Options
		want  Result
	}
	cases := make([]tc, 50)
	for i := range cases {
		b, cands, opt := genCase(t, r, 12, 8)
		cases[i] = tc{b, cands, opt, Evaluate(b, cands, opt)}
	}
	var wg sync.WaitGroup
	errs := make(chan string, 4)
	for g := range 4 {
		wg.Go(func() {
			for k := range 200 {
				c := &cases[(g*7+k)%len(cases)]
				if got := Evaluate(c.b, c.cands, c.opt); !reflect.DeepEqual(got, c.want) {
					errs <- fmt.Sprintf("goroutine %d, case %d: results differ", g, k)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func FuzzEvaluate(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte("a basket of several lines and campaigns that overlap"))
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 255, 254, 253, 252, 251, 250})
	f.Add(slices.Repeat([]byte{3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9}, 12))
	f.Fuzz(func(t *testing.T, data []byte) {
		b, cands, opt := genCase(t, &byteChooser{data: data}, 10, 6)
		res := Evaluate(b, cands, opt)
		checkInvariants(t, b, cands, opt, res)
		slices.Reverse(cands)
		if other := Evaluate(b, cands, opt); !reflect.DeepEqual(res, other) {
			t.Fatalf("depends on candidate order:\n%+v\n%+v", res, other)
		}
	})
}
