package loadgen

import (
	"context"
	"io"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// tally is one worker's record. Each worker owns its own, so the hot loop
// takes no lock; Run merges them once the workers have stopped.
type tally struct {
	lat      []time.Duration
	status   map[int]int
	requests int // completed, or failed before sending
	errors   int
}

// nextFunc builds a worker's next request and says which of the run's
// operations (runner.ops) it is.
type nextFunc func(ctx context.Context) (*http.Request, int, error)

// measure runs the workers until the run's bounds are reached.
func (r *runner) measure(ctx context.Context, codes []string) Result {
	// The clock starts before the deadline is set, so a run bounded by
	// Duration never reports less than Duration.
	began := time.Now()
	ctx, cancel := context.WithTimeout(ctx, r.opts.Duration)
	defer cancel()
	n := r.opts.Concurrency
	// Pre-size for the count bound, or for a guess, so appends in the timed
	// loop rarely reallocate. A guess that is too small only costs a copy.
	perWorker := 1 << 14
	if m := r.opts.MaxRequests; m > 0 {
		perWorker = min(perWorker, m/n+1)
	}
	tallies := make([][]tally, n) // worker, operation
	var claimed atomic.Int64
	var wg sync.WaitGroup
	for w := range tallies {
		ts := make([]tally, len(r.ops))
		for i := range ts {
			ts[i].lat, ts[i].status = make([]time.Duration, 0, perWorker/len(ts)), make(map[int]int, 4)
		}
		tallies[w] = ts
		next := r.next(w, codes)
		wg.Go(func() { r.work(ctx, ts, next, &claimed) })
	}
	wg.Wait()
	return r.result(tallies, time.Since(began))
}

// next returns worker w's request source for the run's scenario.
func (r *runner) next(w int, codes []string) nextFunc {
	switch {
	case r.opts.Scenario == ScenarioEnrol:
		return func(ctx context.Context) (*http.Request, int, error) {
			req, err := r.enrolRequest(ctx)
			return req, 0, err
		}
	case r.opts.Scenario.checkout():
		return r.checkoutWorker(w).next
	case r.opts.Scenario == ScenarioEvents:
		return r.eventsWorker(w).next
	}
	cursor := w * len(codes) / r.opts.Concurrency // spread workers over the codes
	return func(ctx context.Context) (*http.Request, int, error) {
		req, err := r.lookupRequest(ctx, codes[cursor])
		cursor = (cursor + 1) % len(codes)
		return req, 0, err
	}
}

// work is one closed-loop worker: it sends the next request as soon as the
// previous answer has been read.
func (r *runner) work(ctx context.Context, ts []tally, next nextFunc, claimed *atomic.Int64) {
	for ctx.Err() == nil {
		// Claiming a slot before sending makes MaxRequests exact across workers.
		if m := r.opts.MaxRequests; m > 0 && claimed.Add(1) > int64(m) {
			return
		}
		req, op, err := next(ctx)
		t := &ts[op]
		if err != nil { // only a malformed URL, which the probe already caught; every request would fail alike
			t.requests++
			t.errors++
			return
		}
		began := time.Now()
		status, err := r.send(req)
		lat := time.Since(began)
		if err != nil && ctx.Err() != nil {
			return // cut off by the end of the run: not the server's failure
		}
		t.lat = append(t.lat, lat)
		t.requests++
		if err != nil {
			t.errors++
			continue
		}
		t.status[status]++
		if status/100 != 2 {
			t.errors++
		}
	}
}

// send does one request and reads the whole body, since the time to the last
// byte is what a client waits for and an unread body stops the connection
// from being reused.
func (r *runner) send(req *http.Request) (int, error) {
	resp, err := r.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, err
}
