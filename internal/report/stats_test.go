package report

import (
	"math"
	"testing"
)

// spend builds a group from per-member spends (0 = member without a basket).
func spend(vals ...int64) groupStats {
	g := groupStats{Members: int64(len(vals))}
	for _, v := range vals {
		if v > 0 {
			g.Buyers++
		}
		g.Spend += v
		g.SpendSq += float64(v) * float64(v)
	}
	return g
}

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func ptr(f float64) *float64 { return &f }

func TestStudentQuantile975_MatchesTables(t *testing.T) {
	tests := []struct {
		df   float64
		want float64 // from published t tables
	}{
		{1, 12.706204736},
		{2, 4.302652730},
		{4, 2.776445105},
		{10, 2.228138852},
		{30, 2.042272456},
		{1000, 1.962339081},
		{1e9, z975},
	}
	for _, tt := range tests {
		if got := studentQuantile975(tt.df); !near(got, tt.want, 1e-6) {
			t.Errorf("t(0.975, %g) = %.9f, want %.9f", tt.df, got, tt.want)
		}
	}
}

func TestDiffProportions_WaldInterval(t *testing.T) {
	tests := []struct {
		name     string
		treated  groupStats
		control  groupStats
		diff     float64
		ci       *Interval
		relative *float64
	}{
		{
			// pt = 0.3, pc = 0.2; se = sqrt(.3·.7/100 + .2·.8/50) = sqrt(.0053)
			name:    "30 of 100 against 10 of 50",
			treated: groupStats{Members: 100, Buyers: 30}, control: groupStats{Members: 50, Buyers: 10},
			diff: 0.1, ci: &Interval{-0.04268753186483695, 0.24268753186483696}, relative: ptr(0.5),
		},
		{
			name:    "nobody bought: a zero-width interval, no relative uplift",
			treated: groupStats{Members: 10}, control: groupStats{Members: 10},
			diff: 0, ci: &Interval{0, 0}, relative: nil,
		},
		{
			name:    "empty control group: not enough data",
			treated: groupStats{Members: 10, Buyers: 5}, control: groupStats{},
			diff: 0.5, ci: nil, relative: nil,
		},
		{
			name:    "empty treated group: not enough data",
			treated: groupStats{}, control: groupStats{Members: 4, Buyers: 1},
			diff: -0.25, ci: nil, relative: ptr(-1),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := diffProportions(tt.treated, tt.control)
			checkEstimate(t, e, tt.diff, tt.ci, tt.relative)
		})
	}
}

func TestDiffMeans_WelchInterval(t *testing.T) {
	tests := []struct {
		name     string
		treated  groupStats
		control  groupStats
		diff     float64
		ci       *Interval
		relative *float64
	}{
		{
			// means 2 and 3, both variances 4, n = 3: se = sqrt(8/3), ν = 4,
			// t(0.975, 4) = 2.776445105.
			name:    "equal variances, three members each",
			treated: spend(0, 2, 4), control: spend(1, 3, 5),
			diff: -1, ci: &Interval{-5.533915871055046, 3.5339158710550462}, relative: ptr(-1.0 / 3),
		},
		{
			name:    "no spread: the interval is the point",
			treated: spend(5, 5), control: spend(2, 2),
			diff: 3, ci: &Interval{3, 3}, relative: ptr(1.5),
		},
		{
			name:    "one control member has no variance: not enough data",
			treated: spend(1, 2, 3), control: spend(4),
			diff: -2, ci: nil, relative: ptr(-0.5),
		},
		{
			name:    "empty control group",
			treated: spend(1, 2, 3), control: spend(),
			diff: 2, ci: nil, relative: nil,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := diffMeans(tt.treated, tt.control)
			checkEstimate(t, e, tt.diff, tt.ci, tt.relative)
		})
	}
}

func TestDiffMeans_LargeGroupsApproachNormal(t *testing.T) {
	// Large groups: ν is huge and Welch's interval is the normal one.
	tr := groupStats{Members: 1_000_000, Buyers: 1, Spend: 2_000_000, SpendSq: 1_000_000 * (4 + 1)} // mean 2, var ≈ 1
	co := groupStats{Members: 1_000_000, Buyers: 1, Spend: 1_000_000, SpendSq: 1_000_000 * (1 + 1)} // mean 1, var ≈ 1
	e := diffMeans(tr, co)
	se := math.Sqrt(tr.variance()/1e6 + co.variance()/1e6)
	if e.CI == nil || !near(e.CI.High-e.Difference, z975*se, 1e-5*se) {
		t.Fatalf("estimate %+v, want half-width %.9f", e, z975*se)
	}
}

func checkEstimate(t *testing.T, e Estimate, diff float64, ci *Interval, rel *float64) {
	t.Helper()
	if !near(e.Difference, diff, 1e-12) {
		t.Errorf("difference = %v, want %v", e.Difference, diff)
	}
	switch {
	case ci == nil && e.CI != nil:
		t.Errorf("ci = %+v, want none", *e.CI)
	case ci == nil && e.Note != notEnoughData:
		t.Errorf("note = %q, want %q", e.Note, notEnoughData)
	case ci != nil && e.CI == nil:
		t.Errorf("ci = none (%s), want %+v", e.Note, *ci)
	case ci != nil && (!near(e.CI.Low, ci.Low, 1e-9) || !near(e.CI.High, ci.High, 1e-9)):
		t.Errorf("ci = %+v, want %+v", *e.CI, *ci)
	}
	switch {
	case rel == nil && e.Relative != nil:
		t.Errorf("relative = %v, want none", *e.Relative)
	case rel != nil && (e.Relative == nil || !near(*e.Relative, *rel, 1e-12)):
		t.Errorf("relative = %v, want %v", e.Relative, *rel)
	}
}
