package loadgen

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/checkout"
)

// decodeBasket decodes a body the way the API does (unknown fields are an
// error), fills in the store as the API does for a pos key bound to store,
// and validates it with the checkout package's own rules.
func decodeBasket(body []byte, store string, commit bool) (*checkout.Request, error) {
	var req checkout.Request
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("trailing data after the JSON object")
	}
	if req.Store == "" {
		req.Store = store
	}
	if err := req.Validate("GBP", commit); err != nil {
		return nil, fmt.Errorf("validate: %w", err)
	}
	return &req, nil
}

func testCodes(n int) []string {
	codes := make([]string, n)
	for i := range codes {
		d := fmt.Sprintf("%07d", 1000+i)
		codes[i] = d + string(rune('0'+gs1Check(d)))
	}
	return codes
}

func bodies(g *basketGen, n int) (out []string, commits int) {
	for range n {
		b, commit := g.next()
		out = append(out, string(b))
		if commit {
			commits++
		}
	}
	return out, commits
}

func TestBasketGen_SameSeedSameBaskets(t *testing.T) {
	pool := encodeMembers(testCodes(100))
	opt := CheckoutOptions{Store: "S1", Currency: "GBP", Lines: 10, Seed: 42}
	for _, sc := range []Scenario{ScenarioEvaluate, ScenarioCommit, ScenarioMixed} {
		t.Run(string(sc), func(t *testing.T) {
			a, _ := bodies(newBasketGen(opt, sc, 3, pool), 500)
			b, _ := bodies(newBasketGen(opt, sc, 3, pool), 500)
			if strings.Join(a, "\n") != strings.Join(b, "\n") {
				t.Fatal("two generators with the same seed and worker made different baskets")
			}
			other := opt
			other.Seed = 43
			for name, g := range map[string]*basketGen{
				"another seed":   newBasketGen(other, sc, 3, pool),
				"another worker": newBasketGen(opt, sc, 4, pool),
			} {
				c, _ := bodies(g, 500)
				same := 0
				for i := range a {
					if a[i] == c[i] {
						same++
					}
				}
				if same > 0 {
					t.Errorf("%s: %d of 500 baskets equal to the first generator's", name, same)
				}
			}
		})
	}
	// Evaluate and commit runs with one seed ring up the same baskets.
	ev, _ := bodies(newBasketGen(opt, ScenarioEvaluate, 0, pool), 50)
	co, _ := bodies(newBasketGen(opt, ScenarioCommit, 0, pool), 50)
	txid := regexp.MustCompile(`,"transaction_id":"[^"]*"`)
	for i := range ev {
		if got := txid.ReplaceAllString(co[i], ""); got != ev[i] {
			t.Fatalf("basket %d: commit without its transaction id\n%s\nwant the evaluate basket\n%s", i, got, ev[i])
		}
	}
}

func TestBasketGen_BasketsAreValid(t *testing.T) {
	codes := testCodes(50)
	inPool := map[string]bool{}
	for _, c := range codes {
		inPool[c] = true
	}
	const n = 4000
	for _, tt := range []struct {
		sc    Scenario
		store string // "" = the API fills in the pos key's store
		lines int
	}{
		{ScenarioEvaluate, "S1", 10},
		{ScenarioCommit, "", 10},
		{ScenarioMixed, "S1", 1},
		{ScenarioMixed, "", 60},
	} {
		t.Run(fmt.Sprintf("%s/store=%q/lines=%d", tt.sc, tt.store, tt.lines), func(t *testing.T) {
			opt := CheckoutOptions{Store: tt.store, Currency: "GBP", Lines: tt.lines, Seed: 7}
			g := newBasketGen(opt, tt.sc, 1, encodeMembers(codes))
			anonymous, commits := 0, 0
			txids := map[string]bool{}
			for i := range n {
				body, commit := g.next()
				req, err := decodeBasket(body, "S1", commit)
				if err != nil {
					t.Fatalf("basket %d: %v\n%s", i, err, body)
				}
				if commit {
					commits++
					if txids[req.TransactionID] {
						t.Fatalf("basket %d: transaction id %s used twice", i, req.TransactionID)
					}
					txids[req.TransactionID] = true
				} else if req.TransactionID != "" {
					t.Fatalf("basket %d: an evaluate with transaction id %q", i, req.TransactionID)
				}
				if req.Member == nil {
					anonymous++
				} else if !inPool[*req.Member] {
					t.Fatalf("basket %d: member %q is not in the pool", i, *req.Member)
				}
				checkItems(t, i, req.Items, tt.lines)
			}
			if anonymous < n*7/100 || anonymous > n*13/100 {
				t.Errorf("%d of %d baskets anonymous, want about 10%%", anonymous, n)
			}
			want := map[Scenario][2]int{ScenarioEvaluate: {0, 0}, ScenarioCommit: {n, n}, ScenarioMixed: {n * 17 / 100, n * 23 / 100}}[tt.sc]
			if commits < want[0] || commits > want[1] {
				t.Errorf("%d of %d baskets are commits, want %d to %d", commits, n, want[0], want[1])
			}
		})
	}
}

