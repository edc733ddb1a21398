package loadgen

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// Scenario names what each request does.
type Scenario string

const (
	// ScenarioEnrol POSTs /v1/members with a fresh valid phone each time and
	// expects 201 (or 200 if the member already existed).
	ScenarioEnrol Scenario = "enrol"
	// ScenarioLookup GETs /v1/members/{code} for codes collected first by
	// enrolling Setup members (or given in Codes) and expects 200.
	ScenarioLookup Scenario = "lookup"
	// ScenarioEvaluate, ScenarioCommit and ScenarioMixed POST generated
	// baskets to /v1/checkout/evaluate or /v1/checkout/commit (mixed: 80%
	// evaluate, 20% commit) and expect 200; see checkout.go.
	ScenarioEvaluate Scenario = "evaluate"
	ScenarioCommit   Scenario = "commit"
	ScenarioMixed    Scenario = "mixed"
)

// Options configure Run. Zero values take the documented defaults.
type Options struct {
	BaseURL     string          // e.g. http://127.0.0.1:8080
	APIKey      string          // sent as "Authorization: Bearer <key>"
	Scenario    Scenario        // ScenarioEnrol, ScenarioLookup or a checkout scenario
	Concurrency int             // workers, default 16
	Duration    time.Duration   // run time, default 10s; the run is ALSO bounded by MaxRequests
	MaxRequests int             // 0 = no count bound (Duration still applies)
	Setup       int             // lookup and checkout: members to enrol first (default 1000)
	Codes       []string        // lookup and checkout: member codes to use instead of enrolling Setup members
	PhoneSeed   int64           // so concurrent or repeated runs use different phones
	Checkout    CheckoutOptions // the checkout scenarios' baskets
	Events      EventsOptions   // ScenarioEvents' batches
	Client      *http.Client    // optional; by default one tuned for Concurrency keep-alive connections
}

// Defaults and safety limits.
const (
	defaultConcurrency = 16
	defaultDuration    = 10 * time.Second
	defaultSetup       = 1000
	// requestTimeout bounds each unmeasured request (probe, setup), so a
	// server that accepts connections but never answers cannot hang Run.
	requestTimeout = 30 * time.Second
)

// runner holds what the probe, the setup and the workers share.
type runner struct {
	opts   Options
	client *http.Client
	base   string // BaseURL without a trailing slash
	start  uint64 // first phone index, from PhoneSeed
	phones atomic.Uint64
	ops    []Scenario // what Result.Ops counts: opts.Scenario.ops()
	// members are the checkout scenarios' member codes as JSON strings,
	// shared read-only by the workers.
	members [][]byte
}

// Run drives the API with opts.Concurrency closed-loop workers until
// opts.Duration has passed, opts.MaxRequests requests have completed, or ctx
// is cancelled, whichever comes first.
//
// Before measuring, Run makes unmeasured requests that must succeed: one
// enrolment for ScenarioEnrol, the Setup enrolments (or one lookup of
// Codes[0]) for ScenarioLookup, the Setup enrolments (unless Codes are
// given) and one evaluate of a basket for the first member for the checkout
// scenarios. So a bad key or URL fails at once with the server's status and
// the start of its answer, instead of producing a run full of errors. The Duration clock starts after them. If ctx is cancelled during the measured phase, Run returns
// the result so far together with ctx's error.
func Run(ctx context.Context, opts Options) (Result, error) {
	if err := opts.fill(); err != nil {
		return Result{Scenario: opts.Scenario}, err
	}
	r := &runner{opts: opts, client: opts.Client, base: strings.TrimRight(opts.BaseURL, "/"),
		start: phoneStart(opts.PhoneSeed), ops: opts.Scenario.ops()}
	if r.client == nil {
		tr := newTransport(opts.Concurrency)
		defer tr.CloseIdleConnections() // leave no keep-alive goroutines behind
		r.client = &http.Client{Transport: tr}
	}
	codes := opts.Codes
	var err error
	switch {
	case opts.Scenario == ScenarioEvents:
		err = wrap("probe", r.probeEvents(ctx))
	case opts.Scenario == ScenarioEnrol:
		_, err = r.enrolOnce(ctx)
		err = wrap("probe", err)
	case len(codes) > 0:
		if opts.Scenario == ScenarioLookup {
			err = wrap("probe", r.probeLookup(ctx, codes[0]))
		}
	default:
		codes, err = r.setup(ctx, opts.Setup)
		err = wrap("setup", err)
	}
	if err == nil && opts.Scenario.checkout() {
		r.members = encodeMembers(codes)
		err = wrap("probe", r.probeCheckout(ctx))
	}
	if err != nil {
		return Result{Scenario: opts.Scenario}, err
	}
	res := r.measure(ctx, codes)
	return res, ctx.Err()
}

// wrap names the unmeasured phase an error came from.
func wrap(phase string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("loadgen: %s: %w", phase, err)
}

// fill validates o and applies defaults.
func (o *Options) fill() error {
	switch {
	case o.BaseURL == "":
		return errors.New("loadgen: BaseURL is required")
	case o.Scenario != ScenarioEnrol && o.Scenario != ScenarioLookup && o.Scenario != ScenarioEvents && !o.Scenario.checkout():
		return fmt.Errorf("loadgen: unknown scenario %q (want %s, %s, %s, %s, %s or %s)", o.Scenario,
			ScenarioEnrol, ScenarioLookup, ScenarioEvaluate, ScenarioCommit, ScenarioMixed, ScenarioEvents)
	case o.Concurrency < 0 || o.Duration < 0 || o.MaxRequests < 0 || o.Setup < 0:
		return errors.New("loadgen: Concurrency, Duration, MaxRequests and Setup must not be negative")
	}
	if o.Scenario.checkout() {
		if err := o.Checkout.fill(); err != nil {
			return err
		}
	}
	if o.Scenario == ScenarioEvents {
		if err := o.Events.fill(); err != nil {
			return err
		}
	}
	if o.Concurrency == 0 {
		o.Concurrency = defaultConcurrency
	}
	if o.Duration == 0 {
		o.Duration = defaultDuration
	}
	if o.Setup == 0 {
		o.Setup = defaultSetup
	}
	return nil
}

// newTransport keeps up to n idle connections to the one host under test.
// The default of 2 per host would make most workers dial a new connection
// for every request, and the run would measure TCP handshakes.
func newTransport(n int) *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        n,
		MaxIdleConnsPerHost: n,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true, // measure the server, not gzip
	}
}
