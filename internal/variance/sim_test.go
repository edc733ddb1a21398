package variance

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// The simulated programme: what a normal campaign of it does, hour by hour,
// with the randomness real campaigns have (each campaign's own response
// rates, and chance in every count). docs/variance.md describes the model.
const (
	simHours    = 72
	simAudience = 10_000
	simStores   = 20
)

// simFault is a fault injected into a simulated campaign.
type simFault int

const (
	faultNone        simFault = iota
	faultDeliveries           // deliveries stop at hour 3
	faultStore                // store S003 stops redeeming at hour 24
	faultLink                 // the link breaks at hour 6: clicks stop, card views go on
	deliveriesStopAt = 3
	storeStopsAt     = 24
	linkBreaksAt     = 6
	faultyStore      = "S003"
)

func poisson(r *rand.Rand, lambda float64) int64 {
	if lambda <= 0 {
		return 0
	}
	if lambda > 50 {
		return max(int64(math.Round(lambda+math.Sqrt(lambda)*r.NormFloat64())), 0)
	}
	l, k, p := math.Exp(-lambda), int64(0), 1.0
	for {
		p *= r.Float64()
		if p <= l {
			return k
		}
		k++
	}
}

func binomial(r *rand.Rand, n int64, p float64) int64 {
	if n <= 0 || p <= 0 {
		return 0
	}
	if n > 100 {
		m, sd := float64(n)*p, math.Sqrt(float64(n)*p*(1-p))
		return min(max(int64(math.Round(m+sd*r.NormFloat64())), 0), n)
	}
	var k int64
	for range n {
		if r.Float64() < p {
			k++
		}
	}
	return k
}

// simShares are the stores' shares of baskets: a long tail, as in a real
// estate of stores.
func simShares() map[string]float64 {
	w := map[string]float64{}
	var sum float64
	for i := range simStores {
		v := 1 / math.Sqrt(float64(i+1))
		w[fmt.Sprintf("S%03d", i+1)] = v
		sum += v
	}
	for k := range w {
		w[k] /= sum
	}
	return w
}

// simulate generates one campaign's hourly actuals.
func simulate(r *rand.Rand, shares map[string]float64, fault simFault) Actuals {
	factor := func(sd float64) float64 { return math.Exp(sd*r.NormFloat64() - sd*sd/2) }
	fd, fc, fv, fr := 0.92*factor(0.03), 0.10*factor(0.12), 0.03*factor(0.12), 0.20*factor(0.12)
	a := Actuals{Hourly: map[Stage][]int64{}, Stores: map[string][]int64{}}
	for _, st := range Stages {
		a.Hourly[st] = make([]int64, simHours)
	}
	for id := range shares {
		a.Stores[id] = make([]int64, simHours)
	}
	// Sending is throttled: the announcements go out over about six hours.
	send := []float64{0.30, 0.28, 0.20, 0.12, 0.06, 0.04}
	deliverable := binomial(r, simAudience, fd)
	pending := deliverable
	clickMean, viewMean := make([]float64, simHours+1), make([]float64, simHours+1)
	for i := range simHours {
		if i < len(send) && pending > 0 {
			n := min(binomial(r, deliverable, send[i]), pending)
			if i == len(send)-1 {
				n = pending
			}
			if fault == faultDeliveries && i >= deliveriesStopAt {
				n = 0
			}
			pending -= n
			a.Hourly[Delivered][i] = n
			// Reactions follow a delivery with a delay of a few hours.
			for j := i; j < simHours; j++ {
				d := float64(j - i)
				w := math.Exp(-d/4) * (1 - math.Exp(-1.0/4))
				clickMean[j] += float64(n) * fc * w
				viewMean[j] += float64(n) * fv * w
			}
		}
		clicks := poisson(r, clickMean[i])
		if fault == faultLink && i >= linkBreaksAt {
			clicks = 0
		}
		a.Hourly[Engaged][i] = clicks + poisson(r, viewMean[i])
		// Shops are open from 8:00 to 21:00; the campaign launches at 9:00,
		// and its pull on visits decays over its three days.
		hod := (9 + i) % 24
		open := 0.0
		if hod >= 8 && hod < 21 {
			open = 1
		}
		visits := poisson(r, simAudience*fr*open*math.Exp(-float64(i)/30)/13/1.9)
		a.Hourly[FirstVisits][i] = visits
		red := binomial(r, visits, 0.7)
		var revenue int64
		var got int64
		left := red
		rest := 1.0
		for _, id := range sortedStores(shares) {
			n := left
			if id != lastStore(shares) {
				n = binomial(r, left, min(shares[id]/rest, 1))
			}
			rest -= shares[id]
			left -= n
			if fault == faultStore && id == faultyStore && i >= storeStopsAt {
				n = 0
			}
			a.Stores[id][i] = n
			got += n
		}
		for range got {
			revenue += int64(3500 * math.Exp(0.7*r.NormFloat64()-0.245))
		}
		a.Hourly[Redemptions][i] = got
		a.Hourly[Revenue][i] = revenue
	}
	return a
}

