package nbo

import (
	"cmp"
	"math"
	"slices"

	"github.com/perk-platform/perk/internal/catalogue"
	"github.com/perk-platform/perk/internal/checkout/engine"
)

// The scoring is the pure core of the ranking: data in, ranked offers with
// their reasons out. docs/nbo.md writes the model down; the constants here
// are the ones it names.
const (
	// DefaultMarginRate is the share of a sale kept as margin when no
	// product in an offer's scope has a cost price in the catalogue.
	DefaultMarginRate = 0.30
	// MemberStrength is how many offers of a member's own history weigh as
	// much as the prior the segment and affinities give them.
	MemberStrength = 4.0
	// GlobalStrength is the pseudo-count with which a category's rate is
	// shrunk toward the programme's rate.
	GlobalStrength = 20.0
	// MinTilt and MaxTilt bound the affinity and cross-sell multiplier.
	MinTilt, MaxTilt = 0.25, 4.0
	// affinityFloor keeps a member's and the programme's shares away from 0
	// in the affinity ratio.
	affinityFloor = 0.02
)

// Count is offers given and redeemed.
type Count struct {
	Given    float64 `json:"given"`
	Redeemed float64 `json:"redeemed"`
}

// Beta is a Beta prior written as its mean and strength (alpha + beta):
// its posterior mean after r redemptions of n offers is
// (r + Strength*Mean) / (n + Strength).
type Beta struct {
	Mean     float64 `json:"mean"`
	Strength float64 `json:"strength"`
}

func (b Beta) posterior(c Count) float64 {
	return (c.Redeemed + b.Strength*b.Mean) / (c.Given + b.Strength)
}

// FitBeta fits a Beta prior to the cells' rates by the method of moments
// (empirical Bayes): the mean is the pooled rate, shrunk toward global, and
// the strength is mean*(1-mean)/variance - 1, where the variance is that of
// the cells' rates minus the part their sampling explains. Cells that vary
// no more than sampling explains get a strong prior (MaxStrength): their
// differences are noise. Fewer than two cells with offers leave the
// strength at GlobalStrength.
func FitBeta(cells []Count, global float64) Beta {
	var tot Count
	k := 0
	for _, c := range cells {
		if c.Given > 0 {
			tot.Given += c.Given
			tot.Redeemed += c.Redeemed
			k++
		}
	}
	mean := (tot.Redeemed + GlobalStrength*global) / (tot.Given + GlobalStrength)
	if k < 2 {
		return Beta{Mean: mean, Strength: GlobalStrength}
	}
	var varObs, sampling float64
	for _, c := range cells {
		if c.Given > 0 {
			d := c.Redeemed/c.Given - mean
			varObs += d * d
			sampling += mean * (1 - mean) / c.Given
		}
	}
	varObs /= float64(k)
	sampling /= float64(k)
	between := varObs - sampling
	strength := MaxStrength
	if between > 0 {
		strength = min(max(mean*(1-mean)/between-1, MinStrength), MaxStrength)
	}
	return Beta{Mean: mean, Strength: strength}
}

// MinStrength and MaxStrength bound a fitted prior's strength.
const MinStrength, MaxStrength = 2.0, 200.0

// Model is the programme-wide part of the ranking, read once and reused:
// the rates per segment, the affinities' norms, the rules and the margins.
type Model struct {
	Global   float64                     // redemption rate of every offer given
	Priors   map[string]Beta             // per offer group (a category, "" = whole basket)
	Segments map[string]map[string]Count // segment -> group -> offers given and redeemed
	AvgShare map[string]float64          // programme's average share of a member's spend per category
	Rules    map[string][]Rule           // category rules by consequent
	Spend    map[string]float64          // average spend in a group per basket holding it, minor units
	Margin   map[string]MarginRate       // per group
}

// MarginRate is the margin share of a group's sales and where it came from.
type MarginRate struct {
	Rate   float64 `json:"rate"`
	Source string  `json:"source"` // catalogue (cost prices of N products), or default
}