// checkItems checks a basket's lines against the catalogue.
func checkItems(t *testing.T, basket int, items []checkout.Item, lines int) {
	t.Helper()
	if len(items) != lines {
		t.Fatalf("basket %d: %d lines, want %d", basket, len(items), lines)
	}
	skus := map[string]bool{}
	for j, it := range items {
		var n int
		if _, err := fmt.Sscanf(it.SKU, "SKU%05d", &n); err != nil || n < 1 || n > CatalogueSKUs || SKU(n) != it.SKU {
			t.Fatalf("basket %d line %d: SKU %q is not in the catalogue", basket, j, it.SKU)
		}
		if skus[it.SKU] {
			t.Fatalf("basket %d: %s on two lines", basket, it.SKU)
		}
		skus[it.SKU] = true
		if it.Line != j+1 || it.Quantity < 1 || it.Quantity > 3 || it.UnitPrice != SKUPrice(n) ||
			it.UnitPrice < 50 || it.UnitPrice > 5000 || len(it.Categories) != 1 || it.Categories[0] != Category(SKUCategory(n)) {
			t.Fatalf("basket %d line %d: %+v", basket, j, it)
		}
	}
}

func TestCatalogue(t *testing.T) {
	if SKU(42) != "SKU00042" || SKU(5000) != "SKU05000" || Category(17) != "CAT017" || Category(200) != "CAT200" {
		t.Fatalf("codes: %s %s %s %s", SKU(42), SKU(5000), Category(17), Category(200))
	}
	cats := map[int]int{}
	lo, hi := int64(1<<62), int64(0)
	for n := 1; n <= CatalogueSKUs; n++ {
		cats[SKUCategory(n)]++
		lo, hi = min(lo, SKUPrice(n)), max(hi, SKUPrice(n))
	}
	if len(cats) != CatalogueCategories || cats[1] != CatalogueSKUs/CatalogueCategories {
		t.Errorf("%d categories, %d products in CAT001", len(cats), cats[1])
	}
	if lo < 50 || hi > 5000 || lo > 60 || hi < 4990 {
		t.Errorf("prices range %d..%d, want about 50..5000", lo, hi)
	}
}

// fakeTill stands in for the checkout endpoints: it checks each body as the
// real API would and records what it saw.
type fakeTill struct {
	key, store string
	mu         sync.Mutex
	evaluates  int
	commits    int
	txids      map[string]int
	members    map[string]int
	bad        []string
	record     func(commit bool, body []byte) // optional: called with each valid commit, under mu
}

func (f *fakeTill) handler(commit bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+f.key {
			http.Error(w, `{"error":{"code":"unauthorized","message":"API key not recognised"}}`, http.StatusUnauthorized)
			return
		}
		var buf bytes.Buffer
		buf.ReadFrom(r.Body)
		req, err := decodeBasket(buf.Bytes(), f.store, commit)
		f.mu.Lock()
		defer f.mu.Unlock()
		if err != nil {
			f.bad = append(f.bad, err.Error())
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if commit {
			f.commits++
			f.txids[req.TransactionID]++
			if f.record != nil {
				f.record(commit, buf.Bytes())
			}
		} else {
			f.evaluates++
		}
		f.members[req.MemberKey()]++
		fmt.Fprintf(w, `{"store":%q,"currency":"GBP","subtotal":1}`, req.Store)
	}
}

// newFakeTill starts the fake; setup, if given, adjusts it before the server
// runs (see newFake).
func newFakeTill(t *testing.T, key string, setup func(*fakeTill)) (*fakeTill, *httptest.Server) {
	f := &fakeTill{key: key, store: "S1", txids: map[string]int{}, members: map[string]int{}}
	if setup != nil {
		setup(f)
	}
	enrol, _ := newFake(t, key, nil) // the member endpoints, for the enrolled pool
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/checkout/evaluate", f.handler(false))
	mux.HandleFunc("POST /v1/checkout/commit", f.handler(true))
	mux.HandleFunc("POST /v1/members", enrol.auth(enrol.enrol))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, srv
}

