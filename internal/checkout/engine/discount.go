package engine

import (
	"cmp"
	"math"
	"math/bits"
	"slices"

	"github.com/perk-platform/perk/internal/money"
)

// why is the finer cause behind a rejection, turned into words only when the
// caller asks for an explanation.
type why uint8

const (
	whyNone why = iota
	whyBeforeStart
	whyAtOrAfterEnd
	whyNoRequiredSKU
	whyNoRequiredCategory
	whyNoLineInAnyScope
	whyNoLine           // no line in the benefit's scope
	whyNoValue          // the scope's lines are already free
	whyBelowThreshold   // whyN: the scope's net value
	whyAtOrBelowPrice   // every unit already sells for the fixed price or less
	whyTooFewUnits      // whyN: units in scope
	whyRoundsToNothing  // the discount rounds to 0
	whyLessThanOneUnit  // whyN: the scope's net value
	whyNoBaseEarn       // a multiplier of nothing
	whyNothingInBenefit // campaign-level: each benefit says why
	whyPointsCap        // the basket already earns MaxPoints
)

// portion is a line's part in something to be shared out.
type portion struct {
	line  int32
	v     int64 // what the line puts in
	share int64 // what it gets back
}

// unitRun is units of one line at one net unit price.
type unitRun struct {
	line  int32
	price int64
	count int64
}

// discount works out one discount benefit on the lines in m, applies it to
// s.net and logs it. The lines' net values bound every share,
// so no line ever goes below zero.
func (s *scratch) discount(cb *Benefit, m []uint64) (int64, why, int64) {
	if empty(m) {
		return 0, whyNoLine, 0
	}
	switch cb.Kind {
	case PercentOff, AmountOff, SpendThreshold:
		v := s.sumNet(m)
		if v == 0 {
			return 0, whyNoValue, 0
		}
		var d int64
		switch {
		case cb.Kind == SpendThreshold && v < cb.Threshold:
			return 0, whyBelowThreshold, v
		case cb.Kind == AmountOff || cb.Kind == SpendThreshold && cb.Percent == 0:
			d = min(cb.Amount, v)
		default:
			d = percentOf(v, int64(cb.Percent))
		}
		if d == 0 {
			return 0, whyRoundsToNothing, 0
		}
		s.spreadOver(m, v, d)
		return d, whyNone, 0
	case FixedPrice:
		var d int64
		forEach(m, func(i int) {
			if target := satMul(s.qty[i], cb.Price); s.net[i] > target {
				d += s.net[i] - target
				s.emit(i, s.net[i]-target)
			}
		})
		if d == 0 {
			return 0, whyAtOrBelowPrice, 0
		}
		return d, whyNone, 0
	case BuyXGetY:
		return s.buyXGetY(cb, m)
	}
	return 0, whyNone, 0
}

func (s *scratch) emit(line int, amount int64) {
	s.net[line] -= amount
	s.log = append(s.log, share{line: int32(line), amount: amount})
}

// spreadOver shares d (at most v, the lines' net value) over the lines in m
// in proportion to their net values, logging each line's part.
func (s *scratch) spreadOver(m []uint64, v, d int64) {
	items := s.items[:0]
	forEach(m, func(i int) {
		if s.net[i] > 0 {
			items = append(items, portion{line: int32(i), v: s.net[i]})
		}
	})
	spread(items, v, d)
	for _, it := range items {
		if it.share > 0 {
			s.emit(int(it.line), it.share)
		}
	}
	s.items = items
}

// spread shares d over items in proportion to their v (total is their sum and
// d <= total): each gets the floor of its proportional part, and the minor
// units left over go to the largest item (ties: the lowest basket position),
// as far as it has room, then to the next largest. No item gets more than
// its v.
func spread(items []portion, total, d int64) {
	var given int64
	for k := range items {
		sh := money.MulDiv(d, items[k].v, total)
		items[k].share = sh
		given += sh
	}
	for left := d - given; left > 0; {
		best := -1
		for k := range items {
			it := &items[k]
			if it.v-it.share <= 0 {
				continue
			}
			if best < 0 || it.v > items[best].v || it.v == items[best].v && it.line < items[best].line {
				best = k
			}
		}
		if best < 0 {
			return // only if d > total, which callers rule out
		}
		g := min(left, items[best].v-items[best].share)
		items[best].share += g
		left -= g
	}
}

