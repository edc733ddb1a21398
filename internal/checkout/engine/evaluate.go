package engine

import (
	"cmp"
	"fmt"
	"slices"
	"time"

	"github.com/perk-platform/perk/internal/money"
)

// candState is what Evaluate learns about one candidate.
type candState struct {
	c       *Compiled
	budget  int64
	reason  Reason // why it does not apply; "" while it may
	blocked bool   // reason came from the caller
	why     why    // finer cause, for the explanation
	detail  int64  // a figure for the explanation: net value at its turn, discount over budget
	benBase int32  // its first benefit in scratch.bens; its scope line sets start at benBase*words in scratch.masks
	rank    int32  // position among the eligible in rank order; -1 if not eligible
	applied bool   // applies within its own option
	// Its discount and points within its option, and that option's value.
	discount, points, optValue int64
}

// benState is what one benefit gave within its campaign's option.
type benState struct {
	discount, points int64
	logStart, logEnd int32 // its entries in scratch.log
	why              why   // why it gave nothing
	whyN             int64 // a figure for that
}

// option is one way of combining campaigns: all the stackable ones, or one
// exclusive one alone.
type option struct {
	value, discount, points int64
	count                   int   // campaigns that apply in it
	first                   int32 // rank of its best-ranked applying campaign
}

// beats reports whether o is a better deal than p: more value to the shopper,
// or as much and led by a better-ranked campaign.
func (o option) beats(p option) bool {
	if o.count == 0 {
		return false
	}
	if p.count == 0 || o.value != p.value {
		return p.count == 0 || o.value > p.value
	}
	return o.first < p.first
}

// Evaluate applies the candidates to the basket and reports the discounts,
// points and free content the shopper gets. The rules are in
// docs/checkout-rules.md; in short: candidates that pass their conditions are
// ranked (priority, then start, then id); the non-exclusive ones stack in rank
// order, each working on what is left after those before it; each exclusive
// one is tried alone; the combination worth most to the shopper wins.
//
// Evaluate is pure and deterministic: the same basket, candidates (in any
// order) and options always give the same Result. Campaign ids must be unique
// among the candidates. Each Candidate.Campaign must come from Compile (it
// panics on a nil or uncompiled one: a programming error). Lines with
// Quantity <= 0 match nothing; a negative UnitPrice counts as 0; a line's
// quantity counts as at most 2^40 and its value as at most MaxAmount;
// and the points a basket earns, base earn included, stop at MaxPoints (see
// ranges.go; the API refuses baskets outside the ranges).
func Evaluate(b Basket, cands []Candidate, opt Options) Result {
	s := scratchPool.Get().(*scratch)
	defer scratchPool.Put(s)
	s.load(&b)
	s.check(&b, cands)

	// Exclusive options first and the stack last, so that when the stack wins
	// (the usual case) its discounts are still in the log.
	best, winner := option{}, -1
	for k := range s.excl {
		if o := s.run(s.excl[k:k+1], &opt); o.beats(best) {
			best, winner = o, k
		}
	}
	win := s.stack
	if so := s.run(s.stack, &opt); winner < 0 || so.beats(best) {
		best = so
	} else {
		win = s.excl[winner : winner+1]
		s.run(win, &opt)
	}
	s.markLosers(win, best)
	return s.result(&b, win, &opt)
}

// check applies the conditions that do not depend on other campaigns, works
// out each benefit's scope, and ranks the candidates that pass.
func (s *scratch) check(b *Basket, cands []Candidate) {
	s.cands = resize(s.cands, len(cands))
	for i := range cands {
		cd := &cands[i]
		c := cd.Campaign
		if c == nil || c.benefits == nil {
			panic(fmt.Sprintf("engine: candidate %d: Campaign was not built by Compile", i))
		}
		st := &s.cands[i]
		*st = candState{c: c, budget: cd.BudgetLeft, rank: -1}
		if cd.Blocked != "" {
			st.reason, st.blocked = cd.Blocked, true
			continue
		}
		if st.reason, st.why = s.conditions(b, c); st.reason != "" {
			st.detail = s.grossTotal // what MinimumNotMet compared
			continue
		}
		st.benBase = int32(len(s.bens))
		nb := len(c.benefits)
		s.bens = slices.Grow(s.bens, nb)[:len(s.bens)+nb]
		s.masks = slices.Grow(s.masks, nb*s.words)[:len(s.masks)+nb*s.words]
		chance := c.hasFree
		for j := range c.scopes {
			m := s.mask(st, j)
			s.scope(m, c, j, b.Lines)
			chance = chance || !empty(m)
		}
		if !chance {
			st.reason, st.why = NothingToDiscount, whyNoLineInAnyScope
			continue
		}
		s.keys = append(s.keys, rankKey{prio: c.priority, startS: c.rankStartS, startN: c.startN, ci: int32(i)})
	}
	// Sorting keys copied side by side, rather than candidate indexes that
	// lead to campaigns all over the heap, keeps the comparisons in cache.
	slices.SortFunc(s.keys, func(x, y rankKey) int {
		if c := x.compare(y); c != 0 {
			return c
		}
		return cmp.Compare(s.cands[x.ci].c.id, s.cands[y.ci].c.id)
	})
	for _, k := range s.keys {
		s.elig = append(s.elig, k.ci)
	}
	for r, ci := range s.elig {
		st := &s.cands[ci]
		st.rank = int32(r)
		if st.c.exclusive {
			s.excl = append(s.excl, ci)
		} else {
			s.stack = append(s.stack, ci)
		}
	}
}

