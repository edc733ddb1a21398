package loadgen

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Result is what one Run measured.
type Result struct {
	Scenario  Scenario
	Requests  int         // completed requests, failed ones included
	Errors    int         // non-2xx or transport errors
	Status    map[int]int // count per HTTP status
	Elapsed   time.Duration
	PerSecond float64 // Requests / Elapsed
	// Exact latency percentiles (nearest rank) over every request sent,
	// from sending to reading the last byte of the answer.
	P50, P90, P99, Max time.Duration
	// Ops breaks the result down by operation when the scenario mixes
	// several (ScenarioMixed: evaluate, then commit); nil otherwise.
	Ops []Result
}

// result merges the workers' tallies (indexed by worker, then operation):
// all of them into the result, and each operation's into one of Ops when the
// scenario mixes several.
func (r *runner) result(tallies [][]tally, elapsed time.Duration) Result {
	var all []tally
	for _, ts := range tallies {
		all = append(all, ts...)
	}
	res := merge(r.opts.Scenario, all, elapsed)
	if len(r.ops) > 1 {
		for op, name := range r.ops {
			var mine []tally
			for _, ts := range tallies {
				mine = append(mine, ts[op])
			}
			res.Ops = append(res.Ops, merge(name, mine, elapsed))
		}
	}
	return res
}

// merge adds up tallies into one result.
func merge(sc Scenario, tallies []tally, elapsed time.Duration) Result {
	res := Result{Scenario: sc, Status: map[int]int{}, Elapsed: elapsed}
	total := 0
	for _, t := range tallies {
		total += len(t.lat)
	}
	lat := make([]time.Duration, 0, total)
	for _, t := range tallies {
		lat = append(lat, t.lat...)
		res.Requests += t.requests
		res.Errors += t.errors
		for s, c := range t.status {
			res.Status[s] += c
		}
	}
	slices.Sort(lat)
	res.P50, res.P90, res.P99 = percentile(lat, 50), percentile(lat, 90), percentile(lat, 99)
	if len(lat) > 0 {
		res.Max = lat[len(lat)-1]
	}
	if elapsed > 0 {
		res.PerSecond = float64(res.Requests) / elapsed.Seconds()
	}
	return res
}

// percentile returns the nearest-rank p-th percentile of sorted: the smallest
// value with at least p% of the values at or below it. Unlike interpolation it
// is always a latency that was actually observed.
func percentile(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := (p*len(sorted) + 99) / 100 // ceil(p/100 * n), in integers to avoid float rounding
	return sorted[max(rank, 1)-1]
}

// String gives one human line, e.g.
// "enrol: 12345 requests in 10.0s, 1234.5 req/s, p50 1.2ms p90 2.0ms p99 3.4ms max 9.0ms, errors 0".
// When there are errors, the statuses seen are appended.
func (r Result) String() string {
	s := fmt.Sprintf("%s: %d requests in %.1fs, %.1f req/s, p50 %s p90 %s p99 %s max %s, errors %d",
		r.Scenario, r.Requests, r.Elapsed.Seconds(), r.PerSecond,
		ms(r.P50), ms(r.P90), ms(r.P99), ms(r.Max), r.Errors)
	if r.Errors == 0 {
		return s
	}
	var parts []string
	for _, code := range slices.Sorted(maps.Keys(r.Status)) {
		parts = append(parts, fmt.Sprintf("%d×%d", code, r.Status[code]))
	}
	if t := r.Requests - sumValues(r.Status); t > 0 { // requests that got no status at all
		parts = append(parts, fmt.Sprintf("transport×%d", t))
	}
	return s + " (" + strings.Join(parts, " ") + ")"
}

// ms formats a latency in milliseconds: one unit makes lines easy to compare.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	if v < 10 {
		return fmt.Sprintf("%.2fms", v)
	}
	return fmt.Sprintf("%.1fms", v)
}

func sumValues(m map[int]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// Text is String followed, when the scenario mixes operations, by one
// indented String line per operation.
func (r Result) Text() string {
	s := r.String()
	for _, op := range r.Ops {
		s += "\n  " + op.String()
	}
	return s
}
