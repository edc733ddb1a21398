package loadgen

import (
	"strings"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i + 1)
	}
	tests := []struct {
		name   string
		sorted []time.Duration
		p      int
		want   time.Duration
	}{
		{"empty", nil, 50, 0},
		{"one", []time.Duration{7}, 99, 7},
		{"two, median is the lower", []time.Duration{1, 2}, 50, 1},
		{"p50 of 100", hundred, 50, 50},
		{"p90 of 100", hundred, 90, 90},
		{"p99 of 100", hundred, 99, 99},
		{"p100 is the max", hundred, 100, 100},
		{"p99 of 3 is the max", []time.Duration{1, 2, 3}, 99, 3},
	}
	for _, tt := range tests {
		if got := percentile(tt.sorted, tt.p); got != tt.want {
			t.Errorf("%s: percentile(p%d) = %v, want %v", tt.name, tt.p, got, tt.want)
		}
	}
}

func TestResultString(t *testing.T) {
	tests := []struct {
		res  Result
		want string
	}{
		{Result{Scenario: ScenarioEnrol, Requests: 12345, Elapsed: 10 * time.Second, PerSecond: 1234.5,
			P50: 1200 * time.Microsecond, P90: 2 * time.Millisecond, P99: 3400 * time.Microsecond, Max: 12 * time.Millisecond,
			Status: map[int]int{201: 12345}},
			"enrol: 12345 requests in 10.0s, 1234.5 req/s, p50 1.20ms p90 2.00ms p99 3.40ms max 12.0ms, errors 0"},
		{Result{Scenario: ScenarioLookup, Requests: 10, Errors: 3, Elapsed: time.Second, PerSecond: 10,
			Status: map[int]int{200: 7, 500: 1}},
			"lookup: 10 requests in 1.0s, 10.0 req/s, p50 0.00ms p90 0.00ms p99 0.00ms max 0.00ms, errors 3 (200×7 500×1 transport×2)"},
	}
	for _, tt := range tests {
		if got := tt.res.String(); got != tt.want {
			t.Errorf("String() =\n%q\nwant\n%q", got, tt.want)
		}
		if strings.Contains(tt.res.String(), "\n") {
			t.Error("String() spans lines")
		}
	}
}
