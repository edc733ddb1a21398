package crm_test

import (
	"context"
	"database/sql"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/crm"
	"github.com/perk-platform/perk/internal/outfile"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// BenchmarkExport writes every feed of a log of 100,000 changes (members
// created, consents, commits, redemptions and points movements of 20,000
// members), as perk crm export does; one op is one whole export.
func BenchmarkExport(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			db := storetest.Engine(b, engine)
			ctx := context.Background()
			feed := crm.NewFeed(db, nil)
			const members = 20000
			for start := 0; start < members; start += 1000 {
				var events []change.Event
				for i := start; i < start+1000; i++ {
					id, tx := "mem_"+strconv.Itoa(i), "T-"+strconv.Itoa(i)
					events = append(events,
						change.Event{Type: change.MemberCreated, MemberID: id},
						change.Event{Type: change.ConsentChanged, MemberID: id, Data: map[string]any{"status": "active", "action": "granted", "method": "api"}},
						change.Event{Type: change.TransactionCommitted, MemberID: id, Data: map[string]any{"transaction_id": tx, "store": "S1", "total": 2400}},
						change.Event{Type: change.OfferRedeemed, MemberID: id, Data: map[string]any{"transaction_id": tx, "store": "S1", "campaign_id": "cmp_1", "discount": 100}},
						change.Event{Type: change.PointsChanged, MemberID: id, Data: map[string]any{"points": 24, "entries": []map[string]any{{"id": "pe_" + tx, "kind": "earn", "points": 24}}}})
				}
				if err := db.Tx(ctx, func(tx *sql.Tx) error { return feed.Record(ctx, tx, events...) }); err != nil {
					b.Fatal(err)
				}
			}
			exp := crm.NewExporter(db, nil)
			b.ResetTimer()
			start, cpu := time.Now(), cpuTime()
			var rows int64
			for range b.N {
				m, err := exp.Export(ctx, b.TempDir(), "", outfile.CSV, time.Minute)
				if err != nil {
					b.Fatal(err)
				}
				for _, f := range m.Files {
					rows += f.Rows
				}
			}
			b.ReportMetric(float64(rows)/time.Since(start).Seconds(), "rows/s")
			b.ReportMetric(float64((cpuTime()-cpu).Microseconds())/float64(rows), "cpu-us/row")
		})
	}
}

// cpuTime is the process's user+sys CPU time so far: the machine is shared,
// so CPU per row says more than the rate.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
