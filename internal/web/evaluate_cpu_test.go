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
	"github.com/perk-platform/perk/internal/checkout/checkouttest"
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

// evaluateBenchWorld launches the ten campaigns of the till benchmarks
// (checkouttest.TenCampaigns) and enrols 200 members, returning their codes.
func evaluateBenchWorld(t *testing.T, e *env) []string {
	t.Helper()
	ctx := context.Background()
	now := time.Now().UTC()
	for _, spec := range checkouttest.TenCampaigns(now.Add(-time.Hour).Format(time.RFC3339), now.Add(30*24*time.Hour).Format(time.RFC3339)) {
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
