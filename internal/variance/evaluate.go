package variance

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
)

// Actuals are a campaign's hourly counts since its launch hour: per stage,
// and its redemptions per store.
type Actuals struct {
	Hourly map[Stage][]int64
	Stores map[string][]int64
}

func (a Actuals) hour(st Stage, i int) int64 {
	h := a.Hourly[st]
	if i < 0 || i >= len(h) {
		return 0
	}
	return h[i]
}

// Point is one hour of a stage's chart: the actual and expected cumulative
// figures at the end of the hour and the bands around the expected.
type Point struct {
	Hour        int     `json:"hour"`
	Actual      float64 `json:"actual"`
	Expected    float64 `json:"expected"`
	WarnLow     float64 `json:"warn_low"`
	WarnHigh    float64 `json:"warn_high"`
	ControlLow  float64 `json:"control_low"`
	ControlHigh float64 `json:"control_high"`
}

// StageResult is one stage judged against its norm at the last complete
// hour.
type StageResult struct {
	Stage    Stage   `json:"stage"`
	Label    string  `json:"label"`
	Actual   float64 `json:"actual"`
	Expected float64 `json:"expected"`
	// Z is (actual - expected) / sigma; 0 while not judged.
	Z float64 `json:"z"`
	// Level is the cumulative figure's; Drift the hourly detector's
	// (CUSUM downward, or a stall); Worst the graver of the two.
	Level  Level   `json:"level"`
	Drift  Level   `json:"drift"`
	Worst  Level   `json:"worst"`
	Cusum  float64 `json:"cusum"`
	Judged bool    `json:"judged"`
	// LastHour and LastHourExpected are the last complete hour's count and
	// what the norm, scaled to this campaign's level so far, expected of it.
	LastHour         float64 `json:"last_hour"`
	LastHourExpected float64 `json:"last_hour_expected"`
	Points           []Point `json:"points"`
}

// StoreResult is one store's redemptions against its share of the pooled
// redemptions.
type StoreResult struct {
	StoreID       string  `json:"store_id"`
	Redemptions   int64   `json:"redemptions"`
	Expected      float64 `json:"expected"`
	BaselineShare float64 `json:"baseline_share"`
	// Ratio is the store's redemption rate over the pooled rate (1 = like
	// the others; 0.33 = a third of them); 0 when nothing is expected yet.
	Ratio  float64 `json:"ratio"`
	Z      float64 `json:"z"`
	Level  Level   `json:"level"`
	Drift  Level   `json:"drift"`
	Worst  Level   `json:"worst"`
	Cusum  float64 `json:"cusum"`
	Judged bool    `json:"judged"`
}

// Finding is a departure from the norm: what, where, how grave, and the
// corrections that address it.
type Finding struct {
	Stage   Stage  `json:"stage"`
	StoreID string `json:"store_id,omitempty"`
	Level   Level  `json:"level"`
	// Kind is "cumulative", "drift", "stall" or "store".
	Kind        string   `json:"kind"`
	Message     string   `json:"message"`
	Corrections []string `json:"corrections"`
}

// Key identifies a finding for de-duplication: one alert per stage and
// store until it clears.
func (f Finding) Key() string { return string(f.Stage) + "/" + f.StoreID }

// Result is a campaign judged at the end of hour Hours-1 since its launch
// hour.
type Result struct {
	Hours    int           `json:"hours"`
	Stages   []StageResult `json:"stages"`
	Stores   []StoreResult `json:"stores"`
	Findings []Finding     `json:"findings"`
}

// unit is the variance one counted unit adds: 1 for counts; for revenue,
// a sum of basket values, E[X²]/E[X] ≈ 2 × the mean redeeming basket
// (basket values' coefficient of variation taken as 1).
func unit(n Norm, st Stage, i int) float64 {
	if st != Revenue {
		return 1
	}
	rev, _ := n.Curves[Revenue].at(i)
	red, _ := n.Curves[Redemptions].at(i)
	if red <= 0 || rev <= 0 {
		return 1
	}
	return 2 * rev / red
}