// Features are what the ranking knows of one member.
type Features struct {
	Segment string             // RFM segment, or the stand-in of docs/nbo.md
	Share   map[string]float64 // share of the member's spend per category (ancestors included)
	Bought  map[string]bool    // categories bought in the window
	History []Exposure         // offers the member was given, and whether redeemed
}

// Exposure is one offer a member was given.
type Exposure struct {
	Group    string
	Kind     engine.Kind
	Redeemed bool
}

// Candidate is an offer that could be ranked: from the pool, or a live
// campaign the member is in.
type Candidate struct {
	Source     string // pool, campaign
	Name       string // pool offer name or campaign id
	Offer      Offer
	CampaignID string // the campaign that holds it, when it is one
}

// Group is the category an offer's group is counted in: its scope's first
// category, else the first category of its first SKU (categories looks it
// up), else "" (the whole basket).
func Group(b engine.Benefit, categories func(sku string) []string) string {
	if len(b.Scope.Categories) > 0 {
		return b.Scope.Categories[0]
	}
	for _, sku := range b.Scope.SKUs {
		if cs := categories(sku); len(cs) > 0 {
			return cs[0]
		}
	}
	return ""
}

// Reasons are the numbers behind a score, in the order the model uses them
// (docs/nbo.md).
type Reasons struct {
	Group        string  `json:"group"`         // category the offer is counted in; "" = whole basket
	Segment      string  `json:"segment"`       //
	SegmentRate  float64 `json:"segment_rate"`  // segment's redemption rate of the group's offers, shrunk to the prior
	SegmentGiven float64 `json:"segment_given"` // offers of the group the segment was given
	Prior        Beta    `json:"prior"`         // the group's fitted prior
	Affinity     float64 `json:"affinity"`      // member's share of spend in the group
	AffinityNorm float64 `json:"affinity_norm"` // programme's average share
	Rule         *Rule   `json:"rule"`          // the cross-sell rule that applied, if any
	Tilt         float64 `json:"tilt"`          // affinity ratio x rule lift, bounded
	OwnGiven     float64 `json:"own_given"`     // similar offers the member was given (same group 1/2, same kind 1/2)
	OwnRedeemed  float64 `json:"own_redeemed"`  //
	Probability  float64 `json:"probability"`   // chance the member redeems it
	TypicalSpend int64   `json:"typical_spend"` // in the group per basket, minor units
	MarginRate   float64 `json:"margin_rate"`   //
	MarginSource string  `json:"margin_source"` //
	Margin       int64   `json:"margin"`        // typical_spend x margin_rate
	Cost         int64   `json:"cost"`          // per redemption
}

// Ranked is a scored candidate.
type Ranked struct {
	Candidate
	Group   string
	Score   float64 // expected incremental value, minor units
	Reasons Reasons
}

