package nbo_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/nbo"
	"github.com/perk-platform/perk/internal/store/storetest"
)

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkRank_200OfferPool ranks the next best offers of one member
// against a 200-offer pool (20 categories), with the member's 30 baskets,
// the history of 20 other shoppers and the mined rules, on each database:
// what GET /v1/members/{key}/next-best-offers does in the server. It
// reports the 50th and 99th percentile of the calls and the process's CPU
// (user + sys, getrusage) per call.
func BenchmarkRank_200OfferPool(b *testing.B) {
	for _, engineName := range []string{"sqlite", "postgres"} {
		b.Run(engineName, func(b *testing.B) {
			ctx := context.Background()
			w := newWorld(b, storetest.Engine(b, engineName))
			rnd := rand.New(rand.NewPCG(3, 4))
			cats := make([]string, 20)
			for i := range cats {
				cats[i] = fmt.Sprintf("cat%02d", i)
			}
			me := w.enrol(b, 0)
			for range 30 {
				w.clk.Advance(24 * time.Hour)
				w.buy(b, me, cats[rnd.IntN(5)], cats[rnd.IntN(20)], cats[rnd.IntN(20)])
			}
			for i := 1; i <= 20; i++ {
				m := w.enrol(b, i)
				for range 5 {
					w.buy(b, m, cats[rnd.IntN(20)], cats[rnd.IntN(20)])
				}
			}
			var pool []nbo.Offer
			for i := range 200 {
				pool = append(pool, offer(fmt.Sprintf("Offer %03d", i), cats[i%20],
					engine.Benefit{Kind: engine.AmountOff, Amount: int64(20 + i)}, int64(20+i), w.clk.Now(), 30))
			}
			if _, err := w.nbo.PutPool(ctx, pool, true); err != nil {
				b.Fatal(err)
			}
			if _, err := w.nbo.MineRules(ctx, nbo.Thresholds{MinSupport: 0.01, MinConfidence: 0.05, MinBaskets: 2}); err != nil {
				b.Fatal(err)
			}
			if _, err := w.nbo.Rank(ctx, me, 5); err != nil { // reads the model once
				b.Fatal(err)
			}
			var took []time.Duration
			cpu0 := cpuTime()
			for b.Loop() {
				t := time.Now()
				got, err := w.nbo.Rank(ctx, me, 5)
				took = append(took, time.Since(t))
				if err != nil || len(got) != 5 {
					b.Fatalf("rank: %d offers, %v", len(got), err)
				}
			}
			cpu := cpuTime() - cpu0
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(took[min(len(took)-1, len(took)*99/100)].Microseconds())/1000, "p99-ms")
			b.ReportMetric(float64(cpu.Microseconds())/1000/float64(len(took)), "cpu-ms/op")
		})
	}
}