func TestRun_Checkout(t *testing.T) {
	for _, tt := range []struct {
		sc    Scenario
		codes []string
	}{
		{ScenarioEvaluate, testCodes(20)},
		{ScenarioCommit, nil}, // enrols the pool first
		{ScenarioMixed, testCodes(20)},
	} {
		t.Run(string(tt.sc), func(t *testing.T) {
			f, srv := newFakeTill(t, testKey, nil)
			res, err := Run(t.Context(), Options{BaseURL: srv.URL, APIKey: testKey, Scenario: tt.sc, Codes: tt.codes, Setup: 30,
				Concurrency: 8, Duration: time.Hour, MaxRequests: 1000, Checkout: CheckoutOptions{Seed: 99}})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if len(f.bad) > 0 {
				t.Fatalf("server refused %d bodies, first: %s", len(f.bad), f.bad[0])
			}
			if res.Requests != 1000 || res.Errors != 0 || res.Status[200] != 1000 {
				t.Fatalf("result %v, statuses %v", res, res.Status)
			}
			checkPercentiles(t, res)
			// The probe is one unmeasured evaluate, never a commit.
			if f.evaluates+f.commits != 1001 {
				t.Errorf("server saw %d evaluates and %d commits, want 1000 + the probe", f.evaluates, f.commits)
			}
			for id, n := range f.txids {
				if n > 1 {
					t.Errorf("transaction id %s committed %d times", id, n)
				}
			}
			if len(f.txids) != f.commits {
				t.Errorf("%d commits, %d distinct transaction ids", f.commits, len(f.txids))
			}
			pool := 20
			if tt.codes == nil {
				pool = 30
			}
			if len(f.members) < pool { // every member plus anonymous ("")
				t.Errorf("baskets named %d distinct members (anonymous included), want the whole pool of %d", len(f.members), pool)
			}
			switch tt.sc {
			case ScenarioEvaluate:
				if f.commits != 0 || res.Ops != nil {
					t.Errorf("%d commits, ops %v", f.commits, res.Ops)
				}
			case ScenarioCommit:
				if f.commits != 1000 {
					t.Errorf("%d commits, want 1000", f.commits)
				}
			case ScenarioMixed:
				if len(res.Ops) != 2 || res.Ops[0].Scenario != ScenarioEvaluate || res.Ops[1].Scenario != ScenarioCommit {
					t.Fatalf("ops = %v", res.Ops)
				}
				if res.Ops[1].Requests != f.commits || res.Ops[0].Requests+res.Ops[1].Requests != 1000 || f.commits < 150 || f.commits > 250 {
					t.Errorf("ops %v; server saw %d commits, want about 200", res.Ops, f.commits)
				}
				if lines := strings.Split(res.Text(), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[2], "  commit: ") {
					t.Errorf("Text() = %q", res.Text())
				}
			}
		})
	}
}

func TestRun_CheckoutSameSeedNewTransactions(t *testing.T) {
	var seen [2][]string // the bodies of each run without their transaction ids
	txid := regexp.MustCompile(`,"transaction_id":"[^"]*"`)
	f, srv := newFakeTill(t, testKey, func(f *fakeTill) {
		f.record = func(_ bool, body []byte) { // one worker: bodies arrive in order
			run := 0
			if len(seen[0]) == 100 {
				run = 1
			}
			seen[run] = append(seen[run], txid.ReplaceAllString(string(body), ""))
		}
	})
	for range 2 {
		if _, err := Run(t.Context(), Options{BaseURL: srv.URL, APIKey: testKey, Scenario: ScenarioCommit, Codes: testCodes(10),
			Concurrency: 1, Duration: time.Hour, MaxRequests: 100, Checkout: CheckoutOptions{Seed: 5}}); err != nil {
			t.Fatal(err)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.txids) != 200 {
		t.Errorf("two runs with one seed committed %d distinct transaction ids, want 200", len(f.txids))
	}
	if strings.Join(seen[0], "\n") != strings.Join(seen[1], "\n") || len(seen[1]) != 100 {
		t.Errorf("two runs with one seed sent different baskets")
	}
}

func TestRun_CheckoutFailsFastOnRefusal(t *testing.T) {
	f, srv := newFakeTill(t, testKey, nil)
	err := wait(t, runAsync(t.Context(), Options{BaseURL: srv.URL, APIKey: "wrong key", Scenario: ScenarioCommit,
		Codes: testCodes(5), Concurrency: 4, Duration: time.Hour}))
	if err == nil || !strings.Contains(err.Error(), "probe") || !strings.Contains(err.Error(), "401") {
		t.Fatalf("err = %v, want the probe's 401", err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.commits != 0 {
		t.Errorf("%d commits after a refused probe", f.commits)
	}
}

func TestReadCodes(t *testing.T) {
	got, err := ReadCodes(strings.NewReader("code\n12345670\n\n# comment\n  00000017 \r\n"))
	if err != nil || strings.Join(got, ",") != "12345670,00000017" {
		t.Fatalf("ReadCodes = %q, %v", got, err)
	}
	if _, err := ReadCodes(strings.NewReader("code\n\n")); err == nil {
		t.Fatal("no codes: want an error")
	}
}

func BenchmarkBasketGen(b *testing.B) {
	g := newBasketGen(CheckoutOptions{Store: "S1", Currency: "GBP", Lines: 10, Seed: 1}, ScenarioMixed, 0, encodeMembers(testCodes(1000)))
	for b.Loop() {
		g.next()
	}
}
