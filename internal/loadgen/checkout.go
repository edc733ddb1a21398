package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// CheckoutOptions shape the baskets of ScenarioEvaluate, ScenarioCommit and
// ScenarioMixed. Each worker sends baskets of Lines distinct catalogue
// products (see SKU) with quantities 1 to 3; 10% of baskets are anonymous,
// the rest name a member drawn from Options.Codes (or the Setup members
// enrolled first). A commit's transaction id is
// "bench-<seed>-<run>-<worker>-<n>", so no commit is a replay of another,
// in this run or an earlier one with the same seed: the server would answer
// a replay from its store (or refuse it as a conflict when the basket
// differs) and the run would measure the wrong thing.
type CheckoutOptions struct {
	Store    string // sent in every basket; "" lets the server use a pos key's own store
	Currency string // the programme's currency, default GBP
	Lines    int    // lines per basket, default 10, at most 500 (the API's limit)
	Seed     int64  // the same seed gives the same baskets
	// RunID tells this run's transaction ids from those of other runs with
	// the same Seed; default: the time the run starts, in base 36.
	RunID string
}

// Defaults and limits of the checkout scenarios.
const (
	defaultLines    = 10
	defaultCurrency = "GBP"
	maxLines        = 500 // checkout.MaxItems
)

func (o *CheckoutOptions) fill() error {
	if o.Lines < 0 || o.Lines > maxLines {
		return fmt.Errorf("loadgen: Lines must be 1 to %d", maxLines)
	}
	if o.Lines == 0 {
		o.Lines = defaultLines
	}
	if o.Currency == "" {
		o.Currency = defaultCurrency
	}
	if o.RunID == "" {
		o.RunID = strconv.FormatInt(time.Now().UnixNano(), 36)
	}
	if len(o.RunID) > 20 || strings.ContainsFunc(o.RunID, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9')
	}) {
		return fmt.Errorf("loadgen: RunID must be at most 20 letters and digits")
	}
	return nil
}

// checkout reports whether sc is one of the checkout scenarios.
func (sc Scenario) checkout() bool {
	return sc == ScenarioEvaluate || sc == ScenarioCommit || sc == ScenarioMixed
}

// ops names the operations a scenario's requests are counted under: one,
// or for ScenarioMixed evaluate (0) and commit (1).
func (sc Scenario) ops() []Scenario {
	if sc == ScenarioMixed {
		return []Scenario{ScenarioEvaluate, ScenarioCommit}
	}
	return []Scenario{sc}
}

// checkoutWorker is one worker's source of checkout requests.
type checkoutWorker struct {
	r   *runner
	gen *basketGen
}

func (r *runner) checkoutWorker(w int) *checkoutWorker {
	return &checkoutWorker{r: r, gen: newBasketGen(r.opts.Checkout, r.opts.Scenario, w, r.members)}
}

func (c *checkoutWorker) next(ctx context.Context) (*http.Request, int, error) {
	body, commit := c.gen.next()
	op := 0
	if commit && c.r.opts.Scenario == ScenarioMixed {
		op = 1
	}
	req, err := c.r.checkoutRequest(ctx, commit, body)
	return req, op, err
}

// checkoutRequest builds POST /v1/checkout/evaluate or /commit.
func (r *runner) checkoutRequest(ctx context.Context, commit bool, body []byte) (*http.Request, error) {
	path := "/v1/checkout/evaluate"
	if commit {
		path = "/v1/checkout/commit"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.base+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	r.authorize(req)
	return req, nil
}

// probeCheckout evaluates one basket for the pool's first member before measuring, so a
// wrong key, store, currency or member pool fails at once. It never commits:
// the measured baskets stay the only transactions a run writes.
func (r *runner) probeCheckout(ctx context.Context) error {
	pool := r.members
	if len(pool) > 0 {
		pool = pool[:1]
	}
	g := newBasketGen(r.opts.Checkout, ScenarioEvaluate, -1, pool)
	if len(pool) > 0 {
		g.anonymous = 0
	}
	body, _ := g.next()
	_, err := r.checked(ctx, func(ctx context.Context) (*http.Request, error) { return r.checkoutRequest(ctx, false, body) })
	return err
}

// ReadCodes reads member codes, one a line; blank lines, lines starting with
// # and a first line "code" (a CSV header) are skipped.
func ReadCodes(rd io.Reader) ([]string, error) {
	var codes []string
	sc := bufio.NewScanner(rd)
	for first := true; sc.Scan(); first = false {
		s := strings.TrimSpace(sc.Text())
		if s == "" || strings.HasPrefix(s, "#") || first && strings.EqualFold(s, "code") {
			continue
		}
		codes = append(codes, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("loadgen: reading codes: %w", err)
	}
	if len(codes) == 0 {
		return nil, fmt.Errorf("loadgen: no member codes found")
	}
	return codes, nil
}
