package engine

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// result turns the winning option (its campaigns in rank order, its
// discounts in s.log) into a Result. Everything in it is freshly allocated,
// nothing points into the scratch space.
func (s *scratch) result(b *Basket, win []int32, opt *Options) Result {
	s.count = resize(s.count, s.n)
	clear(s.count)
	for _, e := range s.log {
		s.count[e.line]++
	}
	res := Result{Lines: make([]LineResult, s.n)}
	ids := make([]string, len(s.log)) // backs every line's OfferIDs
	off := 0
	for i := range s.n {
		c := int(s.count[i])
		res.Lines[i] = LineResult{Line: b.Lines[i].Line, OfferIDs: ids[off:off:(off + c)]}
		off += c
	}

	nc, nb := 0, 0
	for _, ci := range win {
		st := &s.cands[ci]
		if !st.applied {
			continue
		}
		nc++
		for j := range st.c.benefits {
			if s.gave(st, j) {
				nb++
			}
		}
	}
	res.Campaigns = make([]string, 0, nc)
	res.Benefits = make([]Applied, 0, nb)
	shares := make([]LineShare, len(s.log)) // backs every benefit's Lines
	var points int64
	for _, ci := range win {
		st := &s.cands[ci]
		if !st.applied {
			continue
		}
		c := st.c
		res.Campaigns = append(res.Campaigns, c.id)
		for j := range c.benefits {
			if !s.gave(st, j) {
				continue
			}
			cb := &c.benefits[j]
			bs := &s.bens[st.benBase+int32(j)]
			a := Applied{
				OfferID: cb.ID, CampaignID: c.id, Kind: cb.Kind, Description: cb.Description,
				Discount: bs.discount, Points: bs.points, Pool: cb.Pool,
			}
			if bs.logEnd > bs.logStart {
				a.Lines = shares[bs.logStart:bs.logEnd:bs.logEnd]
				for k := bs.logStart; k < bs.logEnd; k++ {
					e := s.log[k]
					shares[k] = LineShare{Line: b.Lines[e.line].Line, Discount: e.amount}
					lr := &res.Lines[e.line]
					lr.Discount += e.amount
					lr.OfferIDs = append(lr.OfferIDs, cb.ID)
				}
			}
			res.Benefits = append(res.Benefits, a)
			res.TotalDiscount += bs.discount
			points += bs.points
		}
	}
	res.BasePoints = basePoints(s.grossTotal-res.TotalDiscount, opt)
	res.PointsEarned = res.BasePoints + points
	if opt.Explain {
		res.Rejected = s.explain(b, opt)
	}
	return res
}

// gave reports whether benefit j of an applying campaign gives anything.
func (s *scratch) gave(st *candState, j int) bool {
	bs := &s.bens[st.benBase+int32(j)]
	return bs.discount > 0 || bs.points > 0 || st.c.benefits[j].Kind == FreeContent
}

// explain lists, in rank order, every candidate that did not apply and every
// benefit of an applying campaign that gave nothing.
func (s *scratch) explain(b *Basket, opt *Options) []Rejection {
	s.order = s.order[:0]
	for i := range s.cands {
		s.order = append(s.order, int32(i))
	}
	slices.SortStableFunc(s.order, func(x, y int32) int { return CompareRank(s.cands[x].c, s.cands[y].c) })
	var out []Rejection
	for _, ci := range s.order {
		st := &s.cands[ci]
		if st.applied {
			for j := range st.c.benefits {
				if !s.gave(st, j) {
					cb := &st.c.benefits[j]
					out = append(out, Rejection{
						CampaignID: st.c.id, OfferID: cb.ID, Reason: NothingToDiscount,
						Detail: s.benefitWhy(st, j, opt),
					})
				}
			}
			continue
		}
		out = append(out, Rejection{CampaignID: st.c.id, Reason: st.reason, Detail: s.detail(b, st, opt)})
	}
	return out
}