// Evaluate judges a campaign of audience treated members against its norm
// over its first hours complete hours since the launch hour.
func Evaluate(n Norm, audience float64, a Actuals, hours int) Result {
	hours = max(hours, 0)
	res := Result{Hours: hours, Stages: []StageResult{}, Stores: []StoreResult{}, Findings: []Finding{}}
	for _, st := range Stages {
		c, ok := n.Curves[st]
		if !ok {
			continue
		}
		sr := evalStage(n, st, c, audience, a, hours)
		res.Stages = append(res.Stages, sr)
		if f, ok := stageFinding(sr); ok {
			res.Findings = append(res.Findings, f)
		}
	}
	res.Stores = evalStores(n, a, hours)
	for _, s := range res.Stores {
		if s.Worst == OK {
			continue
		}
		msg := fmt.Sprintf("Store %s redeems at %.2f of the others' rate (%d redemptions, %.0f expected)", s.StoreID, s.Ratio, s.Redemptions, s.Expected)
		if s.Ratio > 1 {
			msg = fmt.Sprintf("Store %s redeems at %.1f times the others' rate (%d redemptions, %.0f expected)", s.StoreID, s.Ratio, s.Redemptions, s.Expected)
		}
		if s.Drift > s.Level {
			msg += "; fell off in the last hours"
		}
		kind := "store"
		if s.Drift > s.Level {
			kind = "store_drift"
		}
		res.Findings = append(res.Findings, Finding{Stage: Redemptions, StoreID: s.StoreID, Level: s.Worst, Kind: kind,
			Message: msg, Corrections: []string{"pause"}})
	}
	return res
}

func evalStage(n Norm, st Stage, c Curve, audience float64, a Actuals, hours int) StageResult {
	sr := StageResult{Stage: st, Label: st.Label(), Points: make([]Point, 0, hours)}
	warn := FamilySigma(WarnSigma, len(n.Curves))
	var cum, cusum float64
	stalled := false
	for i := range hours {
		x := float64(a.hour(st, i))
		prevCum := cum
		cum += x
		pm, spread := c.at(i)
		e := audience * pm
		u := unit(n, st, i)
		sigma := math.Sqrt(e*u + spread*spread*e*e)
		p := Point{Hour: i, Actual: cum, Expected: e,
			WarnLow: max(e-warn*sigma, 0), WarnHigh: e + warn*sigma,
			ControlLow: max(e-ControlSigma*sigma, 0), ControlHigh: e + ControlSigma*sigma}
		sr.Points = append(sr.Points, p)

		// The drift detector compares the hour with the norm's increment
		// scaled to this campaign's own level so far, so a campaign running
		// steadily above or below its norm is judged by the cumulative
		// limits alone and the detector watches for a change of pace.
		prevPM, _ := c.at(i - 1)
		prevE := audience * prevPM
		ratio := 1.0
		if prevE >= MinExpected*u {
			ratio = min(max(prevCum/prevE, 0.5), 2)
		}
		eh := max(e-prevE, 0) * ratio
		stalled = false
		if eh >= MinHourly*u {
			zh := (x - eh) / math.Sqrt(eh*u+spread*spread*eh*eh)
			cusum = max(0, cusum-zh-CusumK)
			stalled = x == 0 && eh >= 10*u
		} else {
			// An hour that expects next to nothing (sending is over, the
			// shops are shut) counts as on pace: without this a sum left
			// from the stage's busy hours stayed amber for the rest of the
			// campaign, and was reported as a stall.
			cusum = max(0, cusum-CusumK)
		}
		sr.LastHour, sr.LastHourExpected = x, eh
		if i == hours-1 {
			sr.Actual, sr.Expected, sr.Cusum = cum, e, cusum
			if e >= MinExpected*u {
				sr.Judged = true
				sr.Z = (cum - e) / sigma
				sr.Level = levelOf(sr.Z, warn, ControlSigma)
			}
			switch {
			case stalled || cusum >= CusumRedH:
				sr.Drift = Red
			case cusum >= CusumAmberH:
				sr.Drift = Amber
			}
		}
	}
	sr.Worst = max(sr.Level, sr.Drift)
	return sr
}

func levelOf(z, warn, control float64) Level {
	switch {
	case math.Abs(z) >= control:
		return Red
	case math.Abs(z) >= warn:
		return Amber
	}
	return OK
}

// FamilySigma is the two-sided band that k figures judged together cross,
// any of them, as rarely as one figure crosses sigma (Šidák's correction):
// a page of 20 stores each held to 2 sigma shows some store amber most of
// the time even when nothing is wrong. It is sigma for k ≤ 1.
func FamilySigma(sigma float64, k int) float64 {
	if k <= 1 {
		return sigma
	}
	alpha := math.Erfc(sigma / math.Sqrt2)
	each := -math.Expm1(math.Log1p(-alpha) / float64(k))
	return math.Sqrt2 * math.Erfcinv(each)
}

