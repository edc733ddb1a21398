package webhook_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/crm"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/webhook"
)

// BenchmarkTillCommit measures the till's commits a second (4 tills at
// once, a member and a campaign on every basket) without webhooks and with
// an endpoint subscribed to every event type, so that each commit writes
// three outbox rows (transaction.committed, offer.redeemed, points.changed),
// with and without a dispatcher delivering them to a local receiver.
func BenchmarkTillCommit(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		for _, mode := range []string{"none", "outbox", "delivering", "crmfeed"} {
			b.Run(engine+"/webhooks="+mode, func(b *testing.B) { benchCommit(b, engine, mode) })
		}
	}
}

// benchCommit runs the tills with mode none (no endpoint), outbox (an
// endpoint, its deliveries recorded but no dispatcher: the commit path's own
// cost), delivering (the dispatcher running too) or crmfeed (no endpoint,
// the CRM feed's log recording every change, as perk serve does).
func benchCommit(b *testing.B, engineName, mode string) {
	hooks := mode == "outbox" || mode == "delivering"
	db, server := benchDB(b, engineName)
	ctx := context.Background()
	var rec change.Recorder
	var rcv *benchReceiver
	if hooks {
		var svc *webhook.Service
		svc, rcv = countingEndpoint(b, db, change.Types...)
		rec = svc
		if mode == "delivering" {
			defer runDispatcher(svc)()
		}
	}
	if mode == "crmfeed" {
		rec = crm.NewFeed(db, time.Now)
	}
	w := newWorld(b, db, rec, time.Now, engine.Benefit{Kind: engine.PercentOff, Percent: 10})
	members, till := w.members, w.till
	const shoppers = 64
	codes := make([]string, shoppers)
	for i := range codes {
		e, err := members.Enrol(ctx, member.EnrolRequest{Profile: member.Profile{Phone: fmt.Sprintf("+4477009%05d", i)},
			Channel: member.ChannelAPI, Consent: true})
		if err != nil {
			b.Fatal(err)
		}
		codes[i] = string(e.Member.Code)
	}
	var seq atomic.Int64
	b.SetParallelism(2) // 2 x GOMAXPROCS tills
	b.ResetTimer()
	var before int64
	if rcv != nil {
		before = rcv.got.Load()
	}
	cpu := startCPU(server, rcv)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			n := seq.Add(1)
			_, err := till.Commit(ctx, &checkout.Request{Store: "S1", Terminal: "T1", Member: checkout.Key(codes[n%shoppers]),
				Currency: "GBP", TransactionID: fmt.Sprintf("T-%d", n),
				Items: []checkout.Item{{Line: 1, SKU: "A", Quantity: 2, UnitPrice: 1000}, {Line: 2, SKU: "B", Quantity: 1, UnitPrice: 450}}})
			if err != nil {
				b.Error(err)
				return
			}
		}
	})
	cpu.stop()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/cpu.Wall.Seconds(), "commits/s")
	// CPU per commit: with a dispatcher running, its deliveries' CPU is
	// counted in too (the receiver's apart).
	cpu.report(b, b.N, "commit")
	if mode == "delivering" {
		n := rcv.got.Load() - before
		b.ReportMetric(float64(n)/cpu.Wall.Seconds(), "deliveries/s")
		b.ReportMetric(float64(n)/float64(b.N), "deliveries/commit")
	}
}
