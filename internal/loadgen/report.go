package loadgen

import (
	"strconv"
	"time"
)

// Report is a Result in a form for JSON: durations in milliseconds, statuses
// keyed by their number as text, and the requests that got no status at all.
type Report struct {
	Scenario        Scenario       `json:"scenario"`
	Requests        int            `json:"requests"`
	Errors          int            `json:"errors"`
	Status          map[string]int `json:"status"`
	TransportErrors int            `json:"transport_errors"`
	ElapsedSeconds  float64        `json:"elapsed_s"`
	PerSecond       float64        `json:"req_per_s"`
	P50             float64        `json:"p50_ms"`
	P90             float64        `json:"p90_ms"`
	P99             float64        `json:"p99_ms"`
	Max             float64        `json:"max_ms"`
	Ops             []Report       `json:"ops,omitempty"`
}

// Report returns r for JSON output.
func (r Result) Report() Report {
	rep := Report{
		Scenario: r.Scenario, Requests: r.Requests, Errors: r.Errors, Status: map[string]int{},
		TransportErrors: r.Requests - sumValues(r.Status), ElapsedSeconds: r.Elapsed.Seconds(), PerSecond: r.PerSecond,
		P50: msFloat(r.P50), P90: msFloat(r.P90), P99: msFloat(r.P99), Max: msFloat(r.Max),
	}
	for s, n := range r.Status {
		rep.Status[strconv.Itoa(s)] = n
	}
	for _, op := range r.Ops {
		rep.Ops = append(rep.Ops, op.Report())
	}
	return rep
}

func msFloat(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
