package variance

import (
	"math"
	"strings"
)

// A journey's stages. A journey has no launch-day audience: members enter
// all the time, so its norm is per entrant (what an entrant does in the
// hours after the hour they entered) and the expected count of a stage at
// an hour is the entries so far convolved with that curve. Entries
// themselves are judged only against an operator's target.
const (
	// Entered counts treated members entering the journey.
	Entered Stage = "entered"
	// MessagesSent counts the journey's SMS the gateway accepted, by the
	// time it did.
	MessagesSent Stage = "messages_sent"
	// MessagesDelivered counts the journey's SMS whose receipt said
	// delivered.
	MessagesDelivered Stage = "messages_delivered"
	// Conversions counts treated members reaching the journey's goal.
	Conversions Stage = "conversions"
)

// JourneyStages are a journey's fixed stages in order; each step of its
// definition adds StepStage(id) after them.
var JourneyStages = []Stage{Entered, MessagesSent, MessagesDelivered, Conversions}

// StepStage is the stage of a journey's step: the members who ran it.
func StepStage(id string) Stage { return Stage("step:" + id) }

// JourneyWindow is the hours a journey is judged over: the entrants of the
// last three days and what they did since.
const JourneyWindow = 72

// JourneyNorm is what a journey's entrants are expected to do.
type JourneyNorm struct {
	Source string   `json:"source"`
	Basis  []string `json:"basis"`
	// Lag holds, per stage, the expected cumulative count per entrant
	// through d hours after the entry hour (Cum[d]) and the spread between
	// comparable cohorts.
	Lag map[Stage]Curve `json:"-"`
	// Entries is the operator's target of cumulative entries over the
	// window (absolute counts); empty: entries are not judged.
	Entries Curve `json:"-"`
}

// Cohort is one comparable past cohort of entrants: how many entered and
// what they did, per stage, by hours after their entry hour.
type Cohort struct {
	ID       string
	Entrants float64
	Lagged   map[Stage][]int64
}

// LearnLag averages the cohorts' per-entrant cumulative curves over hours
// hours after entry, with their spread, as Learn does for campaigns.
func LearnLag(cs []Cohort, stages []Stage, hours int) map[Stage]Curve {
	hs := make([]History, 0, len(cs))
	for _, c := range cs {
		hs = append(hs, History{ID: c.ID, Audience: c.Entrants, Hourly: c.Lagged})
	}
	out := learnStages(hs, stages, hours)
	// The next cohort differs from the mean of k by the spread and by the
	// mean's own error: a prediction interval, sqrt(1 + 1/k) wider. The
	// per-entrant curve is applied to every entry of the window, so the
	// mean's error does not average out. And a spread measured on k
	// cohorts is itself uncertain: Student's t with k-1 degrees of freedom
	// in place of the normal, by its first-order expansion at 2 sigma,
	// t ≈ z(1 + (z²+1)/(4(k-1))): 18% wider for 8 cohorts, 42% for 4.
	if k := len(cs); k >= 3 {
		w := math.Sqrt(1+1/float64(k)) * (1 + 5/(4*float64(k-1)))
		for st, c := range out {
			for i := range c.Spread {
				c.Spread[i] *= w
			}
			out[st] = c
		}
	}
	return out
}

// expectedFromEntries is the curve of a stage for entries by hour: the
// expected cumulative count (absolute) through each hour, and the spread
// weighted by what each entry hour contributes.
func expectedFromEntries(lag Curve, entries []int64, hours int) Curve {
	c := Curve{Cum: make([]float64, hours), Spread: make([]float64, hours)}
	for i := range hours {
		var e, w float64
		for j := 0; j <= i && j < len(entries); j++ {
			if entries[j] == 0 {
				continue
			}
			cum, spread := lag.at(i - j)
			x := float64(entries[j]) * cum
			e += x
			w += x * spread
		}
		c.Cum[i] = e
		c.Spread[i] = DefaultSpread
		if e > 0 {
			c.Spread[i] = w / e
		}
	}
	return c
}

// EvaluateJourney judges a journey's last hours complete hours of actuals
// (hour 0 the first of the window) against its norm: entries against the
// target, every other stage against the entries so far times what an
// entrant is expected to do. Stages are judged in the order given.
func EvaluateJourney(n JourneyNorm, a Actuals, hours int, order []Stage) Result {
	hours = max(hours, 0)
	res := Result{Hours: hours, Stages: []StageResult{}, Stores: []StoreResult{}, Findings: []Finding{}}
	curves := map[Stage]Curve{}
	if len(n.Entries.Cum) > 0 {
		curves[Entered] = n.Entries
	}
	for _, st := range order {
		if lag, ok := n.Lag[st]; ok && st != Entered {
			curves[st] = expectedFromEntries(lag, a.Hourly[Entered], hours)
		}
	}
	// The curves are absolute: the "audience" is one.
	abs := Norm{Curves: curves}
	for _, st := range order {
		c, ok := curves[st]
		if !ok {
			continue
		}
		sr := evalStage(abs, st, c, 1, a, hours)
		res.Stages = append(res.Stages, sr)
		if f, ok := stageFinding(sr); ok {
			f.Corrections = journeyCorrections(st, sr.Z > 0 && f.Kind == "cumulative")
			res.Findings = append(res.Findings, f)
		}
	}
	return res
}

// journeyCorrections are what an operator can do about a journey's
// departure: stop it (no one new enters; those inside finish) and launch
// it again once fixed.
func journeyCorrections(st Stage, above bool) []string {
	if above && st != Entered {
		return []string{}
	}
	return []string{"stop"}
}

// journeyLabel names journey stages on the page.
func journeyLabel(s Stage) (string, bool) {
	switch s {
	case Entered:
		return "Entered", true
	case MessagesSent:
		return "Messages sent", true
	case MessagesDelivered:
		return "Messages delivered", true
	case Conversions:
		return "Goal conversions", true
	}
	if id, ok := strings.CutPrefix(string(s), "step:"); ok {
		return "Step " + id, true
	}
	return "", false
}
