package loadgen

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// runAsync starts Run and returns a channel for its outcome, so a test can
// fail rather than hang if Run ignores what should stop it.
func runAsync(ctx context.Context, opts Options) <-chan error {
	done := make(chan error, 1)
	go func() {
		res, err := Run(ctx, opts)
		if err == nil && res.Errors != 0 {
			err = errors.New(res.String())
		}
		done <- err
	}()
	return done
}

func wait(t *testing.T, done <-chan error) error {
	t.Helper()
	select {
	case err := <-done:
		return err
	case <-time.After(10 * time.Second): // a guard, not a wait: Run should end in milliseconds
		t.Fatal("Run did not return")
		return nil
	}
}

func TestRun_StopsOnCancel(t *testing.T) {
	for _, sc := range []Scenario{ScenarioEnrol, ScenarioLookup} {
		t.Run(string(sc), func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			// Cancel from inside the server once the measured phase is well
			// under way: no sleeping, and the run would otherwise last an hour.
			_, srv := newFake(t, testKey, func(f *fakeAPI) {
				f.onRequest = func(n int64) {
					if n == 200 {
						cancel()
					}
				}
			})
			opts := Options{BaseURL: srv.URL, APIKey: testKey, Scenario: sc, Setup: 20, Concurrency: 4, Duration: time.Hour}
			var res Result
			done := make(chan error, 1)
			go func() {
				var err error
				res, err = Run(ctx, opts)
				done <- err
			}()
			if err := wait(t, done); !errors.Is(err, context.Canceled) {
				t.Fatalf("Run after cancel: err = %v, want context.Canceled", err)
			}
			// Requests cut off by the cancel are dropped, not counted as errors.
			if res.Requests == 0 || res.Errors != 0 {
				t.Fatalf("result = %v", res)
			}
		})
	}
}

func TestRun_CancelledBeforeStart(t *testing.T) {
	_, srv := newFake(t, testKey, nil)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	for _, sc := range []Scenario{ScenarioEnrol, ScenarioLookup} {
		err := wait(t, runAsync(ctx, Options{BaseURL: srv.URL, APIKey: testKey, Scenario: sc, Duration: time.Hour}))
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: err = %v, want context.Canceled", sc, err)
		}
	}
}

func TestRun_FailsFastOnRefusal(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"enrol", Options{Scenario: ScenarioEnrol}},
		{"lookup setup", Options{Scenario: ScenarioLookup, Setup: 100_000}},
		{"lookup given codes", Options{Scenario: ScenarioLookup, Codes: []string{"00000017"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, srv := newFake(t, testKey, nil)
			opts := tt.opts
			opts.BaseURL, opts.APIKey, opts.Concurrency, opts.Duration = srv.URL, "wrong key", 4, time.Hour
			err := wait(t, runAsync(t.Context(), opts))
			if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "API key not recognised") {
				t.Fatalf("err = %v, want one naming status 401 and quoting the body", err)
			}
			// The first refusal stops the setup: at most one per worker.
			if n := f.posts.Load() + f.gets.Load(); n > int64(opts.Concurrency) {
				t.Errorf("server saw %d requests after refusing the first", n)
			}
		})
	}
}

func TestRun_RejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want string
	}{
		{"no URL", Options{Scenario: ScenarioEnrol}, "BaseURL"},
		{"unknown scenario", Options{BaseURL: "http://127.0.0.1:1", Scenario: "browse"}, "browse"},
		{"negative count", Options{BaseURL: "http://127.0.0.1:1", Scenario: ScenarioEnrol, MaxRequests: -1}, "negative"},
		{"unreachable", Options{BaseURL: "http://127.0.0.1:1", Scenario: ScenarioEnrol}, "probe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := wait(t, runAsync(t.Context(), tt.opts))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestRun_PhoneSeedSeparatesRuns(t *testing.T) {
	f, srv := newFake(t, testKey, nil)
	run := func(seed int64) {
		t.Helper()
		if _, err := Run(t.Context(), Options{BaseURL: srv.URL, APIKey: testKey, Scenario: ScenarioEnrol,
			PhoneSeed: seed, Duration: time.Hour, MaxRequests: 1000}); err != nil {
			t.Fatal(err)
		}
	}
	run(1)
	run(2)
	if f.repeats() != 0 {
		t.Fatalf("runs with seeds 1 and 2 shared %d phones", f.repeats())
	}
	// The same seed again replays the same phones: why PhoneSeed exists.
	run(1)
	if f.repeats() != 1001 {
		t.Fatalf("rerun with seed 1 repeated %d phones, want all 1001", f.repeats())
	}
}
