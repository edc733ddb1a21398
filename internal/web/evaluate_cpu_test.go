package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/web"
)

// TestEvaluate_CPUPerRequest_InTheServer drives POST /v1/checkout/evaluate
// through the real HTTP server as perk bench checkout --scenario evaluate
// does: 16 tills, ten campaigns of the kinds docs/benchmarks.md lists,
// 10-line baskets from a 200-SKU shop, one in ten anonymous. It logs
// requests a second and the CPU per request of this process (client and
// server together: run it with -cpuprofile to see the server's share). It
// is a measurement, run only with PERK_BENCH_EVALUATE=1 (PERK_BENCH_EVALUATE_N
// requests, default 20,000); it fails if a request fails.
func TestEvaluate_CPUPerRequest_InTheServer(t *testing.T) {
	if os.Getenv("PERK_BENCH_EVALUATE") == "" {
		t.Skip("a measurement: set PERK_BENCH_EVALUATE=1")
	}
	n := 20000
	if v, err := strconv.Atoi(os.Getenv("PERK_BENCH_EVALUATE_N")); err == nil && v > 0 {
		n = v
	}
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			// As perk serve --till-lookup-rate 0: one pos key at thousands
			// of look-ups a second is what the limit exists to stop.
			e := newEnv(t, storetest.Engine(t, name), func(o *web.Options) { o.LookupLimit = web.LookupLimit{Rate: 0, Burst: 1} })
			codes := evaluateBenchWorld(t, e)
			bodies := make([][]byte, 1024)
			r := mrand.New(mrand.NewPCG(1, 7))
			for i := range bodies {
				bodies[i] = evaluateBenchBasket(r, codes)
			}
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}
			var seq atomic.Int64
			var failed atomic.Value
			var wg sync.WaitGroup
			cpu0, wall0 := processCPU(), time.Now()
			for range 16 {
				wg.Go(func() {
					for {
						i := seq.Add(1)
						if i > int64(n) {
							return
						}
						req, _ := http.NewRequest("POST", e.url+"/v1/checkout/evaluate", bytes.NewReader(bodies[i%int64(len(bodies))]))
						req.Header.Set("Authorization", "Bearer "+e.keys[auth.RolePOS])
						req.Header.Set("Content-Type", "application/json")
						res, err := client.Do(req)
						if err != nil {
							failed.Store(err)
							return
						}
						body, _ := io.ReadAll(res.Body)
						res.Body.Close()
						if res.StatusCode != http.StatusOK {
							failed.Store(fmt.Errorf("evaluate: %d %s", res.StatusCode, body))
							return
						}
					}
				})
			}
			wg.Wait()
			wall, cpu := time.Since(wall0), processCPU()-cpu0
			if err, _ := failed.Load().(error); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %d evaluates in %s: %.0f req/s, %.0f µs CPU per request (client and server, this process)",
				name, n, wall.Round(time.Millisecond), float64(n)/wall.Seconds(), float64(cpu.Microseconds())/float64(n))
		})
	}
}

// processCPU is this process's user+system CPU so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// evaluateBenchWorld launches the ten campaigns of the till benchmarks and
// enrols 200 members, returning their codes.
func evaluateBenchWorld(t *testing.T, e *env) []string {
	t.Helper()
	ctx := context.Background()
	cats := func(from, to int) []string {
		var out []string
		for i := from; i < to; i++ {
			out = append(out, fmt.Sprintf("c%02d", i))
		}
		return out
	}
	skus := func(from, to int) []string {
		var out []string
		for i := from; i < to; i++ {
			out = append(out, fmt.Sprintf("S%03d", i))
		}
		return out
	}
	specs := []campaign.Spec{
		{Name: "10% off ten categories", Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 10, Scope: engine.Scope{Categories: cats(0, 10)}}}},
		{Name: "20% off two", Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 20, Scope: engine.Scope{Categories: cats(10, 12)}}}},
		{Name: "5 pounds off at 50", Benefits: []engine.Benefit{{Kind: engine.SpendThreshold, Threshold: 5000, Amount: 500}},
			Limits: campaign.Limits{PerMember: 50}},
		{Name: "10 pounds off at 150", Benefits: []engine.Benefit{{Kind: engine.SpendThreshold, Threshold: 15000, Amount: 1000}}},
		{Name: "3 for 2", Benefits: []engine.Benefit{{Kind: engine.BuyXGetY, Buy: 2, Get: 1, Scope: engine.Scope{SKUs: skus(20, 40)}}}},
		{Name: "second half price", Benefits: []engine.Benefit{{Kind: engine.BuyXGetY, Buy: 1, Get: 1, Percent: 50, Scope: engine.Scope{SKUs: skus(40, 60)}}}},
		{Name: "double points", Benefits: []engine.Benefit{{Kind: engine.PointsMultiplier, Multiplier: 2}}},
		{Name: "100 bonus points", Benefits: []engine.Benefit{{Kind: engine.PointsBonus, Points: 100}},
			Conditions: engine.Conditions{RequireCategories: cats(3, 4)}},
		{Name: "5% off at 200, budgeted", Benefits: []engine.Benefit{{Kind: engine.SpendThreshold, Threshold: 20000, Percent: 5}},
			Limits: campaign.Limits{Budget: 1_000_000_000}},
		{Name: "40% off three", Exclusive: true, Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 40, Scope: engine.Scope{SKUs: skus(197, 200)}}}},
	}
	now := time.Now().UTC()
	for _, spec := range specs {
		spec.Start, spec.End = now.Add(-time.Hour).Format(time.RFC3339), now.Add(30*24*time.Hour).Format(time.RFC3339)
		spec.Audience.Kind = campaign.AudienceAll
		c, err := e.campaigns.Create(ctx, spec)
		if err != nil {
			t.Fatalf("create %s: %v", spec.Name, err)
		}
		if _, err := e.campaigns.Launch(ctx, c.ID); err != nil {
			t.Fatalf("launch %s: %v", spec.Name, err)
		}
	}
	var codes []string
	for i := range 200 {
		en, err := e.members.Enrol(ctx, member.EnrolRequest{Profile: member.Profile{Phone: fmt.Sprintf("+447700%06d", 900000+i)},
			Channel: member.ChannelAPI, Consent: true})
		if err != nil {
			t.Fatal(err)
		}
		codes = append(codes, string(en.Member.Code))
	}
	return codes
}

// evaluateBenchBasket is the JSON of a 10-line basket as a till sends it.
func evaluateBenchBasket(r *mrand.Rand, codes []string) []byte {
	type line struct {
		Line       int      `json:"line"`
		SKU        string   `json:"sku"`
		Quantity   int      `json:"quantity"`
		UnitPrice  int64    `json:"unit_price"`
		Categories []string `json:"categories"`
	}
	b := struct {
		Member   string `json:"member,omitempty"`
		Currency string `json:"currency"`
		Items    []line `json:"items"`
	}{Currency: "GBP"}
	if r.IntN(10) > 0 {
		b.Member = codes[r.IntN(len(codes))]
	}
	for i := range 10 {
		s := r.IntN(200)
		b.Items = append(b.Items, line{i + 1, fmt.Sprintf("S%03d", s), 1 + r.IntN(3), int64(100 + s*15), []string{fmt.Sprintf("c%02d", s%12)}})
	}
	out, _ := json.Marshal(b)
	return out
}
