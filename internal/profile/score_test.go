package profile_test

import (
	"testing"

	"github.com/perk-platform/perk/internal/profile"
)

// TestSegmentOf_IsTheDocumentedGrid is the grid of docs/profiles.md.
func TestSegmentOf_IsTheDocumentedGrid(t *testing.T) {
	tests := []struct {
		r, f, m int
		want    profile.Segment
	}{
		{5, 5, 5, profile.Champions},
		{5, 4, 3, profile.Champions}, // FM = (4+3+1)/2 = 4
		{4, 5, 5, profile.Loyal},
		{3, 4, 4, profile.Loyal},
		{5, 3, 2, profile.PotentialLoyalist}, // FM 3
		{4, 2, 2, profile.PotentialLoyalist},
		{5, 1, 1, profile.New},
		{4, 1, 1, profile.Promising},
		{3, 3, 3, profile.NeedAttention},
		{3, 1, 2, profile.AboutToSleep}, // FM 2
		{3, 2, 2, profile.AboutToSleep},
		{2, 3, 4, profile.AtRisk}, // FM 4
		{1, 3, 3, profile.AtRisk},
		{1, 5, 5, profile.CantLose},
		{2, 5, 4, profile.CantLose}, // FM 5
		{2, 2, 1, profile.Hibernating},
		{1, 1, 1, profile.Hibernating},
		{0, 0, 0, ""}, // never bought
		{6, 1, 1, ""},
	}
	for _, tt := range tests {
		if got := profile.SegmentOf(tt.r, tt.f, tt.m); got != tt.want {
			t.Errorf("SegmentOf(%d, %d, %d) = %q, want %q", tt.r, tt.f, tt.m, got, tt.want)
		}
	}
	// Every cell of the grid holds one of the ten, and each of the ten is
	// somewhere on it.
	seen := map[profile.Segment]bool{}
	for r := 1; r <= 5; r++ {
		for f := 1; f <= 5; f++ {
			s := profile.SegmentOf(r, f, f)
			if !s.Valid() {
				t.Errorf("cell R%d FM%d holds %q", r, f, s)
			}
			seen[s] = true
		}
	}
	if len(seen) != len(profile.Segments) {
		t.Errorf("the grid uses %d segments, want all %d", len(seen), len(profile.Segments))
	}
}

// TestCuts_QuintilesAtTies: a value scores 1 + floor(5 × L / n), L the
// values strictly below it, so ties share the lower score.
func TestCuts_QuintilesAtTies(t *testing.T) {
	tests := []struct {
		name   string
		sorted []int64
		want   map[int64]int
	}{
		{"ten distinct", []int64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10},
			map[int64]int{1: 1, 2: 1, 3: 2, 4: 2, 5: 3, 6: 3, 7: 4, 8: 4, 9: 5, 10: 5}},
		{"half tied at zero all score 1", []int64{0, 0, 0, 0, 0, 1, 2, 3, 4, 5},
			map[int64]int{0: 1, 1: 3, 2: 4, 3: 4, 4: 5, 5: 5}},
		{"a tie across a boundary takes the lower score", []int64{1, 2, 3, 3, 3, 3, 7, 8, 9, 10},
			map[int64]int{1: 1, 2: 1, 3: 2, 7: 4, 8: 4, 9: 5, 10: 5}},
		{"everyone tied", []int64{4, 4, 4, 4}, map[int64]int{4: 1}},
		{"one member", []int64{9}, map[int64]int{9: 1}},
		{"three members", []int64{1, 2, 3}, map[int64]int{1: 1, 2: 2, 3: 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := profile.CutsOf(tt.sorted)
			for v, want := range tt.want {
				below := 0
				for _, x := range tt.sorted {
					if x < v {
						below++
					}
				}
				if def := 1 + 5*below/len(tt.sorted); def != want {
					t.Fatalf("the table is wrong: %d has L=%d, scores %d by definition, table says %d", v, below, def, want)
				}
				if got := c.Score(v); got != want {
					t.Errorf("Score(%d) with cuts %v = %d, want %d", v, c, got, want)
				}
			}
		})
	}
}