// Score ranks one candidate for a member:
//
//	p = (own redeemed + S*m) / (own given + S),  m = segment rate x tilt
//	value = p * (margin - cost)
func (md *Model) Score(f *Features, c Candidate, group string) Ranked {
	r := Reasons{Group: group, Segment: f.Segment}
	prior, ok := md.Priors[group]
	if !ok {
		prior = Beta{Mean: md.Global, Strength: GlobalStrength}
	}
	r.Prior = prior
	seg := md.Segments[f.Segment][group]
	r.SegmentGiven = seg.Given
	r.SegmentRate = prior.posterior(seg)

	tilt := 1.0
	if group != "" {
		r.Affinity, r.AffinityNorm = f.Share[group], md.AvgShare[group]
		tilt = (r.Affinity + affinityFloor) / (r.AffinityNorm + affinityFloor)
		// Cross-sell: the strongest rule into the group whose antecedent
		// the member buys, when the member does not already buy the group.
		if !f.Bought[group] {
			for i, rule := range md.Rules[group] {
				if f.Bought[rule.Antecedent] {
					r.Rule = &md.Rules[group][i]
					tilt *= rule.Lift
					break
				}
			}
		}
	}
	r.Tilt = min(max(tilt, MinTilt), MaxTilt)
	m := min(max(r.SegmentRate*r.Tilt, 0.001), 0.95)
	for _, e := range f.History {
		w := 0.0
		if e.Group == group {
			w += 0.5
		}
		if e.Kind == c.Offer.Benefit.Kind {
			w += 0.5
		}
		r.OwnGiven += w
		if e.Redeemed {
			r.OwnRedeemed += w
		}
	}
	r.Probability = Beta{Mean: m, Strength: MemberStrength}.posterior(Count{Given: r.OwnGiven, Redeemed: r.OwnRedeemed})

	spend := md.Spend[group]
	mr, ok := md.Margin[group]
	if !ok {
		mr = MarginRate{Rate: DefaultMarginRate, Source: "default"}
	}
	r.TypicalSpend, r.MarginRate, r.MarginSource = int64(math.Round(spend)), mr.Rate, mr.Source
	r.Margin = int64(math.Round(spend * mr.Rate))
	r.Cost = c.Offer.Cost
	return Ranked{Candidate: c, Group: group, Score: r.Probability * float64(r.Margin-r.Cost), Reasons: r}
}

// Rank scores every candidate and returns the best k (all when k <= 0),
// highest expected value first; ties go to the higher probability, then
// the name, so a ranking is deterministic.
//
// For a best few of many (a request's top 5 of a 200-offer pool) it keeps
// only each candidate's score, picks the best k of those and scores the k
// again for their reasons (Score is a pure function, so the second scoring
// gives the first's figures): sorting 200 full results, each a few hundred
// bytes with its reasons, was most of the ranking's CPU and allocation.
func (md *Model) Rank(f *Features, cands []Candidate, groups []string, k int) []Ranked {
	if k <= 0 || k >= len(cands) {
		out := make([]Ranked, len(cands))
		for i, c := range cands {
			out[i] = md.Score(f, c, groups[i])
		}
		slices.SortFunc(out, func(a, b Ranked) int {
			return compareRanked(a.Score, a.Reasons.Probability, a.Name, b.Score, b.Reasons.Probability, b.Name)
		})
		return out
	}
	type key struct {
		score, prob float64
		i           int
	}
	before := func(a, b key) bool {
		return compareRanked(a.score, a.prob, cands[a.i].Name, b.score, b.prob, cands[b.i].Name) < 0
	}
	// top holds the best so far in order; a candidate enters it only if it
	// beats the last.
	top := make([]key, 0, k+1)
	for i := range cands {
		r := md.Score(f, cands[i], groups[i])
		c := key{r.Score, r.Reasons.Probability, i}
		if len(top) == k && !before(c, top[k-1]) {
			continue
		}
		j := len(top)
		for j > 0 && before(c, top[j-1]) {
			j--
		}
		top = slices.Insert(top, j, c)
		if len(top) > k {
			top = top[:k]
		}
	}
	out := make([]Ranked, len(top))
	for n, c := range top {
		out[n] = md.Score(f, cands[c.i], groups[c.i])
	}
	return out
}

// compareRanked orders two scored candidates: higher expected value first,
// then higher probability, then name. (Not cmp.Or, which would compare the
// names of every pair.)
func compareRanked(scoreA, probA float64, nameA string, scoreB, probB float64, nameB string) int {
	if c := cmp.Compare(scoreB, scoreA); c != 0 {
		return c
	}
	if c := cmp.Compare(probB, probA); c != 0 {
		return c
	}
	return cmp.Compare(nameA, nameB)
}

// shares turns spend per category into each category's share of the total
// (a line counts toward each of its categories and their ancestors).
func shares(spend map[string]float64, total float64) map[string]float64 {
	out := make(map[string]float64, len(spend))
	if total <= 0 {
		return out
	}
	for c, v := range spend {
		out[c] = v / total
	}
	return out
}

var _ = catalogue.Within
