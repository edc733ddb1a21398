package funnel

import (
	"slices"
	"time"
)

// Report is a funnel's figures, one Group per breakdown value (one group
// with key "" without a breakdown), groups in key order.
type Report struct {
	Funnel    string    `json:"funnel"`
	From      time.Time `json:"from"`
	To        time.Time `json:"to"`
	Window    Duration  `json:"window"`
	Breakdown string    `json:"breakdown,omitempty"`
	Groups    []Group   `json:"groups"`
}

// Group is the funnel for one breakdown value (or one side of a campaign:
// "treated" or "control").
type Group struct {
	Key   string       `json:"key"`
	Steps []StepResult `json:"steps"`
	// Overall is the share of those who entered who reached the last step.
	Overall float64 `json:"overall_conversion"`
	// MedianSeconds is the median time from entry to the last step among
	// those who reached it (the lower middle value for an even count); nil
	// when nobody did.
	MedianSeconds *int64 `json:"median_seconds_to_convert"`
}

// StepResult is one step's figures.
type StepResult struct {
	Name  string `json:"name"`
	Count int    `json:"count"` // people who reached it
	// Conversion is Count over the step before's Count (1 for the first
	// step; 0 when the step before has nobody).
	Conversion float64 `json:"conversion"`
	DropOff    int     `json:"drop_off"` // reached the step before, not this one
}

// Report returns the figures counted so far.
func (c *Counter) Report() Report {
	r := Report{Funnel: c.def.Name, From: c.from, To: c.to, Window: c.def.Window, Breakdown: c.def.Breakdown, Groups: []Group{}}
	keys := make([]string, 0, len(c.groups))
	for k := range c.groups {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if len(keys) == 0 && c.def.Breakdown == "" {
		keys = []string{""}
		c.groups[""] = &acc{counts: make([]int, len(c.def.Steps))}
	}
	for _, k := range keys {
		r.Groups = append(r.Groups, c.group(k, c.groups[k]))
	}
	return r
}

func (c *Counter) group(key string, a *acc) Group {
	g := Group{Key: key}
	for i, s := range c.def.Steps {
		sr := StepResult{Name: s.Name, Count: a.counts[i], Conversion: 1}
		if i > 0 {
			prev := a.counts[i-1]
			sr.DropOff = prev - a.counts[i]
			sr.Conversion = ratio(a.counts[i], prev)
		}
		g.Steps = append(g.Steps, sr)
	}
	g.Overall = ratio(a.counts[len(a.counts)-1], a.counts[0])
	if n := len(a.spans); n > 0 {
		spans := slices.Clone(a.spans)
		slices.Sort(spans)
		m := int64(spans[(n-1)/2] / time.Second)
		g.MedianSeconds = &m
	}
	return g
}

func ratio(n, d int) float64 {
	if d == 0 {
		return 0
	}
	return float64(n) / float64(d)
}
