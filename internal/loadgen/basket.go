package loadgen

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
)

// The benchmark catalogue: SKUs SKU00001 .. SKU05000, each in one of the
// categories CAT001 .. CAT200 and with one fixed price. It is a function of
// the SKU number alone, not of any seed, so campaigns written for one run
// (20% off CAT017, buy 2 get 1 free on SKU00001 .. SKU00020) match the
// baskets of every run.
const (
	CatalogueSKUs       = 5000
	CatalogueCategories = 200
	minPrice, maxPrice  = 50, 5000 // minor units
)

// SKU returns the code of catalogue product n (1-based), e.g. "SKU00042".
func SKU(n int) string { return string(appendSKU(nil, n)) }

// Category returns the code of category n (1-based), e.g. "CAT017".
func Category(n int) string { return string(appendCategory(nil, n)) }

// SKUCategory is the category of product n: products are dealt round the
// categories, so SKU00001 is in CAT001, SKU00201 in CAT001 again, and the
// most popular products (the lowest numbers) are spread over all of them.
func SKUCategory(n int) int { return (n-1)%CatalogueCategories + 1 }

// SKUPrice is the unit price of product n in minor units, 50 to 5000.
func SKUPrice(n int) int64 {
	return minPrice + int64(mix64(uint64(n))%(maxPrice-minPrice+1))
}

func appendSKU(b []byte, n int) []byte {
	b = append(b, "SKU"...)
	return appendPadded(b, n, 5)
}

func appendCategory(b []byte, n int) []byte {
	b = append(b, "CAT"...)
	return appendPadded(b, n, 3)
}

// appendPadded appends n in decimal with leading zeros to width digits.
func appendPadded(b []byte, n, width int) []byte {
	var d [20]byte
	s := strconv.AppendInt(d[:0], int64(n), 10)
	for i := len(s); i < width; i++ {
		b = append(b, '0')
	}
	return append(b, s...)
}