// conditions checks what a campaign needs of the basket regardless of other
// campaigns, in the order their reasons are documented.
func (s *scratch) conditions(b *Basket, c *Compiled) (Reason, why) {
	if c.hasStart && before(s.unixS, s.unixN, c.startS, c.startN) {
		return OutsideDates, whyBeforeStart
	}
	if c.hasEnd && !before(s.unixS, s.unixN, c.endS, c.endN) {
		return OutsideDates, whyAtOrAfterEnd
	}
	if c.hasStores && !has(c.storeSet, b.Store) {
		return NotInStore, 0
	}
	if !c.inWindow(s.weekday, s.minute) {
		return OutsideTimeWindow, 0
	}
	if !b.Member && !c.open {
		return MemberOnly, 0
	}
	if c.reqSKUs.len() > 0 {
		if s.match(s.tmp, c, c.reqSKUs, span{}, c.reqSets, b.Lines); empty(s.tmp) {
			return RequiredItems, whyNoRequiredSKU
		}
	}
	if c.reqCats.len() > 0 {
		if s.match(s.tmp, c, span{}, c.reqCats, c.reqSets, b.Lines); empty(s.tmp) {
			return RequiredItems, whyNoRequiredCategory
		}
	}
	// The gross total bounds every net total, so this saves running
	// campaigns that can never reach their minimum.
	if s.grossTotal < c.minBasket {
		return MinimumNotMet, 0
	}
	return "", 0
}

// inWindow reports whether a local weekday and minute fall in the campaign's
// days and hours. The part of a window after midnight belongs to the day the
// window opened: Friday 22:00-02:00 includes Saturday 01:00.
func (c *Compiled) inWindow(wd time.Weekday, minute int32) bool {
	day := wd
	if c.window {
		switch {
		case c.from < c.to:
			if minute < c.from || minute >= c.to {
				return false
			}
		case minute >= c.from:
		case minute < c.to:
			day = (wd + 6) % 7
		default:
			return false
		}
	}
	return c.days == 0 || c.days&(1<<day) != 0
}

func before(s1 int64, n1 int32, s2 int64, n2 int32) bool {
	return s1 < s2 || s1 == s2 && n1 < n2
}

// CompareRank orders campaigns as Evaluate ranks them, best first: priority
// descending, then start ascending (no start is earliest), then id
// ascending. Evaluate sorts its candidates itself; handing them over already
// in this order (an active set sorted once when it is loaded) saves it most
// of that work.
func CompareRank(a, b *Compiled) int {
	if c := a.rankKey().compare(b.rankKey()); c != 0 {
		return c
	}
	return cmp.Compare(a.id, b.id)
}

// rankKey is a campaign's rank but for the id, with the candidate it is for.
type rankKey struct {
	prio   int
	startS int64
	startN int32
	ci     int32
}

func (c *Compiled) rankKey() rankKey {
	return rankKey{prio: c.priority, startS: c.rankStartS, startN: c.startN}
}

func (k rankKey) compare(o rankKey) int {
	if k.prio != o.prio {
		return cmp.Compare(o.prio, k.prio)
	}
	if k.startS != o.startS {
		return cmp.Compare(k.startS, o.startS)
	}
	return cmp.Compare(k.startN, o.startN)
}

func (s *scratch) mask(st *candState, j int) []uint64 {
	off := (int(st.benBase) + j) * s.words
	return s.masks[off : off+s.words]
}

