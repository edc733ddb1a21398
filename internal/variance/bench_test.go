package variance_test

import (
	"context"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
	"github.com/perk-platform/perk/internal/variance"
)

// BenchmarkView_MillionAudience refreshes the variance view of a campaign
// with 1,000,000 treated members, seven days in, with 50 stores: 168 hours
// of buckets (delivered and engaged per hour, first visits, redemptions
// and revenue per store and hour: 25,536 rows) and its precomputed norm.
// A refresh reads those, never the million members' rows: that is the
// design under test. Besides ns/op it reports this process's CPU per
// refresh (user+sys, getrusage) and, on PostgreSQL, the server backend's
// (the read pool is one connection).
//
//	go test -run '^$' -bench View_MillionAudience -benchtime 50x ./internal/variance/
func BenchmarkView_MillionAudience(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		db := storetest.Engine(b, engine)
		db.R.SetMaxOpenConns(1)
		clk := &clock{t: time.Date(2026, 11, 30, 9, 30, 0, 0, time.UTC)}
		id := millionCampaign(b, db, clk.t.Add(-168*time.Hour))
		camps := campaign.NewService(db, campaign.Options{Now: clk.Now})
		v := variance.NewService(db, camps, variance.Options{Now: clk.Now})
		b.Run(engine, func(b *testing.B) {
			ctx := context.Background()
			cpu, server := testenv.ProcessCPU().Seconds(), testenv.BackendCPU(b, db).Seconds()
			var view *variance.View
			for b.Loop() {
				var err error
				if view, err = v.View(ctx, id); err != nil {
					b.Fatal(err)
				}
			}
			if view.Hours != 168 || len(view.Stages) != 5 || len(view.Stores) != 50 {
				b.Fatalf("view of %d hours, %d stages, %d stores", view.Hours, len(view.Stages), len(view.Stores))
			}
			b.ReportMetric((testenv.ProcessCPU().Seconds()-cpu)*1000/float64(b.N), "cpu-ms/op")
			if engine == "postgres" {
				b.ReportMetric((testenv.BackendCPU(b, db).Seconds()-server)*1000/float64(b.N), "server-cpu-ms/op")
			}
		})
	}
}

// millionCampaign writes a launched campaign of a million treated members,
// its buckets since launch and its norm, straight into the tables.
func millionCampaign(b *testing.B, db *store.DB, launch time.Time) string {
	ctx := context.Background()
	const id, hours, stores = "cmp_million", 168, 50
	spec := `{"name":"Million","start":"` + launch.Format(time.RFC3339) + `","end":"` + launch.Add(14*24*time.Hour).Format(time.RFC3339) +
		`","audience":{"kind":"all"},"benefits":[{"kind":"percent_off","percent":10}],"message":"hi"}`
	_, err := db.W.ExecContext(ctx, `INSERT INTO campaigns (id, name, status, spec, starts_at, ends_at, audience_size, control_size, created_at, updated_at, launched_at)
		VALUES ($1, 'Million', 'active', $2, $3, $4, 1000000, 0, $3, $3, $3)`, id, spec, launch, launch.Add(14*24*time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	tx, err := db.W.Begin()
	if err != nil {
		b.Fatal(err)
	}
	exec := func(q string, args ...any) {
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			b.Fatal(err)
		}
	}
	start := launch.Unix() / 3600
	curve := func(i int, total float64) float64 { return total * (1 - math.Exp(-float64(i+1)/24)) }
	totals := map[variance.Stage]float64{variance.Delivered: 0.92, variance.Engaged: 0.15, variance.FirstVisits: 0.3,
		variance.Redemptions: 0.2, variance.Revenue: 700}
	for _, st := range variance.Stages {
		for i := range 14 * 24 {
			exec(`INSERT INTO variance_norms (campaign_id, stage, hour, per_member, spread) VALUES ($1, $2, $3, $4, 0.1)`, id, string(st), i, curve(i, totals[st]))
		}
	}
	for s := range stores {
		exec(`INSERT INTO variance_store_shares (campaign_id, store_id, share) VALUES ($1, $2, $3)`, id, fmt.Sprintf("S%03d", s+1), 1.0/stores)
	}
	exec(`INSERT INTO variance_norm_info (campaign_id, source, basis, fingerprint, audience, computed_at) VALUES ($1, 'history', '["a","b","c"]', '', 1000000, $2)`, id, launch)
	for i := range hours {
		inc := func(total float64) float64 { return 1e6 * (curve(i, total) - curve(i-1, total)) }
		exec(`INSERT INTO variance_buckets (campaign_id, stage, store_id, hour, n) VALUES ($1, 'delivered', '', $2, $3), ($1, 'engaged', '', $2, $4)`,
			id, start+int64(i), int64(inc(0.92)), int64(inc(0.15)))
		for s := range stores {
			store := fmt.Sprintf("S%03d", s+1)
			exec(`INSERT INTO variance_buckets (campaign_id, stage, store_id, hour, n) VALUES ($1, 'first_visits', $2, $3, $4), ($1, 'redemptions', $2, $3, $5), ($1, 'revenue', $2, $3, $6)`,
				id, store, start+int64(i), int64(inc(0.3)/stores), int64(inc(0.2)/stores), int64(inc(700)/stores))
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return id
}