func sortedStores(shares map[string]float64) []string {
	out := make([]string, 0, len(shares))
	for i := range len(shares) {
		out = append(out, fmt.Sprintf("S%03d", i+1))
	}
	return out
}

func lastStore(shares map[string]float64) string { return fmt.Sprintf("S%03d", len(shares)) }

// simNorm learns the programme's norm from 20 normal past campaigns.
func simNorm(r *rand.Rand, shares map[string]float64) Norm {
	var hs []History
	for k := range 20 {
		a := simulate(r, shares, faultNone)
		hs = append(hs, History{ID: fmt.Sprint("past-", k), Audience: simAudience, Hourly: a.Hourly})
	}
	return Norm{Source: SourceHistory, Curves: Learn(hs, simHours), StoreShares: shares}
}

// firstFlag is the first hour (1..simHours, counting complete hours) at
// which a finding on key reaches level, or 0.
func firstFlag(n Norm, a Actuals, key string, level Level) int {
	for h := 1; h <= simHours; h++ {
		for _, f := range Evaluate(n, simAudience, a, h).Findings {
			if f.Key() == key && f.Level >= level {
				return h
			}
		}
	}
	return 0
}

// TestSimulation_FaultsFlaggedInTime: each injected fault is flagged red
// on its stage (or store) within the stated time of its onset in at least
// 95% of 100 faulty campaigns, and normal campaigns raise a red alert
// rarely. The figures are logged; docs/variance.md states them.
func TestSimulation_FaultsFlaggedInTime(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 3))
	shares := simShares()
	norm := simNorm(r, shares)
	const runs = 100
	for _, tc := range []struct {
		name   string
		fault  simFault
		key    string
		onset  int // hour of the fault
		within int // complete hours after onset by which it must be red
	}{
		{"deliveries stop at hour 3", faultDeliveries, string(Delivered) + "/", deliveriesStopAt, 2},
		{"store S003 stops redeeming at hour 24", faultStore, string(Redemptions) + "/" + faultyStore, storeStopsAt, 24},
		{"link broken at hour 6", faultLink, string(Engaged) + "/", linkBreaksAt, 3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in, worst, sum, amberSum := 0, 0, 0, 0
			for range runs {
				a := simulate(r, shares, tc.fault)
				at := firstFlag(norm, a, tc.key, Red)
				// The warning comes first or with the red.
				amberAt := firstFlag(norm, a, tc.key, Amber)
				if amberAt == 0 {
					amberSum += simHours
				} else {
					amberSum += amberAt - (tc.onset + 1)
				}
				// Hour h is judged once h complete hours are in: the
				// fault's onset hour is complete at onset+1.
				delay := at - (tc.onset + 1)
				if at > 0 && delay <= tc.within {
					in++
				}
				if at == 0 {
					delay = simHours
				}
				worst, sum = max(worst, delay), sum+delay
			}
			t.Logf("%s: red within %d h in %d of %d campaigns; mean delay %.1f h, worst %d h; amber or worse after %.1f h on average",
				tc.name, tc.within, in, runs, float64(sum)/runs, worst, float64(amberSum)/runs)
			if in < runs*95/100 {
				t.Errorf("flagged in time in %d of %d campaigns, want at least 95%%", in, runs)
			}
		})
	}
}

// TestSimulation_FalseAlarms: of 200 normal campaigns, each judged at every
// hour of its three days, at most 5% ever show a red finding and at most
// 10% any finding (amber or red).
func TestSimulation_FalseAlarms(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 4))
	shares := simShares()
	norm := simNorm(r, shares)
	const runs = 200
	red, amber, redEvals, evals := 0, 0, 0, 0
	byKey, amberBy := map[string]int{}, map[string]int{}
	for range runs {
		a := simulate(r, shares, faultNone)
		anyRed, anyAmber := false, false
		for h := 1; h <= simHours; h++ {
			evals++
			hadRed := false
			for _, f := range Evaluate(norm, simAudience, a, h).Findings {
				if f.Level == Red {
					anyRed, hadRed = true, true
					byKey[f.Key()+" "+f.Kind]++
				}
				if f.Level == Amber {
					amberBy[f.Key()+" "+f.Kind]++
				}
				anyAmber = true
			}
			if hadRed {
				redEvals++
			}
		}
		if anyRed {
			red++
		}
		if anyAmber {
			amber++
		}
	}
	t.Logf("normal campaigns: %d of %d ever red (%.1f%%), %d ever amber (%.1f%%); %d of %d hourly evaluations red (%.2f%%); red by finding: %v; amber by finding: %v",
		red, runs, 100*float64(red)/runs, amber, 100*float64(amber)/runs, redEvals, evals, 100*float64(redEvals)/float64(evals), byKey, amberBy)
	if red > runs*5/100 {
		t.Errorf("%d of %d normal campaigns raised a red alert, want at most 5%%", red, runs)
	}
	// Amber is a "have a look": one normal campaign in two showing it at
	// some hour (as before the family-wise bands) taught operators to
	// ignore it.
	if amber > runs*10/100 {
		t.Errorf("%d of %d normal campaigns showed amber at some hour, want at most 10%%", amber, runs)
	}
}
