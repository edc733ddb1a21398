package profile

import (
	"fmt"
	"strings"
)

// Segment is one of the ten RFM segments, or "" for a member who has never
// bought (or was not yet scored).
type Segment string

// The ten segments, placed on the recency × frequency-monetary grid by
// SegmentOf (docs/profiles.md draws the grid).
const (
	Champions         Segment = "champions"
	Loyal             Segment = "loyal"
	PotentialLoyalist Segment = "potential_loyalist"
	New               Segment = "new"
	Promising         Segment = "promising"
	NeedAttention     Segment = "need_attention"
	AboutToSleep      Segment = "about_to_sleep"
	AtRisk            Segment = "at_risk"
	CantLose          Segment = "cant_lose"
	Hibernating       Segment = "hibernating"
)

// Segments lists the ten segments, best first.
var Segments = []Segment{Champions, Loyal, PotentialLoyalist, New, Promising, NeedAttention, AboutToSleep, AtRisk,
	CantLose, Hibernating}

// Valid reports whether s names one of the ten segments.
func (s Segment) Valid() bool {
	for _, v := range Segments {
		if s == v {
			return true
		}
	}
	return false
}

// grid is the standard R vs FM grid: grid[r-1][fm-1]. Recency on the rows
// (5 = bought most recently), the frequency-monetary score on the columns.
var grid = [5][5]Segment{
	/* R1 */ {Hibernating, Hibernating, AtRisk, AtRisk, CantLose},
	/* R2 */ {Hibernating, Hibernating, AtRisk, AtRisk, CantLose},
	/* R3 */ {AboutToSleep, AboutToSleep, NeedAttention, Loyal, Loyal},
	/* R4 */ {Promising, PotentialLoyalist, PotentialLoyalist, Loyal, Loyal},
	/* R5 */ {New, PotentialLoyalist, PotentialLoyalist, Champions, Champions},
}

// FM is the combined frequency-monetary score: the mean of F and M rounded
// half up, so (5, 4) is 5 and (1, 2) is 2.
func FM(f, m int) int { return (f + m + 1) / 2 }

// SegmentOf places scores (each 1-5) on the grid; any score out of range
// (0: never bought) gives "".
func SegmentOf(r, f, m int) Segment {
	if r < 1 || r > 5 || f < 1 || f > 5 || m < 1 || m > 5 {
		return ""
	}
	return grid[r-1][FM(f, m)-1]
}

// segmentSQL is SegmentOf as a SQL CASE over integer expressions r, f and m,
// generated from the grid so the database and Go place members alike.
func segmentSQL(r, f, m string) string {
	var b strings.Builder
	b.WriteString("CASE")
	for ri := range 5 {
		for fm := range 5 {
			fmt.Fprintf(&b, " WHEN %s = %d AND ((%s) + (%s) + 1) / 2 = %d THEN '%s'", r, ri+1, f, m, fm+1, grid[ri][fm])
		}
	}
	b.WriteString(" ELSE '' END")
	return b.String()
}

// Cuts are the four cut points of one dimension's quintiles: a value scores
// 1 plus the number of cut points it is above.
type Cuts [4]int64

// CutsOf returns the quintile cut points of values sorted ascending: cut k
// (1-4) is the value at 0-based position ceil(k × n / 5) − 1, so that a
// value scores 1 + floor(5 × L / n), L being the number of values strictly
// below it. Ties share one score, the lower one: half the programme tied
// at a frequency of 0 all score 1, never 3. With no values every cut is 0.
func CutsOf(sorted []int64) Cuts {
	var c Cuts
	if len(sorted) == 0 {
		return c
	}
	for k, p := range Positions(len(sorted)) {
		c[k] = sorted[p]
	}
	return c
}

// Positions are the 0-based positions of the cut points among n > 0 sorted
// values (see CutsOf).
func Positions(n int) [4]int {
	var p [4]int
	for k := 1; k <= 4; k++ {
		p[k-1] = (k*n+4)/5 - 1
	}
	return p
}

// Score scores v against cuts: 1 plus the cut points v is above.
func (c Cuts) Score(v int64) int {
	s := 1
	for _, x := range c {
		if v > x {
			s++
		}
	}
	return s
}

// scoreSQL is Score as SQL over expression v with the cuts inlined (they
// are integers the refresh computed, never outside input).
func (c Cuts) scoreSQL(v string) string {
	var b strings.Builder
	b.WriteString("(1")
	for _, x := range c {
		fmt.Fprintf(&b, " + CASE WHEN %s > %d THEN 1 ELSE 0 END", v, x)
	}
	b.WriteString(")")
	return b.String()
}