// mix64 is SplitMix64's finaliser: neighbouring inputs give unrelated outputs.
func mix64(z uint64) uint64 {
	z += 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Shares of the generated traffic, in percent.
const (
	anonymousPercent = 10 // baskets without a member
	mixedCommits     = 20 // ScenarioMixed: commits among the requests
)

// Product popularity: a Zipf law over the catalogue, P(k) ∝ (zipfV+k)^-zipfS,
// so, as in a real shop, a few products are in many baskets (the 100 most
// popular are about 40% of lines) and most are rarely bought.
const (
	zipfS = 1.1
	zipfV = 20
)

// basketGen makes one worker's request bodies. The sequence is a function of
// the seed, the worker number and the scenario only: the same three give the
// same baskets in the same order, whatever the server answers (transaction
// ids also carry the run id). Evaluate and
// commit runs with one seed send the same baskets (commits add a
// transaction id); a mixed run draws which to send from the same stream, so
// its baskets differ.
type basketGen struct {
	rng       *rand.Rand
	zipf      *rand.Zipf
	lines     int
	mixed     bool // draw evaluate or commit for each basket
	commit    bool // every basket is a commit (when not mixed)
	anonymous int  // percent of baskets without a member

	// Pre-encoded JSON: `"store":"S1",` (or nothing), `"terminal":"bench-3"`
	// and the member pool, each code as a JSON string.
	head    []byte
	members [][]byte
	txid    []byte // "bench-<seed>-<run>-<worker>-": the counter follows

	n     uint64                            // baskets made so far, for transaction ids
	taken [(CatalogueSKUs + 64) / 64]uint64 // products in the current basket
	picks []int
	size  int // the last body's length, to size the next
}

// newBasketGen returns worker's generator. members are pre-encoded JSON
// strings (encodeMembers) and shared read-only between workers.
func newBasketGen(opt CheckoutOptions, sc Scenario, worker int, members [][]byte) *basketGen {
	rng := rand.New(rand.NewPCG(uint64(opt.Seed), mix64(uint64(worker))))
	g := &basketGen{
		rng:       rng,
		zipf:      rand.NewZipf(rng, zipfS, zipfV, CatalogueSKUs-1),
		lines:     opt.Lines,
		mixed:     sc == ScenarioMixed,
		commit:    sc == ScenarioCommit,
		anonymous: anonymousPercent,
		members:   members,
		picks:     make([]int, 0, opt.Lines),
	}
	if len(members) == 0 {
		g.anonymous = 100
	}
	g.head = append(g.head, '{')
	if opt.Store != "" {
		g.head = append(g.head, `"store":`...)
		g.head = appendJSONString(g.head, opt.Store)
		g.head = append(g.head, ',')
	}
	g.head = append(g.head, `"terminal":"bench-`...)
	g.head = strconv.AppendInt(g.head, int64(worker), 10)
	g.head = append(g.head, `","currency":`...)
	g.head = appendJSONString(g.head, opt.Currency)
	g.txid = append(g.txid, "bench-"...)
	g.txid = strconv.AppendUint(g.txid, uint64(opt.Seed), 36)
	g.txid = append(g.txid, '-')
	g.txid = append(g.txid, opt.RunID...)
	g.txid = append(g.txid, '-')
	g.txid = strconv.AppendInt(g.txid, int64(worker), 10)
	g.txid = append(g.txid, '-')
	return g
}

// encodeMembers turns member codes into JSON strings once for all workers.
func encodeMembers(codes []string) [][]byte {
	out := make([][]byte, len(codes))
	for i, c := range codes {
		out[i] = appendJSONString(nil, c)
	}
	return out
}

func appendJSONString(b []byte, s string) []byte {
	q, _ := json.Marshal(s) // a string always encodes
	return append(b, q...)
}

// next returns the next body and whether it is a commit. Each body is a new
// slice: net/http may still be reading a request body after the answer has
// come back, so a buffer must not be reused.
func (g *basketGen) next() ([]byte, bool) {
	commit := g.commit
	if g.mixed {
		commit = g.rng.IntN(100) < mixedCommits
	}
	var member []byte
	if g.rng.IntN(100) >= g.anonymous {
		member = g.members[g.rng.IntN(len(g.members))]
	}
	g.n++
	b := append(make([]byte, 0, g.size+64), g.head...)
	if member != nil {
		b = append(b, `,"member":`...)
		b = append(b, member...)
	}
	if commit {
		b = append(b, `,"transaction_id":"`...)
		b = append(b, g.txid...)
		b = strconv.AppendUint(b, g.n, 10)
		b = append(b, '"')
	}
	b = append(b, `,"items":[`...)
	for line, sku := range g.pick() {
		if line > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"line":`...)
		b = strconv.AppendInt(b, int64(line+1), 10)
		b = append(b, `,"sku":"`...)
		b = appendSKU(b, sku)
		b = append(b, `","categories":["`...)
		b = appendCategory(b, SKUCategory(sku))
		b = append(b, `"],"quantity":`...)
		b = strconv.AppendInt(b, int64(g.quantity()), 10)
		b = append(b, `,"unit_price":`...)
		b = strconv.AppendInt(b, SKUPrice(sku), 10)
		b = append(b, '}')
	}
	b = append(b, "]}"...)
	g.size = len(b)
	return b, commit
}

// pick draws the basket's products: lines distinct products by popularity.
func (g *basketGen) pick() []int {
	for _, p := range g.picks {
		g.taken[p/64] &^= 1 << (p % 64)
	}
	g.picks = g.picks[:0]
	for len(g.picks) < g.lines {
		p := int(g.zipf.Uint64()) + 1
		if g.taken[p/64]&(1<<(p%64)) != 0 {
			continue // already in the basket: a till rings a second unit on the same line
		}
		g.taken[p/64] |= 1 << (p % 64)
		g.picks = append(g.picks, p)
	}
	return g.picks
}

// quantity is 1 for 60% of lines, 2 for 25%, 3 for 15%.
func (g *basketGen) quantity() int {
	switch q := g.rng.IntN(100); {
	case q < 60:
		return 1
	case q < 85:
		return 2
	}
	return 3
}