// run builds one option from campaigns in rank order: discounts first, each
// on the net values the ones before it left, then points on what is finally
// paid. It leaves the option's discounts in s.log and s.net.
func (s *scratch) run(list []int32, opt *Options) option {
	copy(s.net, s.gross)
	netTotal := s.grossTotal
	s.log = s.log[:0]
	for _, ci := range list {
		st := &s.cands[ci]
		c := st.c
		st.reason, st.why, st.applied, st.discount, st.points = "", 0, false, 0, 0
		if netTotal < c.minBasket {
			st.reason, st.detail = MinimumNotMet, netTotal
			continue
		}
		start := len(s.log)
		var d int64
		for j := range c.benefits {
			cb := &c.benefits[j]
			bs := &s.bens[st.benBase+int32(j)]
			*bs = benState{}
			if !c.scopes[j].discount {
				continue
			}
			bs.logStart = int32(len(s.log))
			bs.discount, bs.why, bs.whyN = s.discount(cb, s.mask(st, j))
			bs.logEnd = int32(len(s.log))
			d += bs.discount
		}
		if st.budget >= 0 && d > st.budget {
			s.revert(start)
			st.reason, st.detail = BudgetExhausted, d
			continue
		}
		if d == 0 && !c.hasPoints && !c.hasFree {
			st.reason = NothingToDiscount
			continue
		}
		st.applied, st.discount = true, d
		netTotal -= d
	}

	o := option{first: -1}
	perUnit := minorPerUnit(opt)
	// A basket earns at most MaxPoints, base earn first; the points benefits
	// share what is left in rank order, and one that finds none gives none.
	room := MaxPoints - basePoints(netTotal, opt)
	for _, ci := range list {
		st := &s.cands[ci]
		if !st.applied {
			continue
		}
		c := st.c
		var p int64
		for j := range c.benefits {
			cb := &c.benefits[j]
			if !c.scopes[j].points {
				continue
			}
			bs := &s.bens[st.benBase+int32(j)]
			bs.points, bs.why, bs.whyN = s.points(cb, s.mask(st, j), opt, perUnit)
			if bs.points > room {
				bs.points = room
				if room == 0 {
					bs.why, bs.whyN = whyPointsCap, 0
				}
			}
			room -= bs.points
			p += bs.points
		}
		if st.discount == 0 && p == 0 && !c.hasFree {
			st.applied, st.reason = false, NothingToDiscount
			continue
		}
		st.points = p
		o.discount += st.discount
		o.points += p
		o.count++
		if o.first < 0 {
			o.first = st.rank
		}
	}
	o.value = satAdd(o.discount, pointsWorth(o.points, opt))
	for _, ci := range list {
		s.cands[ci].optValue = o.value
	}
	return o
}

// revert undoes the log back to start.
func (s *scratch) revert(start int) {
	for _, e := range s.log[start:] {
		s.net[e.line] += e.amount
	}
	s.log = s.log[:start]
}

// markLosers turns every campaign that applied in an option other than the
// winner into a LostToExclusive rejection, and remembers the winner for
// their explanations.
func (s *scratch) markLosers(win []int32, best option) {
	s.best = best
	s.leader = -1
	for _, ci := range win {
		if s.cands[ci].applied {
			s.leader = ci
			break
		}
	}
	stackWon := len(win) != 1 || !s.cands[win[0]].c.exclusive
	for _, ci := range s.elig {
		st := &s.cands[ci]
		won := !st.c.exclusive
		if !stackWon {
			won = ci == win[0]
		}
		if st.applied && !won {
			st.applied, st.reason = false, LostToExclusive
		}
	}
}

func minorPerUnit(opt *Options) int64 {
	if opt.MinorPerUnit <= 0 {
		return 100
	}
	return opt.MinorPerUnit
}

// basePoints is the base earn on net minor units paid, at most MaxPoints.
func basePoints(net int64, opt *Options) int64 {
	if opt.BaseEarn <= 0 {
		return 0
	}
	return min(satMul(net/minorPerUnit(opt), opt.BaseEarn), MaxPoints)
}

// pointsWorth is what points are worth in minor units, rounded down, for
// comparing options.
func pointsWorth(points int64, opt *Options) int64 {
	if points <= 0 || opt.PointValueNum <= 0 || opt.PointValueDen <= 0 {
		return 0
	}
	return money.MulDiv(points, opt.PointValueNum, opt.PointValueDen)
}

// BasePoints is the base earn on net minor units paid, as Evaluate gives
// it: for a caller that records discounts it did not decide (a till's
// offline offers).
func BasePoints(net int64, opt Options) int64 { return basePoints(net, &opt) }