// buyXGetY lines up the scope's units from dearest to cheapest (net unit
// prices; equal prices keep basket order), cuts them into groups of Buy+Get
// and discounts the last Get units of every complete group. A line's net is
// split over its units so the unit prices add up to it exactly: the first
// net%qty units cost one minor unit more.
func (s *scratch) buyXGetY(cb *Benefit, m []uint64) (int64, why, int64) {
	runs := s.runs[:0]
	var units int64
	forEach(m, func(i int) {
		q, n := s.qty[i], s.net[i]
		if r := n % q; r > 0 {
			runs = append(runs, unitRun{line: int32(i), price: n/q + 1, count: r})
			runs = append(runs, unitRun{line: int32(i), price: n / q, count: q - r})
		} else {
			runs = append(runs, unitRun{line: int32(i), price: n / q, count: q})
		}
		units += q
		s.delta[i] = 0
	})
	s.runs = runs
	buy, get := int64(cb.Buy), int64(cb.Get)
	k := buy + get
	groups := units / k
	if groups == 0 {
		return 0, whyTooFewUnits, units
	}
	slices.SortFunc(runs, func(a, b unitRun) int { // a line's runs differ in price, so this order is total
		if a.price != b.price {
			return cmp.Compare(b.price, a.price)
		}
		return cmp.Compare(a.line, b.line)
	})

	if p := int64(cb.Percent); p == 0 || p == 100 {
		// Whole units free: each run's free units, counted arithmetically so a
		// line of a million units costs no more than a line of one.
		free := func(x int64) int64 { return x/k*get + max(0, x%k-buy) } // free units among the first x
		limit, pos := groups*k, int64(0)
		for _, r := range runs {
			if pos >= limit {
				break
			}
			end := min(pos+r.count, limit)
			s.delta[r.line] += (free(end) - free(pos)) * r.price
			pos += r.count
		}
	} else {
		s.percentPerGroup(runs, groups, buy, get, p)
	}

	var d int64
	forEach(m, func(i int) {
		if s.delta[i] > 0 {
			d += s.delta[i]
			s.emit(i, s.delta[i])
		}
	})
	if d == 0 {
		return 0, whyNoValue, 0
	}
	return d, whyNone, 0
}

// percentPerGroup puts into s.delta p% of each complete group's last get
// units, rounded half up per group. Consecutive groups whose discounted units
// all come from one run are alike and are done in one step; a group spanning
// runs shares its discount between their lines by value.
func (s *scratch) percentPerGroup(runs []unitRun, groups, buy, get, p int64) {
	k := buy + get
	ri, runStart := 0, int64(0)
	for j := int64(0); j < groups; {
		a, e := j*k+buy, (j+1)*k // the group's discounted units: positions [a, e)
		for runStart+runs[ri].count <= a {
			runStart += runs[ri].count
			ri++
		}
		r := runs[ri]
		if runEnd := runStart + r.count; e <= runEnd {
			last := min(runEnd/k-1, groups-1)
			s.delta[r.line] += (last - j + 1) * percentOf(get*r.price, p)
			j = last + 1
			continue
		}
		items := s.items[:0]
		var sum int64
		for x, pos, rs := ri, a, runStart; pos < e; x++ {
			rx := runs[x]
			rEnd := rs + rx.count
			v := (min(e, rEnd) - pos) * rx.price
			sum += v
			if at := slices.IndexFunc(items, func(it portion) bool { return it.line == rx.line }); at >= 0 {
				items[at].v += v
			} else {
				items = append(items, portion{line: rx.line, v: v})
			}
			pos, rs = min(e, rEnd), rEnd
		}
		if d := percentOf(sum, p); d > 0 {
			spread(items, sum, d)
			for _, it := range items {
				s.delta[it.line] += it.share
			}
		}
		s.items = items
		j++
	}
}

// points works out one points benefit on the final net values, at most
// MaxPoints (run then fits it in what the basket may still earn).
func (s *scratch) points(cb *Benefit, m []uint64, opt *Options, perUnit int64) (int64, why, int64) {
	if empty(m) {
		return 0, whyNoLine, 0
	}
	if cb.Kind == PointsBonus {
		return min(cb.Points, MaxPoints), whyNone, 0
	}
	if cb.Kind == PointsMultiplier && opt.BaseEarn <= 0 {
		return 0, whyNoBaseEarn, 0
	}
	v := s.sumNet(m)
	whole := v / perUnit
	if whole == 0 {
		return 0, whyLessThanOneUnit, v
	}
	if cb.Kind == PointsPerUnit {
		return min(satMul(whole, cb.Points), MaxPoints), whyNone, 0
	}
	return min(satMul(satMul(whole, opt.BaseEarn), int64(cb.Multiplier)-1), MaxPoints), whyNone, 0
}

// forEach calls f with each line in m, in basket order.
func forEach(m []uint64, f func(i int)) {
	for w, word := range m {
		for word != 0 {
			f(w*64 + bits.TrailingZeros64(word))
			word &= word - 1
		}
	}
}

// percentOf is p% of v rounded half up: (v*p + 50) / 100, without overflow.
func percentOf(v, p int64) int64 {
	if v <= 0 || p <= 0 {
		return 0
	}
	p = min(p, 100)
	hi, lo := bits.Mul64(uint64(v), uint64(p))
	lo, carry := bits.Add64(lo, 50, 0)
	q, _ := bits.Div64(hi+carry, lo, 100) // hi < 100 since v < 2^63 and p <= 100
	return int64(q)
}

// satAdd is a+b for non-negative a and b, saturating at MaxInt64.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// satMul is a*b for non-negative a and b, saturating at MaxInt64; 0 when
// either is not positive.
func satMul(a, b int64) int64 {
	if a <= 0 || b <= 0 {
		return 0
	}
	if a > math.MaxInt64/b {
		return math.MaxInt64
	}
	return a * b
}
