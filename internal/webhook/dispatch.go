package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"
)

// Dispatcher delivers the outbox. Several may run, in one process or many:
// each claims due deliveries under a lease, so a delivery is attempted by
// one dispatcher at a time, and one whose dispatcher died is claimed again
// when its lease runs out. Make it with NewDispatcher; change the fields
// before Run.
type Dispatcher struct {
	Poll        time.Duration // idle wait between claims (100 ms)
	Timeout     time.Duration // one attempt, connection to last byte (10 s)
	Lease       time.Duration // how long a claim holds (1 min; more than Timeout)
	Parallel    int           // attempts in flight in all (128)
	PerEndpoint int           // attempts in flight to one endpoint (16)
	Settle      time.Duration // longest an outcome waits to be recorded with others (50 ms)
	Metrics     *Metrics      // counts the attempts recorded; nil counts nothing

	s      *Service
	client *http.Client
	wake   chan struct{}
}

// NewDispatcher returns a dispatcher for s's outbox. Its HTTP client
// refuses internal addresses at dial time unless s allows them, uses no
// proxy (one could reach what the dialer refuses) and follows no redirect
// (a 3xx is a failed attempt, as the receiver did not take the event).
func NewDispatcher(s *Service) *Dispatcher {
	d := &Dispatcher{Poll: 100 * time.Millisecond, Timeout: 10 * time.Second, Lease: time.Minute,
		Parallel: 128, PerEndpoint: 16, Settle: 50 * time.Millisecond, s: s, wake: make(chan struct{}, 1)}
	dialer := &net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}
	if !s.opt.AllowPrivate {
		dialer.Control = dialControl
	}
	tr := &http.Transport{
		DialContext:         dialer.DialContext,
		MaxIdleConnsPerHost: 256, // up to Parallel to one endpoint
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 5 * time.Second,
		ForceAttemptHTTP2:   true,
	}
	d.client = &http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	return d
}

// Wake makes an idle dispatcher look for work at once.
func (d *Dispatcher) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// Run delivers until ctx ends, then waits for the attempts in flight (each
// bounded by Timeout) and records them. Attempts run concurrently, at most
// PerEndpoint to one endpoint, so a slow or dead endpoint holds only its own
// slots.
//
// Its writes are few and large, because on SQLite they share the one writer
// with the tills: outcomes are recorded a quarter of Parallel at a time, or
// after Settle; new work is claimed when a quarter of the slots are free,
// and once a claim found less than it asked for (the outbox is drained) not
// again before Poll or a Wake. Attempts made but not yet recorded count
// against Parallel, so a crash repeats at most Parallel deliveries.
func (d *Dispatcher) Run(ctx context.Context) error {
	results := make(chan outcome, d.Parallel)
	inflight := map[string]int{} // endpoint -> attempts in flight
	total := 0
	var pending []outcome
	var firstPending time.Time // when the oldest unrecorded outcome came
	// Attempts and their settling outlive ctx, so a claimed delivery is
	// recorded rather than left to its lease.
	work := context.WithoutCancel(ctx)
	quarter := max(d.Parallel/4, 1)
	var lastClaim time.Time
	drained, woken := false, true
	// settle records the pending outcomes and, when claim is set, claims
	// as many deliveries as slots are then free in the same transaction.
	settle := func(claim bool) {
		free := 0
		if claim {
			free = d.Parallel - total
			lastClaim, woken = time.Now(), false
		}
		n, err := d.settleClaim(work, pending, free, inflight, results)
		if err != nil {
			d.s.opt.Log.Error("webhook settle", "count", len(pending), "err", err)
		}
		total += n
		if claim {
			drained = n < free
		}
		pending, firstPending = pending[:0], time.Time{}
	}
	// wantClaim says whether to look for work with free slots free.
	wantClaim := func(free, busy int) bool {
		due := woken || time.Since(lastClaim) >= d.Poll
		return free > 0 && (due || (!drained && (busy == 0 || free >= quarter)))
	}
	for {
		if ctx.Err() != nil {
			for ; total > 0; total-- {
				pending = append(pending, <-results)
			}
			settle(false)
			return nil
		}
		if len(pending) > 0 && (len(pending) >= quarter || time.Since(firstPending) >= d.Settle) {
			// The settled slots are free once recorded.
			settle(wantClaim(d.Parallel-total, total))
			continue
		}
		if busy := total + len(pending); wantClaim(d.Parallel-busy, busy) {
			n, err := d.settleClaim(work, nil, d.Parallel-busy, inflight, results)
			if err != nil {
				d.s.opt.Log.Error("webhook claim", "err", err)
			}
			lastClaim, woken = time.Now(), false
			total += n
			drained = n < d.Parallel-busy
		}
		var poll, flush <-chan time.Time
		if total+len(pending) < d.Parallel {
			poll = time.After(d.Poll - time.Since(lastClaim))
		}
		if len(pending) > 0 {
			flush = time.After(d.Settle - time.Since(firstPending))
		}
		select {
		case o := <-results:
			d.done(o, &pending, inflight, &total)
			d.collect(results, &pending, inflight, &total)
			if firstPending.IsZero() {
				firstPending = time.Now()
			}
		case <-poll:
		case <-flush:
		case <-d.wake:
			woken = true
		case <-ctx.Done():
		}
	}
}

