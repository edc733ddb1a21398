package nbo

import (
	"math"
	"testing"

	"github.com/perk-platform/perk/internal/checkout/engine"
)

func TestFitBeta_ShrinksByHowMuchSegmentsReallyDiffer(t *testing.T) {
	for _, tc := range []struct {
		name         string
		cells        []Count
		global       float64
		mean         float64
		strengthLow  float64
		strengthHigh float64
	}{
		{"no history: the global rate at the default strength", nil, 0.1, 0.1, GlobalStrength, GlobalStrength},
		{"one segment: its rate pulled toward global, default strength",
			[]Count{{Given: 80, Redeemed: 40}}, 0.1, (40 + 20*0.1) / 100, GlobalStrength, GlobalStrength},
		{"segments that differ only by sampling: the strongest prior",
			[]Count{{Given: 1000, Redeemed: 200}, {Given: 1000, Redeemed: 201}, {Given: 1000, Redeemed: 199}}, 0.2, 0.2, MaxStrength, MaxStrength},
		{"segments far apart: a weak prior, so each keeps its own rate",
			[]Count{{Given: 1000, Redeemed: 50}, {Given: 1000, Redeemed: 500}, {Given: 1000, Redeemed: 900}}, 0.5, (1450 + 20*0.5) / 3020, MinStrength, 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := FitBeta(tc.cells, tc.global)
			if math.Abs(b.Mean-tc.mean) > 1e-9 {
				t.Errorf("mean %.6f, want %.6f", b.Mean, tc.mean)
			}
			if b.Strength < tc.strengthLow || b.Strength > tc.strengthHigh {
				t.Errorf("strength %.2f, want %.0f..%.0f", b.Strength, tc.strengthLow, tc.strengthHigh)
			}
		})
	}
}

func TestScore_ReasonsAddUpToTheScore(t *testing.T) {
	md := &Model{
		Global:   0.1,
		Priors:   map[string]Beta{"bakery": {Mean: 0.2, Strength: 10}},
		Segments: map[string]map[string]Count{"regular": {"bakery": {Given: 40, Redeemed: 12}}},
		AvgShare: map[string]float64{"bakery": 0.1, "drinks": 0.3},
		Rules:    map[string][]Rule{"bakery": {{Level: LevelCategory, Antecedent: "drinks", Consequent: "bakery", Lift: 2.5}}},
		Spend:    map[string]float64{"bakery": 400},
		Margin:   map[string]MarginRate{"bakery": {Rate: 0.5, Source: "catalogue (3 products)"}},
	}
	offer := Candidate{Source: SourcePool, Name: "Pastry treat", Offer: Offer{Name: "Pastry treat",
		Benefit: engine.Benefit{Kind: engine.AmountOff, Amount: 50, Scope: engine.Scope{Categories: []string{"bakery"}}}, Cost: 50}}
	segRate := (12 + 10*0.2) / (40 + 10.0)
	for _, tc := range []struct {
		name     string
		f        Features
		tilt     float64
		rule     bool
		own      Count
		wantProb float64
	}{
		{"a bakery lover: affinity raises the prior", Features{Segment: "regular", Share: map[string]float64{"bakery": 0.4}, Bought: map[string]bool{"bakery": true}},
			(0.4 + 0.02) / (0.1 + 0.02), false, Count{}, 0},
		{"buys drinks, never bakery: the rule drinks -> bakery lifts it", Features{Segment: "regular", Share: map[string]float64{"drinks": 1}, Bought: map[string]bool{"drinks": true}},
			0.02 / 0.12 * 2.5, true, Count{}, 0},
		{"own history: redeemed both bakery amount-off offers", Features{Segment: "regular", Share: map[string]float64{"bakery": 0.1}, Bought: map[string]bool{"bakery": true},
			History: []Exposure{{Group: "bakery", Kind: engine.AmountOff, Redeemed: true}, {Group: "bakery", Kind: engine.AmountOff, Redeemed: true}, {Group: "dairy", Kind: engine.PercentOff}}},
			1, false, Count{Given: 2, Redeemed: 2}, 0},
		{"own history: same kind elsewhere counts half", Features{Segment: "regular", Share: map[string]float64{"bakery": 0.1}, Bought: map[string]bool{"bakery": true},
			History: []Exposure{{Group: "dairy", Kind: engine.AmountOff}}},
			1, false, Count{Given: 0.5}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := md.Score(&tc.f, offer, "bakery")
			rs := r.Reasons
			if math.Abs(rs.SegmentRate-segRate) > 1e-9 {
				t.Errorf("segment rate %.4f, want %.4f", rs.SegmentRate, segRate)
			}
			tilt := min(max(tc.tilt, MinTilt), MaxTilt)
			if math.Abs(rs.Tilt-tilt) > 1e-9 {
				t.Errorf("tilt %.4f, want %.4f", rs.Tilt, tilt)
			}
			if (rs.Rule != nil) != tc.rule {
				t.Errorf("rule %+v, want one: %v", rs.Rule, tc.rule)
			}
			if rs.OwnGiven != tc.own.Given || rs.OwnRedeemed != tc.own.Redeemed {
				t.Errorf("own history %v/%v, want %v/%v", rs.OwnRedeemed, rs.OwnGiven, tc.own.Redeemed, tc.own.Given)
			}
			m := min(max(segRate*tilt, 0.001), 0.95)
			p := (tc.own.Redeemed + MemberStrength*m) / (tc.own.Given + MemberStrength)
			if math.Abs(rs.Probability-p) > 1e-9 {
				t.Errorf("probability %.4f, want %.4f", rs.Probability, p)
			}
			if rs.Margin != 200 || rs.Cost != 50 || rs.TypicalSpend != 400 || rs.MarginSource != "catalogue (3 products)" {
				t.Errorf("margin %d cost %d spend %d (%s), want 200, 50, 400 from the catalogue", rs.Margin, rs.Cost, rs.TypicalSpend, rs.MarginSource)
			}
			if math.Abs(r.Score-p*150) > 1e-9 {
				t.Errorf("score %.4f, want probability x (margin - cost) = %.4f", r.Score, p*150)
			}
		})
	}
	t.Run("no catalogue cost prices: the default margin rate", func(t *testing.T) {
		r := md.Score(&Features{Segment: "new"}, Candidate{Offer: Offer{Benefit: engine.Benefit{Kind: engine.PercentOff, Percent: 10, Scope: engine.Scope{Categories: []string{"dairy"}}}}}, "dairy")
		if r.Reasons.MarginRate != DefaultMarginRate || r.Reasons.MarginSource != "default" {
			t.Errorf("margin %.2f from %q, want the default %.2f", r.Reasons.MarginRate, r.Reasons.MarginSource, DefaultMarginRate)
		}
		if r.Reasons.Prior.Mean != md.Global {
			t.Errorf("a group without history has prior %.3f, want the global rate %.3f", r.Reasons.Prior.Mean, md.Global)
		}
	})
}

