package loadgen

import (
	"strings"
	"testing"
	"time"
)

const testKey = "perk_test_secret"

func checkPercentiles(t *testing.T, res Result) {
	t.Helper()
	if !(0 < res.P50 && res.P50 <= res.P90 && res.P90 <= res.P99 && res.P99 <= res.Max) {
		t.Errorf("percentiles out of order: p50 %v p90 %v p99 %v max %v", res.P50, res.P90, res.P99, res.Max)
	}
}

func TestRun_MaxRequestsIsExact(t *testing.T) {
	tests := []struct {
		name      string
		opts      Options
		status    int
		wantPosts int64 // unmeasured enrolments plus measured ones
	}{
		{"enrol", Options{Scenario: ScenarioEnrol}, 201, 1 + 300},
		{"lookup after setup", Options{Scenario: ScenarioLookup, Setup: 50}, 200, 50},
		{"lookup given codes", Options{Scenario: ScenarioLookup, Codes: []string{"00000017", "00000024"}}, 200, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFake(t, testKey, func(f *fakeAPI) {
				for _, c := range tt.opts.Codes { // as if enrolled before the run
					f.codes[c] = true
				}
			})
			opts := tt.opts
			opts.BaseURL, opts.APIKey, opts.Concurrency = srv.URL, testKey, 8
			opts.Duration, opts.MaxRequests = time.Hour, 300 // the count must end the run
			res, err := Run(t.Context(), opts)
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if res.Requests != 300 || res.Errors != 0 || res.Status[tt.status] != 300 {
				t.Fatalf("got %d requests, %d errors, statuses %v; want 300 × %d, no errors", res.Requests, res.Errors, res.Status, tt.status)
			}
			if got := f.posts.Load(); got != tt.wantPosts {
				t.Errorf("server saw %d enrolments, want %d", got, tt.wantPosts)
			}
			if f.repeats() != 0 {
				t.Errorf("%d enrolments reused a phone", f.repeats())
			}
			checkPercentiles(t, res)
			if res.Scenario != opts.Scenario || res.PerSecond <= 0 || res.Elapsed <= 0 {
				t.Errorf("result = %+v", res)
			}
		})
	}
}

func TestRun_DurationEndsTheRun(t *testing.T) {
	_, srv := newFake(t, testKey, nil)
	res, err := Run(t.Context(), Options{BaseURL: srv.URL, APIKey: testKey, Scenario: ScenarioEnrol, Concurrency: 4, Duration: 100 * time.Millisecond})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Requests == 0 || res.Errors != 0 || res.Elapsed < 100*time.Millisecond || res.Elapsed > 5*time.Second {
		t.Fatalf("result = %v", res)
	}
	checkPercentiles(t, res)
}

func TestRun_CountsErrorsByStatus(t *testing.T) {
	_, srv := newFake(t, testKey, func(f *fakeAPI) { f.codes["00000017"] = true })
	// One worker alternates between a member that exists and one that does not.
	res, err := Run(t.Context(), Options{BaseURL: srv.URL, APIKey: testKey, Scenario: ScenarioLookup,
		Codes: []string{"00000017", "00000024"}, Concurrency: 1, Duration: time.Hour, MaxRequests: 100})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if res.Requests != 100 || res.Errors != 50 || res.Status[200] != 50 || res.Status[404] != 50 {
		t.Fatalf("result = %v, statuses %v", res, res.Status)
	}
	if s := res.String(); !strings.Contains(s, "errors 50 (200×50 404×50)") {
		t.Errorf("String() = %q", s)
	}
}
