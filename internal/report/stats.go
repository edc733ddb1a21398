package report

import "math"

// This file holds the statistics of the uplift, pure functions over group
// aggregates so they can be checked against hand-computed values.

// z975 is the 97.5th percentile of the standard normal distribution: a
// two-sided 95% interval is ±z975 standard errors.
const z975 = 1.959963984540054

// notEnoughData is the note of an estimate whose interval cannot be computed.
const notEnoughData = "not enough data"

// Interval is a 95% confidence interval.
type Interval struct {
	Low  float64 `json:"low"`
	High float64 `json:"high"`
}

// Estimate is the difference treated - control of one measure, with its 95%
// confidence interval (nil and Note "not enough data" when it cannot be
// computed) and the relative uplift (treated - control) / control (nil when
// the control figure is 0).
type Estimate struct {
	Difference float64   `json:"difference"`
	CI         *Interval `json:"ci"`
	Relative   *float64  `json:"relative"`
	Note       string    `json:"note,omitempty"`
}

// groupStats is what the statistics need of one group: its members, how
// many bought, and the sum and sum of squares of per-member spend (members
// without a basket count as 0).
type groupStats struct {
	Members int64
	Buyers  int64
	Spend   int64   // minor units
	SpendSq float64 // sum over members of spend², in minor units²
}

func (g groupStats) conversion() float64 {
	if g.Members == 0 {
		return 0
	}
	return float64(g.Buyers) / float64(g.Members)
}

func (g groupStats) mean() float64 {
	if g.Members == 0 {
		return 0
	}
	return float64(g.Spend) / float64(g.Members)
}

// variance is the sample variance (n-1) of per-member spend; 0 below two
// members.
func (g groupStats) variance() float64 {
	n := float64(g.Members)
	if g.Members < 2 {
		return 0
	}
	v := (g.SpendSq - float64(g.Spend)*float64(g.Spend)/n) / (n - 1)
	return math.Max(v, 0) // rounding can make a zero variance slightly negative
}

func relative(t, c float64) *float64 {
	if c == 0 {
		return nil
	}
	r := (t - c) / c
	return &r
}

// diffProportions is the difference of two proportions pt - pc with the
// Wald (unpooled normal approximation) 95% interval
// d ± z·sqrt(pt(1-pt)/nt + pc(1-pc)/nc). Either group empty: no interval.
func diffProportions(t, c groupStats) Estimate {
	pt, pc := t.conversion(), c.conversion()
	e := Estimate{Difference: pt - pc, Relative: relative(pt, pc)}
	if t.Members == 0 || c.Members == 0 {
		e.Note = notEnoughData
		return e
	}
	se := math.Sqrt(pt*(1-pt)/float64(t.Members) + pc*(1-pc)/float64(c.Members))
	e.CI = &Interval{Low: e.Difference - z975*se, High: e.Difference + z975*se}
	return e
}

// ConversionUplift is the difference of conversion rates, treated less
// control, with its 95% interval: the campaigns' uplift statistic, which
// journeys report against their holdout too.
func ConversionUplift(treated, treatedConverted, control, controlConverted int64) Estimate {
	return diffProportions(groupStats{Members: treated, Buyers: treatedConverted}, groupStats{Members: control, Buyers: controlConverted})
}

// diffMeans is the difference of the mean spend per member with Welch's 95%
// interval: d ± t(0.975, ν)·sqrt(st²/nt + sc²/nc), ν by Welch–Satterthwaite.
// A group of fewer than two members has no variance: no interval. When both
// variances are 0 the interval is the point itself.
func diffMeans(t, c groupStats) Estimate {
	mt, mc := t.mean(), c.mean()
	e := Estimate{Difference: mt - mc, Relative: relative(mt, mc)}
	if t.Members < 2 || c.Members < 2 {
		e.Note = notEnoughData
		return e
	}
	at, ac := t.variance()/float64(t.Members), c.variance()/float64(c.Members)
	se := math.Sqrt(at + ac)
	if se == 0 {
		e.CI = &Interval{Low: e.Difference, High: e.Difference}
		return e
	}
	df := (at + ac) * (at + ac) / (at*at/float64(t.Members-1) + ac*ac/float64(c.Members-1))
	q := studentQuantile975(df)
	e.CI = &Interval{Low: e.Difference - q*se, High: e.Difference + q*se}
	return e
}

// studentQuantile975 is the 97.5th percentile of Student's t distribution
// with df degrees of freedom (df may be fractional), found by bisection on
// the distribution function; the normal quantile beyond 1e7 degrees.
func studentQuantile975(df float64) float64 {
	if df > 1e7 || math.IsInf(df, 1) {
		return z975
	}
	lo, hi := z975, 700.0 // t(0.975, 1) = 12.7; df < 1 needs more room
	for range 200 {
		mid := (lo + hi) / 2
		if studentCDF(mid, df) < 0.975 {
			lo = mid
		} else {
			hi = mid
		}
		if hi-lo < 1e-12 {
			break
		}
	}
	return (lo + hi) / 2
}

// studentCDF is P(T <= x) for x >= 0: 1 - I(df/(df+x²); df/2, 1/2)/2.
func studentCDF(x, df float64) float64 {
	return 1 - 0.5*regIncBeta(df/2, 0.5, df/(df+x*x))
}

// regIncBeta is the regularised incomplete beta function I_x(a, b), by its
// continued fraction (Lentz's method), as in Numerical Recipes §6.4.
func regIncBeta(a, b, x float64) float64 {
	if x <= 0 {
		return 0
	}
	if x >= 1 {
		return 1
	}
	la, _ := math.Lgamma(a)
	lb, _ := math.Lgamma(b)
	lab, _ := math.Lgamma(a + b)
	front := math.Exp(lab - la - lb + a*math.Log(x) + b*math.Log(1-x))
	if x < (a+1)/(a+b+2) {
		return front * betaCF(a, b, x) / a
	}
	return 1 - front*betaCF(b, a, 1-x)/b
}

func betaCF(a, b, x float64) float64 {
	const tiny = 1e-300
	c, d := 1.0, 1-(a+b)*x/(a+1)
	if math.Abs(d) < tiny {
		d = tiny
	}
	d = 1 / d
	h := d
	for m := 1; m <= 300; m++ {
		fm := float64(m)
		num := fm * (b - fm) * x / ((a + 2*fm - 1) * (a + 2*fm))
		d = 1 + num*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + num/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		h *= d * c
		num = -(a + fm) * (a + b + fm) * x / ((a + 2*fm) * (a + 2*fm + 1))
		d = 1 + num*d
		if math.Abs(d) < tiny {
			d = tiny
		}
		c = 1 + num/c
		if math.Abs(c) < tiny {
			c = tiny
		}
		d = 1 / d
		delta := d * c
		h *= delta
		if math.Abs(delta-1) < 1e-15 {
			break
		}
	}
	return h
}