func stageFinding(sr StageResult) (Finding, bool) {
	if sr.Worst == OK {
		return Finding{}, false
	}
	f := Finding{Stage: sr.Stage, Level: sr.Worst, Kind: "cumulative"}
	if sr.Drift > sr.Level {
		f.Kind = "drift"
		f.Message = fmt.Sprintf("%s slowed: %.0f in the last hour where %.0f were expected", sr.Label, sr.LastHour, sr.LastHourExpected)
		if sr.LastHour == 0 {
			f.Kind = "stall"
			f.Message = fmt.Sprintf("%s stalled: none in the last hour where %.0f were expected", sr.Label, sr.LastHourExpected)
		}
	} else {
		dir := "below"
		if sr.Z > 0 {
			dir = "above"
		}
		f.Message = fmt.Sprintf("%s %s the norm: %.0f against %.0f expected by now (%+.1f sigma)", sr.Label, dir, sr.Actual, sr.Expected, sr.Z)
	}
	f.Corrections = corrections(sr.Stage, sr.Z > 0 && f.Kind == "cumulative")
	return f, true
}

// corrections are what an operator can do about a departure of stage,
// above the norm or below it.
func corrections(st Stage, above bool) []string {
	switch {
	case above && (st == Redemptions || st == Revenue):
		return []string{"raise_budget", "pause"}
	case above:
		return []string{}
	case st == Delivered:
		return []string{"resend", "extend", "pause"}
	case st == Engaged:
		return []string{"pause", "extend"}
	}
	return []string{"extend", "pause"}
}

func evalStores(n Norm, a Actuals, hours int) []StoreResult {
	out := []StoreResult{}
	if len(n.StoreShares) == 0 {
		return out
	}
	ids := make([]string, 0, len(n.StoreShares))
	for id := range n.StoreShares {
		ids = append(ids, id)
	}
	for id := range a.Stores {
		if _, ok := n.StoreShares[id]; !ok {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	stores := 0
	for _, p := range n.StoreShares {
		if p > 0 {
			stores++
		}
	}
	warn, control := FamilySigma(WarnSigma, stores), FamilySigma(ControlSigma, stores)
	totals := make([]float64, hours)
	for _, hs := range a.Stores {
		for i := 0; i < hours && i < len(hs); i++ {
			totals[i] += float64(hs[i])
		}
	}
	var total float64
	for _, t := range totals {
		total += t
	}
	for _, id := range ids {
		p := n.StoreShares[id]
		hs := a.Stores[id]
		r := StoreResult{StoreID: id, BaselineShare: p}
		var cusum, seen, expected float64
		for i := range hours {
			var x float64
			if i < len(hs) {
				x = float64(hs[i])
			}
			r.Redemptions += int64(x)
			// Log-likelihood-ratio CUSUM of "this store now redeems at a
			// third of its pace so far" against "at its pace": each hour
			// adds (2/3)e - x ln 3 for an expected e.
			ratio := 1.0
			if expected >= 4*MinExpected {
				ratio = min(max(seen/expected, 0.67), 1.5)
			}
			e := totals[i] * p * ratio
			cusum = max(0, cusum+2*e/3-x*math.Log(3))
			seen += x
			expected += totals[i] * p
		}
		r.Cusum = cusum
		r.Expected = total * p
		if p > 0 && r.Expected >= MinStoreExpected {
			r.Judged = true
			r.Ratio = float64(r.Redemptions) / r.Expected
			sigma := math.Sqrt(total*p*(1-p) + StoreSpread*StoreSpread*r.Expected*r.Expected)
			r.Z = (float64(r.Redemptions) - r.Expected) / sigma
			r.Level = levelOf(r.Z, warn, control)
			switch {
			case cusum >= StoreLLRRed:
				r.Drift = Red
			case cusum >= StoreLLRAmber:
				r.Drift = Amber
			}
		}
		r.Worst = max(r.Level, r.Drift)
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b StoreResult) int {
		return cmp.Or(cmp.Compare(b.Worst, a.Worst), strings.Compare(a.StoreID, b.StoreID))
	})
	return out
}
