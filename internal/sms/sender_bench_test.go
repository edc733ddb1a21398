package sms_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/sms/sim"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// BenchmarkSender measures the queue end to end with the simulator, which
// accepts at once: enqueue 5,000 transactional messages, then claim, send
// and record them all, and apply their receipts. It reports messages/s of
// the sending part; the SMPP figures are in docs/benchmarks.md.
func BenchmarkSender(b *testing.B) {
	const n = 5000
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			sent := 0
			for b.Loop() {
				b.StopTimer()
				db := storetest.Engine(b, engine)
				ctx := context.Background()
				now := time.Now().UTC()
				tx, _ := db.W.Begin()
				for i := 0; i < n; i++ {
					if _, err := sms.Enqueue(ctx, tx, sms.Outbound{To: fmt.Sprintf("+4474%08d", i), Body: "Your code is 96385074",
						Kind: sms.Transactional, Purpose: "bench"}, now.Add(time.Duration(i)*time.Microsecond)); err != nil {
						b.Fatal(err)
					}
				}
				tx.Commit()
				gw := sim.New(nil)
				q := sms.NewQueue(db, nil, time.Minute, 3)
				s := sms.NewSender(q, gw, nil, quiet, nil)
				s.Batch = 200
				b.StartTimer()
				for {
					k, err := s.Once(ctx)
					if err != nil {
						b.Fatal(err)
					}
					// As Sender.Run does: the waiting receipts in one batch.
					var rs []sms.Receipt
					for len(gw.Receipts()) > 0 {
						rs = append(rs, <-gw.Receipts())
					}
					if err := q.DeliveredBatch(ctx, rs); err != nil {
						b.Fatal(err)
					}
					if k == 0 {
						break
					}
					sent += k
				}
			}
			b.ReportMetric(float64(sent)/b.Elapsed().Seconds(), "msgs/s")
		})
	}
}
