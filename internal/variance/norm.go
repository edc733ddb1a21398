package variance

import (
	"math"
	"slices"
)

// Norm sources.
const (
	SourceHistory = "history" // learned from comparable past campaigns
	SourceTarget  = "target"  // set by the operator
	SourceNone    = "none"    // neither: nothing is judged
)

// Norm is what a campaign is expected to do, per member of its treated
// audience, hour by hour since the launch hour.
type Norm struct {
	Source string `json:"source"`
	// Basis lists the comparable campaigns a learned norm comes from.
	Basis []string `json:"basis"`
	// Curves holds a curve per stage; a stage without one is not judged.
	Curves map[Stage]Curve `json:"-"`
	// StoreShares is each store's share of the programme's baskets in the
	// 28 days before launch: its expected share of the redemptions.
	StoreShares map[string]float64 `json:"-"`
}

// Curve is one stage's norm. Cum[i] is the expected cumulative count per
// treated member through the end of hour i since the launch hour (hour 0
// holds the launch); Spread[i] the relative spread between campaigns at
// that hour (their coefficient of variation). Past its end a curve stays
// flat.
type Curve struct {
	Cum    []float64
	Spread []float64
}

// at is the curve at hour i: flat past the end, zero before the start.
func (c Curve) at(i int) (cum, spread float64) {
	if len(c.Cum) == 0 || i < 0 {
		return 0, DefaultSpread
	}
	i = min(i, len(c.Cum)-1)
	return c.Cum[i], c.Spread[i]
}

// History is one comparable past campaign: its treated audience and its
// hourly counts per stage since its launch hour.
type History struct {
	ID       string
	Audience float64
	Hourly   map[Stage][]int64
}

// Learn averages the histories' per-member cumulative curves over hours
// hours. The spread at each hour is their coefficient of variation when
// there are at least three (floored at MinSpread), DefaultSpread
// otherwise. Histories with no audience are left out.
func Learn(hs []History, hours int) map[Stage]Curve { return learnStages(hs, Stages, hours) }

func learnStages(hs []History, stages []Stage, hours int) map[Stage]Curve {
	hours = min(max(hours, 1), MaxHours)
	out := map[Stage]Curve{}
	for _, st := range stages {
		per := make([][]float64, 0, len(hs))
		for _, h := range hs {
			if h.Audience <= 0 {
				continue
			}
			cum := make([]float64, hours)
			var run int64
			hourly := h.Hourly[st]
			for i := range hours {
				if i < len(hourly) {
					run += hourly[i]
				}
				cum[i] = float64(run) / h.Audience
			}
			per = append(per, cum)
		}
		if len(per) == 0 {
			continue
		}
		c := Curve{Cum: make([]float64, hours), Spread: make([]float64, hours)}
		for i := range hours {
			var sum, sq float64
			for _, p := range per {
				sum += p[i]
			}
			mean := sum / float64(len(per))
			for _, p := range per {
				sq += (p[i] - mean) * (p[i] - mean)
			}
			c.Cum[i] = mean
			c.Spread[i] = DefaultSpread
			if len(per) >= 3 && mean > 0 {
				c.Spread[i] = max(math.Sqrt(sq/float64(len(per)-1))/mean, MinSpread)
			}
		}
		out[st] = c
	}
	return out
}

// TargetPoint is a point of an operator's target: the cumulative count a
// stage should have reached by the end of hour Hour since the launch hour.
type TargetPoint struct {
	Hour       int     `json:"hour"`
	Cumulative float64 `json:"cumulative"`
}

// TargetCurve turns an operator's points into a curve for a campaign of
// audience treated members: linear from zero at the launch through the
// points in order of hour, flat after the last, with DefaultSpread.
func TargetCurve(points []TargetPoint, audience float64, hours int) Curve {
	hours = min(max(hours, 1), MaxHours)
	ps := slices.Clone(points)
	slices.SortFunc(ps, func(a, b TargetPoint) int { return a.Hour - b.Hour })
	c := Curve{Cum: make([]float64, hours), Spread: make([]float64, hours)}
	if audience <= 0 {
		audience = 1
	}
	for i := range hours {
		c.Spread[i] = DefaultSpread
		prevH, prevV := -1, 0.0
		v := 0.0
		for _, p := range ps {
			if i <= p.Hour {
				span := float64(p.Hour - prevH)
				v = prevV + (p.Cumulative-prevV)*float64(i-prevH)/span
				break
			}
			prevH, prevV, v = p.Hour, p.Cumulative, p.Cumulative
		}
		c.Cum[i] = v / audience
	}
	return c
}
