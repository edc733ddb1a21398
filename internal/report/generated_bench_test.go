package report_test

import (
	"context"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/report"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/testenv"
)

// BenchmarkReport_Generated times the campaign report (three campaigns, the
// latest to end) and the overview on a database filled by perk bench
// gen-data, named by PERK_REPORT_BENCH_DB (a SQLite path or postgres://...),
// in process, so the CPU per call is the report's alone (a server would add
// its background workers'). The read pool has one connection, so on
// PostgreSQL one backend serves every query and its CPU is read from /proc;
// the parts of a report then run one after another (ms/op is their sum).
// The database is migrated first (0048 backfills the roll-up, untimed).
func BenchmarkReport_Generated(b *testing.B) {
	dsn := os.Getenv("PERK_REPORT_BENCH_DB")
	if dsn == "" {
		b.Skip("PERK_REPORT_BENCH_DB is not set")
	}
	ctx := context.Background()
	db, err := store.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	db.R.SetMaxOpenConns(1)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	now := time.Now
	cs := campaign.NewService(db, campaign.Options{Zone: time.UTC, PublicURL: "https://perk.test", Programme: "Bench", Now: now, Log: log})
	rs := report.NewService(db, cs, now)
	ids := []string{}
	rows, err := db.R.QueryContext(ctx, `SELECT id FROM campaigns ORDER BY ends_at DESC, id LIMIT 3`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			b.Fatal(err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	calls := map[string]func() error{"overview": func() error {
		_, err := report.ProgrammeOverview(ctx, db, now(), time.UTC, 14)
		return err
	}}
	for _, id := range ids {
		calls["campaign/"+id] = func() error {
			_, err := rs.Campaign(ctx, id, report.Options{})
			return err
		}
	}
	for _, name := range append(append([]string{}, "overview"), func() []string {
		out := []string{}
		for _, id := range ids {
			out = append(out, "campaign/"+id)
		}
		return out
	}()...) {
		b.Run(name, func(b *testing.B) {
			call := calls[name]
			if err := call(); err != nil { // warm the pool's statements
				b.Fatal(err)
			}
			b.ResetTimer()
			proc0, db0 := testenv.ProcessCPU(), testenv.BackendCPU(b, db)
			for range b.N {
				if err := call(); err != nil {
					b.Fatal(err)
				}
			}
			proc, dbc := testenv.ProcessCPU()-proc0, testenv.BackendCPU(b, db)-db0
			b.ReportMetric(float64(proc.Microseconds())/1000/float64(b.N), "proc-cpu-ms/op")
			b.ReportMetric(float64(dbc.Microseconds())/1000/float64(b.N), "db-cpu-ms/op")
		})
	}
}