func (s *scratch) detail(b *Basket, st *candState, opt *Options) string {
	c := st.c
	if st.blocked {
		return "ruled out by the caller"
	}
	switch st.reason {
	case OutsideDates:
		if st.why == whyBeforeStart {
			return fmt.Sprintf("the basket's time %s is before its start %s",
				b.Time.Format(time.RFC3339), c.Start.Format(time.RFC3339))
		}
		return fmt.Sprintf("the basket's time %s is not before its end %s",
			b.Time.Format(time.RFC3339), c.End.Format(time.RFC3339))
	case NotInStore:
		list := c.stores
		if len(list) > 5 {
			list = append(list[:5:5], "...")
		}
		return fmt.Sprintf("store %q is not one of its stores (%s)", b.Store, strings.Join(list, ", "))
	case OutsideTimeWindow:
		return fmt.Sprintf("%s %02d:%02d local time is outside %s",
			s.weekday.String()[:3], s.minute/60, s.minute%60, c.windowText())
	case MemberOnly:
		return "it is for members only and no member was identified"
	case RequiredItems:
		if st.why == whyNoRequiredSKU {
			return "no line has one of its required SKUs"
		}
		return "no line is in one of its required categories"
	case MinimumNotMet:
		return fmt.Sprintf("the basket's net value at its turn, %d, is below its minimum %d", st.detail, c.minBasket)
	case NothingToDiscount:
		if st.why == whyNoLineInAnyScope {
			return "no line in any benefit's scope"
		}
		parts := make([]string, 0, len(c.benefits))
		for j := range c.benefits {
			parts = append(parts, c.benefits[j].ID+": "+s.benefitWhy(st, j, opt))
		}
		return strings.Join(parts, "; ")
	case BudgetExhausted:
		return fmt.Sprintf("its discount %d is more than its budget left, %d", st.detail, st.budget)
	case LostToExclusive:
		return s.lostDetail(st)
	}
	return ""
}

func (s *scratch) lostDetail(st *candState) string {
	if s.leader < 0 {
		return "another option was the better deal"
	}
	lead := s.cands[s.leader].c
	var who string
	switch {
	case lead.exclusive:
		who = fmt.Sprintf("exclusive campaign %q", lead.id)
	case s.best.count == 1:
		who = fmt.Sprintf("campaign %q", lead.id)
	default:
		who = fmt.Sprintf("%d stacked campaigns led by %q", s.best.count, lead.id)
	}
	return fmt.Sprintf("the best deal was %s, worth %d to the shopper against %d", who, s.best.value, st.optValue)
}

func (s *scratch) benefitWhy(st *candState, j int, opt *Options) string {
	cb := &st.c.benefits[j]
	bs := &s.bens[st.benBase+int32(j)]
	switch bs.why {
	case whyNoLine:
		return "no line in its scope"
	case whyNoValue:
		return "the lines in its scope are already free"
	case whyBelowThreshold:
		return fmt.Sprintf("its scope's net value %d is below the threshold %d", bs.whyN, cb.Threshold)
	case whyAtOrBelowPrice:
		return fmt.Sprintf("every unit in its scope already sells for %d or less", cb.Price)
	case whyTooFewUnits:
		return fmt.Sprintf("%d units in its scope, fewer than buy %d get %d", bs.whyN, cb.Buy, cb.Get)
	case whyRoundsToNothing:
		return "its discount rounds to nothing"
	case whyLessThanOneUnit:
		return fmt.Sprintf("its scope's net value %d is less than one currency unit (%d)", bs.whyN, minorPerUnit(opt))
	case whyNoBaseEarn:
		return "the programme has no base earn to multiply"
	case whyPointsCap:
		return fmt.Sprintf("the basket already earns the most points one basket can (%d)", int64(MaxPoints))
	}
	return "it gives nothing"
}

// windowText describes the campaign's days and hours: "Fri,Sat 22:00-02:00",
// "Mon 18:00-24:00".
func (c *Compiled) windowText() string {
	var sb strings.Builder
	for d := time.Sunday; d <= time.Saturday; d++ {
		if c.days&(1<<d) != 0 {
			if sb.Len() > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString(d.String()[:3])
		}
	}
	if c.window {
		if sb.Len() > 0 {
			sb.WriteByte(' ')
		}
		fmt.Fprintf(&sb, "%02d:%02d-%02d:%02d", c.from/60, c.from%60, c.to/60, c.to%60)
	}
	return sb.String()
}
