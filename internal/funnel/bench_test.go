package funnel

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// BenchmarkBuyPipeline runs a campaign's buy pipeline over a stream of
// PERK_BENCH_FUNNEL_EVENTS events (default 200,000; docs/benchmarks.md has
// 1,000,000), ten per person over 30 days, a fifth of them texts of one of
// ten campaigns. Generating the stream is not timed.
//
//	PERK_BENCH_FUNNEL_EVENTS=1000000 go test -run '^$' -bench BuyPipeline -benchtime 3x -timeout 1h ./internal/funnel/
func BenchmarkBuyPipeline(b *testing.B) {
	n := 200_000
	if v, err := strconv.Atoi(os.Getenv("PERK_BENCH_FUNNEL_EVENTS")); err == nil && v > 0 {
		n = v
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(fmt.Sprintf("%s/%d", engine, n), func(b *testing.B) {
			db := storetest.Engine(b, engine)
			bigWorld(b, db, n)
			s := NewService(db, nil)
			def := BuyPipeline("c3", 7*24*time.Hour)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				r, err := s.Run(context.Background(), def, t0, t0.Add(30*24*time.Hour))
				if err != nil || r.Groups[0].Steps[0].Count == 0 {
					b.Fatal(err, r)
				}
			}
		})
	}
}

func bigWorld(b *testing.B, db *store.DB, n int) {
	b.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	types := []string{event.PageViewed, event.PageViewed, event.ProductViewed, event.LinkClicked, event.CardViewed,
		event.CartUpdated, event.BasketCommitted, event.OrderPlaced, event.SMSDelivered, event.SMSDelivered}
	batch := make([]event.Event, 0, event.MaxBatch)
	flush := func() {
		err := db.Tx(context.Background(), func(tx *sql.Tx) error { return event.Record(context.Background(), tx, db.Dialect, batch...) })
		if err != nil {
			b.Fatal(err)
		}
		batch = batch[:0]
	}
	for i := 0; i < n; i++ {
		p := i / 10
		e := event.Event{EventID: strconv.Itoa(i), Type: types[r.IntN(len(types))], Channel: event.Web,
			Time: t0.Add(time.Duration(r.IntN(30*24*3600)) * time.Second), MemberID: fmt.Sprintf("mem_%07d", p)}
		if e.Type == event.SMSDelivered {
			e.Campaign = fmt.Sprintf("c%d", r.IntN(10))
		}
		batch = append(batch, e)
		if len(batch) == event.MaxBatch {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
	if db.Dialect == store.Postgres {
		db.W.Exec(`ANALYZE events`)
	} else {
		db.W.Exec(`ANALYZE`)
	}
}