// settleClaim records the outcomes os (counting them) and claims up to
// free deliveries, leaving out endpoints at their limit, in one
// transaction; then it starts the claimed attempts and returns how many it
// started. Deliveries claimed beyond an endpoint's free slots are given
// back at once.
func (d *Dispatcher) settleClaim(ctx context.Context, os []outcome, free int, inflight map[string]int, results chan<- outcome) (int, error) {
	var skip []string
	if free > 0 {
		for e, n := range inflight {
			if n >= d.PerEndpoint {
				skip = append(skip, e)
			}
		}
	}
	statuses, js, err := d.s.settleClaim(ctx, os, free, d.Lease, skip)
	d.Metrics.settled(os, statuses)
	if err != nil {
		return 0, err
	}
	d.refresh(ctx, len(js))
	var extra []job
	started := 0
	for _, j := range js {
		if inflight[j.endpointID] >= d.PerEndpoint {
			extra = append(extra, j)
			continue
		}
		inflight[j.endpointID]++
		started++
		go func() { results <- d.attempt(ctx, j) }()
	}
	if err := d.s.release(ctx, extra); err != nil {
		d.s.opt.Log.Error("webhook release", "err", err)
	}
	return started, nil
}

// settle records outcomes and counts them.
func (d *Dispatcher) settle(ctx context.Context, os []outcome) error {
	statuses, err := d.s.settle(ctx, os)
	d.Metrics.settled(os, statuses)
	return err
}

// collect takes the outcomes already waiting, without blocking.
func (d *Dispatcher) collect(results <-chan outcome, pending *[]outcome, inflight map[string]int, total *int) {
	for {
		select {
		case o := <-results:
			d.done(o, pending, inflight, total)
		default:
			return
		}
	}
}

func (d *Dispatcher) done(o outcome, pending *[]outcome, inflight map[string]int, total *int) {
	*pending = append(*pending, o)
	if inflight[o.job.endpointID]--; inflight[o.job.endpointID] <= 0 {
		delete(inflight, o.job.endpointID)
	}
	*total--
}

// refresh reloads the endpoints before a batch of attempts, so that a
// change made by another process (perk webhooks rotate or remove) counts
// from the next batch on: one small query a batch, not one an attempt.
func (d *Dispatcher) refresh(ctx context.Context, claimed int) {
	if claimed == 0 {
		return
	}
	if _, _, err := d.s.cache.get(ctx, d.s.db.R, true); err != nil {
		d.s.opt.Log.Error("webhook endpoints", "err", err)
	}
}

// Drain delivers every due delivery and returns how many attempts it made,
// one batch after another until none is due: for tests and commands that
// step an injected clock, where Run's polling would add nothing.
func (d *Dispatcher) Drain(ctx context.Context) (int, error) {
	made := 0
	for {
		js, err := d.s.claim(ctx, d.Parallel, d.Lease, nil)
		if err != nil || len(js) == 0 {
			return made, err
		}
		d.refresh(ctx, len(js))
		results := make(chan outcome, len(js))
		for _, j := range js {
			go func() { results <- d.attempt(ctx, j) }()
		}
		os := make([]outcome, 0, len(js))
		for range js {
			os = append(os, <-results)
		}
		if err := d.settle(context.WithoutCancel(ctx), os); err != nil {
			return made, err
		}
		made += len(js)
	}
}

// The signature headers' names as net/http writes them.
var (
	canonicalID        = http.CanonicalHeaderKey(HeaderID)
	canonicalTimestamp = http.CanonicalHeaderKey(HeaderTimestamp)
	canonicalSignature = http.CanonicalHeaderKey(HeaderSignature)
)

// attempt makes one signed POST. It never fails as such: what went wrong is
// in the outcome.
func (d *Dispatcher) attempt(ctx context.Context, j job) outcome {
	at := d.s.utc()
	o := outcome{job: j, at: at}
	ep, err := d.s.cache.endpoint(ctx, j.endpointID)
	if err != nil {
		o.err, o.gone = err.Error(), errors.Is(err, ErrNotFound)
		return o
	}
	keys, err := ep.keys(at)
	if err != nil {
		o.err = err.Error()
		return o
	}
	ctx, cancel := context.WithTimeout(ctx, d.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, ep.URL, bytes.NewReader(j.payload))
	if err != nil {
		o.err = err.Error()
		return o
	}
	// Set in canonical form at once rather than through Header.Set, which
	// canonicalizes each name again at every attempt; the names go on the
	// wire the same.
	req.Header = http.Header{
		"Content-Type":     {"application/json"},
		"User-Agent":       {"Perk-Webhooks/1"},
		canonicalID:        {j.eventID},
		canonicalTimestamp: {strconv.FormatInt(at.Unix(), 10)},
		canonicalSignature: {signatureHeader(keys, j.eventID, at.Unix(), j.payload)},
	}
	start := time.Now()
	resp, err := d.client.Do(req)
	if err == nil {
		// Read a little of the answer so the connection can be reused.
		io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		resp.Body.Close()
	}
	o.latency = time.Since(start)
	switch {
	case err != nil:
		o.err = err.Error()
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		o.code = resp.StatusCode
		o.err = fmt.Sprintf("HTTP %d", resp.StatusCode)
	default:
		o.code = resp.StatusCode
	}
	return o
}
