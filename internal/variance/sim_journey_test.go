package variance

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The simulated journey: abandoned carts enter all day (about 40 an hour
// in shop hours, 6 at night); a two-hour wait, then the reminder SMS (the
// step "remind"; quiet hours push some of it a few hours), delivered
// within the hour for 92%; 12% of entrants buy within two days, most in the
// first hours. Each journey draws its own rates (sd 10%; 2% for delivery).
var simJourneyStages = []Stage{Entered, MessagesSent, MessagesDelivered, Conversions, StepStage("remind")}

type journeyFault int

const (
	journeyNormal      journeyFault = iota
	journeySMSStops                 // the SMS step stops sending at hour 30 (a broken template)
	journeyEntriesStop              // the trigger stops entering anyone at hour 20
	journeySMSStopsAt  = 30
	journeyEntriesAt   = 20
)

// simEntrantRates is what one entrant does d hours after its entry hour,
// per stage, scaled by the journey's factors.
func simEntrantRates(d int, fs, fd, fc float64) map[Stage]float64 {
	r := map[Stage]float64{}
	send := 0.0
	switch {
	case d == 2:
		send = 0.80
	case d > 2 && d <= 8:
		send = 0.15 / 6
	}
	r[MessagesSent] = send * fs
	r[StepStage("remind")] = send * fs
	r[MessagesDelivered] = send * fs * 0.92 * fd
	r[Conversions] = 0.12 * fc * math.Exp(-float64(d)/10) * (1 - math.Exp(-1.0/10)) / (1 - math.Exp(-float64(JourneyWindow)/10))
	return r
}

func simEntries(r *rand.Rand, i int) int64 {
	hod := (9 + i) % 24
	if hod >= 8 && hod < 21 {
		return poisson(r, 40)
	}
	return poisson(r, 6)
}

// simJourney generates one journey's window of actuals.
func simJourney(r *rand.Rand, fault journeyFault) Actuals {
	factor := func(sd float64) float64 { return math.Exp(sd*r.NormFloat64() - sd*sd/2) }
	fs, fd, fc := factor(0.02), factor(0.02), factor(0.10)
	a := Actuals{Hourly: map[Stage][]int64{}}
	for _, st := range simJourneyStages {
		a.Hourly[st] = make([]int64, JourneyWindow)
	}
	for j := range JourneyWindow {
		n := simEntries(r, j)
		if fault == journeyEntriesStop && j >= journeyEntriesAt {
			n = 0
		}
		a.Hourly[Entered][j] = n
	}
	for i := range JourneyWindow {
		mean := map[Stage]float64{}
		for j := 0; j <= i; j++ {
			for st, p := range simEntrantRates(i-j, fs, fd, fc) {
				mean[st] += float64(a.Hourly[Entered][j]) * p
			}
		}
		sent := poisson(r, mean[MessagesSent])
		delivered := binomial(r, sent, min(mean[MessagesDelivered]/max(mean[MessagesSent], 1e-9), 1))
		if fault == journeySMSStops && i >= journeySMSStopsAt {
			sent, delivered = 0, 0
		}
		a.Hourly[MessagesSent][i], a.Hourly[StepStage("remind")][i] = sent, sent
		a.Hourly[MessagesDelivered][i] = delivered
		a.Hourly[Conversions][i] = poisson(r, mean[Conversions])
	}
	return a
}

// simJourneyNorm learns the per-entrant curves from eight past weekly
// cohorts of normal entrants, and takes the operator's target of entries
// (the daily pattern's 3-day total, linear).
func simJourneyNorm(r *rand.Rand) JourneyNorm {
	var cs []Cohort
	for k := range 8 {
		factor := func(sd float64) float64 { return math.Exp(sd*r.NormFloat64() - sd*sd/2) }
		fs, fd, fc := factor(0.02), factor(0.02), factor(0.10)
		c := Cohort{ID: fmt.Sprint("week-", k), Entrants: 3000, Lagged: map[Stage][]int64{}}
		for d := range JourneyWindow {
			// In a fixed order: the draws must not follow a map's.
			rates := simEntrantRates(d, fs, fd, fc)
			for _, st := range simJourneyStages[1:] {
				c.Lagged[st] = append(c.Lagged[st], poisson(r, c.Entrants*rates[st]))
			}
		}
		cs = append(cs, c)
	}
	// The operator's target follows the day: a point per hour.
	var points []TargetPoint
	var cum float64
	for i := range JourneyWindow {
		if hod := (9 + i) % 24; hod >= 8 && hod < 21 {
			cum += 40
		} else {
			cum += 6
		}
		points = append(points, TargetPoint{Hour: i, Cumulative: cum})
	}
	return JourneyNorm{Source: SourceHistory, Lag: LearnLag(cs, simJourneyStages[1:], JourneyWindow),
		Entries: TargetCurve(points, 1, JourneyWindow)}
}

func journeyFirstFlag(n JourneyNorm, a Actuals, st Stage, level Level) int {
	for h := 1; h <= JourneyWindow; h++ {
		for _, f := range EvaluateJourney(n, a, h, simJourneyStages).Findings {
			if f.Stage == st && f.Level >= level {
				return h
			}
		}
	}
	return 0
}

// TestSimulation_JourneyFaultsFlagged: a journey whose SMS step stops
// sending is flagged red on its messages within 2 hours in at least 95% of
// 100 journeys, one whose trigger stops entering anyone is flagged red on
// its entries (against the operator's target) within 6 hours, and normal
// journeys (200) show red in at most 5% and any finding in at most 10%.
func TestSimulation_JourneyFaultsFlagged(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 13))
	norm := simJourneyNorm(r)
	const runs = 100
	for _, tc := range []struct {
		name   string
		fault  journeyFault
		stage  Stage
		onset  int
		within int
	}{
		{"SMS stops at hour 30", journeySMSStops, MessagesSent, journeySMSStopsAt, 2},
		{"entries stop at hour 20", journeyEntriesStop, Entered, journeyEntriesAt, 6},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, sum := 0, 0
			for range runs {
				at := journeyFirstFlag(norm, simJourney(r, tc.fault), tc.stage, Red)
				delay := at - (tc.onset + 1)
				if at > 0 && delay >= 0 && delay <= tc.within {
					in++
				}
				if at == 0 {
					delay = JourneyWindow
				}
				sum += delay
			}
			t.Logf("%s: red within %d h in %d of %d journeys, mean delay %.1f h", tc.name, tc.within, in, runs, float64(sum)/runs)
			if in < runs*95/100 {
				t.Errorf("flagged in time in %d of %d journeys, want at least 95%%", in, runs)
			}
		})
	}
	t.Run("normal journeys", func(t *testing.T) {
		const runs = 200
		red, any := 0, 0
		byKey := map[string]int{}
		for range runs {
			// Each journey has its own past: a norm shared by all 200
			// would make its one estimation error every journey's.
			norm := simJourneyNorm(r)
			a := simJourney(r, journeyNormal)
			sawRed, saw := false, false
			for h := 1; h <= JourneyWindow; h++ {
				for _, f := range EvaluateJourney(norm, a, h, simJourneyStages).Findings {
					saw = true
					byKey[string(f.Stage)+" "+f.Kind+" "+f.Level.String()]++
					if f.Level == Red {
						sawRed = true
					}
				}
			}
			if sawRed {
				red++
			}
			if saw {
				any++
			}
		}
		t.Logf("normal journeys: %d of %d ever red, %d ever amber or red; findings by stage: %v", red, runs, any, byKey)
		if red > runs*5/100 || any > runs*10/100 {
			t.Errorf("false alarms: %d red, %d any of %d, want at most 5%% and 10%%", red, any, runs)
		}
	})
}