func TestRank_OrdersByExpectedValueThenProbability(t *testing.T) {
	md := &Model{Global: 0.1, Spend: map[string]float64{"a": 1000, "b": 1000}}
	f := &Features{Segment: "x"}
	cands := []Candidate{
		{Name: "costly", Offer: Offer{Cost: 290}},
		{Name: "cheap", Offer: Offer{Cost: 10}},
		{Name: "middle", Offer: Offer{Cost: 100}},
	}
	got := md.Rank(f, cands, []string{"a", "a", "b"}, 2)
	if len(got) != 2 || got[0].Name != "cheap" || got[1].Name != "middle" {
		t.Fatalf("ranked %v, want cheap then middle (the same chance, less cost)", []string{got[0].Name, got[1].Name})
	}
}

// The top k of a request are picked without sorting every candidate; they
// must be exactly the first k of the full ranking, reasons and all, ties
// (equal scores, broken by probability then name) included.
func TestRank_TopKIsTheFullRankingsFirstK(t *testing.T) {
	md := &Model{Global: 0.1,
		Spend:    map[string]float64{"a": 1000, "b": 2000, "c": 500},
		AvgShare: map[string]float64{"a": 0.3, "b": 0.1, "c": 0.2},
		Segments: map[string]map[string]Count{"x": {"a": {Given: 50, Redeemed: 20}, "b": {Given: 40, Redeemed: 2}}},
		Priors:   map[string]Beta{"a": {Mean: 0.2, Strength: 10}},
		Rules:    map[string][]Rule{"c": {{Antecedent: "a", Consequent: "c", Lift: 2}}},
	}
	f := &Features{Segment: "x", Share: map[string]float64{"a": 0.6, "b": 0.1}, Bought: map[string]bool{"a": true, "b": true},
		History: []Exposure{{Group: "b", Kind: engine.AmountOff, Redeemed: true}}}
	var cands []Candidate
	var groups []string
	for i := range 60 {
		kind := engine.AmountOff
		if i%3 == 0 {
			kind = engine.PercentOff
		}
		// Costs repeat every 7, groups every 3: many candidates tie on
		// score and probability and are ordered by name alone.
		cands = append(cands, Candidate{Name: string(rune('z'-i%26)) + string(rune('a'+i/26)),
			Offer: Offer{Cost: int64(10 * (i % 7)), Benefit: engine.Benefit{Kind: kind}}})
		groups = append(groups, []string{"a", "b", "c"}[i%3])
	}
	full := md.Rank(f, cands, groups, 0)
	if len(full) != len(cands) {
		t.Fatalf("full ranking has %d, want %d", len(full), len(cands))
	}
	for _, k := range []int{1, 2, 5, 17, 59, 60, 61} {
		got := md.Rank(f, cands, groups, k)
		want := full[:min(k, len(full))]
		if len(got) != len(want) {
			t.Fatalf("k=%d: %d ranked, want %d", k, len(got), len(want))
		}
		for i := range want {
			if got[i].Name != want[i].Name || got[i].Score != want[i].Score || got[i].Reasons != want[i].Reasons {
				t.Fatalf("k=%d: #%d is %s (%.4f), want %s (%.4f)", k, i+1, got[i].Name, got[i].Score, want[i].Name, want[i].Score)
			}
		}
	}
}
