package checkout_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/catalogue"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
)

// The catalogue benchmark's shop: 100,000 products in 20 departments of
// 10 categories ("d07/c071"), 20 campaigns scoped to departments or
// categories, anonymous 50-line baskets.
const (
	benchProducts = 100_000
	benchDepts    = 20
)

func benchProductCats(i int) []string {
	d := i % benchDepts
	return []string{fmt.Sprintf("d%02d/c%02d%d", d, d, i/benchDepts%10)}
}

// benchCheckout is a checkout over SQLite with the campaigns launched and,
// if withCatalogue, the 100,000 products loaded.
func benchCheckout(b *testing.B, withCatalogue bool) *checkout.Service {
	b.Helper()
	ctx := context.Background()
	db := storetest.SQLite(b)
	clk := testenv.NewClock(time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC))
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ms := member.NewService(db, member.Options{Region: "GB", PublicURL: "https://perk.test", Programme: "Bench", Now: clk.Now, Log: log})
	camps := campaign.NewService(db, campaign.Options{Zone: time.UTC, PublicURL: "https://perk.test", Programme: "Bench", Now: clk.Now, Log: log})
	for i := range 20 {
		scope := fmt.Sprintf("d%02d", i) // a department: matches its categories through the tree
		if i%2 == 1 {
			scope = fmt.Sprintf("d%02d/c%02d%d", i, i, i%10)
		}
		c, err := camps.Create(ctx, campaign.Spec{Name: fmt.Sprint("Bench ", i), Start: "2026-11-01T00:00:00Z", End: "2027-01-01T00:00:00Z",
			Audience: campaign.Audience{Kind: campaign.AudienceOpen},
			Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 5 + i%10, Scope: engine.Scope{Categories: []string{scope}}}}})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := camps.Launch(ctx, c.ID); err != nil {
			b.Fatal(err)
		}
	}
	opt := checkout.Options{Currency: "GBP", BaseEarn: 1, Now: clk.Now, Log: log}
	if withCatalogue {
		cat := catalogue.New(db, catalogue.Options{Currency: "GBP", Now: clk.Now})
		if err := cat.PutStore(ctx, catalogue.Store{ID: "S1", Name: "One", Timezone: "Europe/London"}); err != nil {
			b.Fatal(err)
		}
		ps := make([]catalogue.Product, 0, catalogue.MaxProductsPerPut)
		for i := range benchProducts {
			ps = append(ps, catalogue.Product{SKU: fmt.Sprintf("P%06d", i), Name: fmt.Sprint("Product ", i), Categories: benchProductCats(i),
				Barcodes: []string{fmt.Sprintf("50%011d", i)}})
			if len(ps) == cap(ps) {
				if errs, err := cat.PutProducts(ctx, ps); err != nil || errs != nil {
					b.Fatal(err, errs)
				}
				ps = ps[:0]
			}
		}
		opt.Catalogue = cat
	}
	return checkout.NewService(db, ms, camps, ledger.New(db, ledger.Policy{}, clk.Now), opt)
}

// benchRequests are anonymous 50-line baskets, 70% of lines from the 1,000
// best sellers and the rest from anywhere in the catalogue (uniform: every
// line anywhere, the worst case for the caches); with categories, each line
// carries what a till would have to send to get the same offers without a
// catalogue: its category and its department.
func benchRequests(n int, categories, uniform bool) []*checkout.Request {
	r := rand.New(rand.NewPCG(3, 3))
	out := make([]*checkout.Request, n)
	for k := range out {
		req := &checkout.Request{Store: "S1", Currency: "GBP"}
		for l := range 50 {
			i := r.IntN(benchProducts)
			if !uniform && r.IntN(10) < 7 {
				i = r.IntN(1000) * (benchProducts / 1000)
			}
			it := checkout.Item{Line: l + 1, SKU: fmt.Sprintf("P%06d", i), Quantity: 1 + r.IntN(3), UnitPrice: int64(50 + r.IntN(2000))}
			if categories {
				it.Categories = catalogue.Expand(benchProductCats(i))
			}
			req.Items = append(req.Items, it)
		}
		out[k] = req
	}
	return out
}

// BenchmarkEvaluate_Catalogue compares the till's evaluate as it was (the
// till sends each line's categories, no catalogue) with SKU-only lines
// whose categories come from a 100,000-product catalogue in memory.
func BenchmarkEvaluate_Catalogue(b *testing.B) {
	for _, bc := range []struct {
		name                              string
		withCatalogue, sendsCats, uniform bool
	}{
		{"categories_sent_no_catalogue", false, true, false},
		{"sku_only_100k_catalogue", true, false, false},
		{"categories_sent_100k_catalogue", true, true, false},
		{"uniform/categories_sent_no_catalogue", false, true, true},
		{"uniform/sku_only_100k_catalogue", true, false, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			co := benchCheckout(b, bc.withCatalogue)
			reqs := benchRequests(256, bc.sendsCats, bc.uniform)
			ctx := context.Background()
			var discount int64
			b.ReportAllocs()
			runtime.GC() // the set-up's garbage is not the baskets'
			cpu0 := cpuTime()
			n := 0
			for i := 0; b.Loop(); i++ {
				n++
				r, err := co.Evaluate(ctx, reqs[i%len(reqs)], false)
				if err != nil {
					b.Fatal(err)
				}
				discount += r.TotalDiscount
			}
			// CPU per basket (all goroutines, GC included): on a shared
			// machine wall time per op says more about the neighbours.
			b.ReportMetric(float64(cpuTime()-cpu0)/float64(n), "cpu-ns/op")
			if discount == 0 {
				b.Fatal("no offer matched: the benchmark measures nothing")
			}
		})
	}
}

// cpuTime is the CPU time this process has used, user and system, in ns.
func cpuTime() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}
