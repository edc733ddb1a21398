package funnel

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/event"
)

// Counter computes a funnel report one person at a time, so a report over
// millions of events holds one person's history, not the stream.
//
// The rules (docs/events.md, after ClickHouse's windowFunnel and PostHog):
//   - a person enters at their first event in [from, to) matching step 1
//     (with a breakdown, their first per breakdown value, so a person may
//     count once in each value);
//   - each later step is met by the earliest event that matches it, comes
//     no earlier than the event that met the step before (in stream order)
//     and no later than entry + window; one event may meet several steps in
//     a row (a till basket is both "cart or basket" and "purchase");
//   - a person counts once per step, at the furthest step they reached;
//   - time to convert runs from entry to the event that met the last step.
type Counter struct {
	def      Definition
	from, to time.Time
	groups   map[string]*acc
}

type acc struct {
	counts []int
	spans  []time.Duration // entry to last step, per converted person
}

// NewCounter starts a report of def over entries in [from, to).
func NewCounter(def Definition, from, to time.Time) *Counter {
	return &Counter{def: def, from: from, to: to, groups: map[string]*acc{}}
}

// Add counts one person, given all their events in stream order (time, then
// seq) from `from` up to `to` plus the window; events of other types are
// ignored.
func (c *Counter) Add(evs []event.Event) { c.add(evs, nil) }

// hidden is a span of a person's stream, strictly between two of the
// events given to the counter, that may hold more events like ev (same
// type, campaign, channel and store) which the counter was not given: the
// inside of a rollup row of three events or more.
type hidden struct {
	lo, hi event.Event // the row's first and last event, both given
}

// add counts one person from evs and reports true, or, when an event that
// may lie inside one of spans could change the person's figures, counts
// nothing and reports false, so the caller reads the person's events
// instead. With spans nil it always counts.
func (c *Counter) add(evs []event.Event, spans []hidden) bool {
	props := make([]map[string]any, len(evs)) // parsed on demand
	step0 := c.def.Steps[0]
	// An event hidden in [from, ...) before the first one given could be
	// an earlier entry.
	for _, h := range spans {
		if h.lo.Time.Before(c.from) && !h.hi.Time.Before(c.from) && matches(step0, &h.lo, nil, -1) {
			return false
		}
	}
	type outcome struct {
		key     string
		reached int
		span    time.Duration
	}
	var outs []outcome
	entered := map[string]bool{}
	for i := range evs {
		e := &evs[i]
		if e.Time.Before(c.from) || !e.Time.Before(c.to) || !matches(step0, e, props, i) {
			continue
		}
		key := breakdownOf(c.def.Breakdown, e)
		if entered[key] {
			continue
		}
		entered[key] = true
		reached, span, ok := c.follow(evs, i, props, spans)
		if !ok {
			return false
		}
		outs = append(outs, outcome{key, reached, span})
	}
	for _, o := range outs {
		c.addOutcome(o.key, o.reached, o.span, 1)
	}
	return true
}

// addOutcome counts n people of breakdown value key who reached step
// reached, taking span from entry to the last step when it is the last.
func (c *Counter) addOutcome(key string, reached int, span time.Duration, n int) {
	a := c.groups[key]
	if a == nil {
		a = &acc{counts: make([]int, len(c.def.Steps))}
		c.groups[key] = a
	}
	for k := 0; k <= reached; k++ {
		a.counts[k] += n
	}
	if reached == len(c.def.Steps)-1 {
		for range n {
			a.spans = append(a.spans, span)
		}
	}
}

// follow walks the steps from the entry at i and returns the last step
// reached and, when it is the funnel's last, the time from entry to it; ok
// is false when an event hidden in spans could have met a step earlier.
func (c *Counter) follow(evs []event.Event, i int, props []map[string]any, spans []hidden) (reached int, span time.Duration, ok bool) {
	start := evs[i].Time
	deadline := start.Add(time.Duration(c.def.Window))
	cur := i
	for k := 1; k < len(c.def.Steps); k++ {
		found := -1
		for j := cur; j < len(evs) && !evs[j].Time.After(deadline); j++ {
			if matches(c.def.Steps[k], &evs[j], props, j) {
				found = j
				break
			}
		}
		if found != cur {
			// Unless the event that met the step before meets this one too
			// (nothing comes earlier), an event hidden after it could.
			for _, h := range spans {
				if before(&h.lo, &evs[cur]) && before(&evs[cur], &h.hi) && matches(c.def.Steps[k], &h.lo, nil, -1) {
					return 0, 0, false
				}
			}
		}
		if found < 0 {
			return k - 1, 0, true
		}
		cur = found
	}
	return len(c.def.Steps) - 1, evs[cur].Time.Sub(start), true
}

// before reports whether a comes before b in stream order (time, then
// arrival).
func before(a, b *event.Event) bool {
	return a.Time.Before(b.Time) || (a.Time.Equal(b.Time) && a.Seq < b.Seq)
}

func breakdownOf(by string, e *event.Event) string {
	switch by {
	case "campaign":
		return e.Campaign
	case "channel":
		return string(e.Channel)
	case "store":
		return e.Store
	}
	return ""
}

// Matches reports whether e is of one of s's types and passes its filters:
// the one definition of an event filter, which journeys' triggers, waits
// and goals use too.
func (s Step) Matches(e *event.Event) bool {
	return matches(s, e, make([]map[string]any, 1), 0)
}

func matches(s Step, e *event.Event, props []map[string]any, i int) bool {
	if !slices.Contains(s.Types, e.Type) {
		return false
	}
	for k, want := range s.Where {
		var got string
		switch k {
		case "campaign":
			got = e.Campaign
		case "channel":
			got = string(e.Channel)
		case "store":
			got = e.Store
		default:
			if props == nil {
				return false // a rollup row has no properties; rollupExact keeps such funnels off it
			}
			if props[i] == nil {
				props[i] = map[string]any{}
				json.Unmarshal(e.Properties, &props[i])
			}
			got = text(props[i][strings.TrimPrefix(k, "properties.")])
		}
		if got != want {
			return false
		}
	}
	return true
}

// text is a property's value compared as text: strings as they are, numbers
// and booleans as JSON writes them.
func text(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	}
	b, _ := json.Marshal(v)
	return string(b)
}
