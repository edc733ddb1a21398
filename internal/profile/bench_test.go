package profile_test

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/profile"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
)

// BenchmarkRefresh runs the full refresh over PERK_BENCH_PROFILE_MEMBERS
// members (default 20,000) with five baskets each on average (two lines a
// basket, over 400 days, 1% voided, one in twenty with a unit returned),
// a points earning and lot per member, on both engines
// (PERK_BENCH_PROFILE_ENGINES, default "sqlite,postgres"). The history is
// generated in bulk by SQL straight into the tables, not through the till,
// and is logged with its time. Besides ns/op it reports this process's CPU
// seconds per refresh (user+sys, getrusage) and, on PostgreSQL, the server
// backend's: the pool is one connection with parallel query off, so one
// backend does all the work (read from /proc). The refresh logs its phase
// timings (fold, upsert, cuts, score, events) at Debug on stderr.
//
//	PERK_BENCH_PROFILE_MEMBERS=1000000 go test -run '^$' -bench Refresh -benchtime 1x -timeout 3h ./internal/profile/
func BenchmarkRefresh(b *testing.B) {
	n := 20_000
	if v, err := strconv.Atoi(os.Getenv("PERK_BENCH_PROFILE_MEMBERS")); err == nil && v > 0 {
		n = v
	}
	engines := "sqlite,postgres"
	if v := os.Getenv("PERK_BENCH_PROFILE_ENGINES"); v != "" {
		engines = v
	}
	for _, engine := range strings.Split(engines, ",") {
		db := storetest.Engine(b, engine)
		now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		start := time.Now()
		baskets := generate(b, db, n, now)
		b.Logf("%s: wrote %d members, %d baskets in %s", engine, n, baskets, time.Since(start).Round(time.Millisecond))
		s := profile.NewService(db, profile.Options{Now: func() time.Time { return now }},
			slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})))
		b.Run(fmt.Sprintf("%s/%d", engine, n), func(b *testing.B) {
			ctx := context.Background()
			cpu, server := testenv.ProcessCPU().Seconds(), serverCPU(b, engine)
			b.ResetTimer()
			var res profile.Result
			for range b.N {
				var err error
				if res, err = s.Refresh(ctx); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric((testenv.ProcessCPU().Seconds()-cpu)/float64(b.N), "cpu-s/op")
			if engine == "postgres" {
				b.ReportMetric((serverCPU(b, engine)-server)/float64(b.N), "server-cpu-s/op")
			}
			b.Logf("%d members, %d scored, %d entered a segment", res.Members, res.Scored, res.Entered)
		})
	}
}

// generate writes n members and about 5n baskets by SQL, returning the
// baskets written.
func generate(b testing.TB, db *store.DB, n int, now time.Time) int64 {
	b.Helper()
	seq := func(count string) string {
		if db.Dialect == store.Postgres {
			return `(SELECT generate_series AS i FROM generate_series(CAST(1 AS BIGINT), ` + count + `)) s`
		}
		return `(WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < ` + count + `) SELECT i FROM r) s`
	}
	// ts is the timestamp secs seconds before now, in each engine's stored form.
	ts := func(secs string) string {
		if db.Dialect == store.Postgres {
			return `(TIMESTAMPTZ '` + now.Format(time.RFC3339) + `' - (` + secs + `) * INTERVAL '1 second')`
		}
		return `(strftime('%Y-%m-%d %H:%M:%S', ` + strconv.FormatInt(now.Unix(), 10) + ` - (` + secs + `), 'unixepoch') || '+00:00')`
	}
	pad := func(col string, w int) string {
		if db.Dialect == store.Postgres {
			return `lpad(CAST(` + col + ` AS TEXT), ` + strconv.Itoa(w) + `, '0')`
		}
		return `substr('000000000000' || ` + col + `, -` + strconv.Itoa(w) + `)`
	}
	nb := int64(n) * 5
	cats := `CASE s.i % 5 WHEN 0 THEN '["food","food/bakery"]' WHEN 1 THEN '["drinks","drinks/coffee"]' WHEN 2 THEN '["home"]'
		WHEN 3 THEN '["food","food/dairy"]' ELSE '["drinks","drinks/tea"]' END`
	stmts := []string{
		`INSERT INTO stores (id, name, timezone, created_at) SELECT 'S' || s.i, 'Store', 'UTC', ` + ts("0") + ` FROM ` + seq("20"),
		`INSERT INTO products (sku, name, categories, price, currency, brand) SELECT 'P' || s.i, 'P', '[]', 100, 'GBP', 'B' || (s.i % 10)
			FROM ` + seq("50"),
		`INSERT INTO members (id, code, phone, channel, status, enrolled_at, updated_at)
			SELECT 'mem_' || ` + pad("s.i", 10) + `, ` + pad("s.i", 8) + `, '+44770' || ` + pad("s.i", 7) + `, 'api', 'active', ` +
			ts("86400 * 500") + `, ` + ts("86400 * 500") + ` FROM ` + seq(strconv.Itoa(n)),
		// Baskets: member by a multiplicative hash so members get 0 to ~12
		// baskets; age spread over 400 days.
		`INSERT INTO baskets (id, store_id, transaction_id, member_id, currency, gross, discount, points_earned, points_redeemed,
			points_value, status, request_hash, response, created_at, voided_at)
			SELECT 'bsk_' || ` + pad("s.i", 10) + `, 'S' || (s.i % 20 + 1), 'T' || s.i,
				'mem_' || ` + pad(fmt.Sprintf("((s.i * 7919 %% %d) + 1)", n), 10) + `, 'GBP', 1000, 0, 10, 0, 0,
				CASE WHEN s.i % 100 = 0 THEN 'voided' ELSE 'committed' END, '', '', ` + ts("(s.i * 104729) % (86400 * 400)") + `, NULL
			FROM ` + seq(strconv.FormatInt(nb, 10)),
		`INSERT INTO basket_lines (basket_id, line, sku, categories, quantity, unit_price, discount, points, returned_qty)
			SELECT 'bsk_' || ` + pad("s.i", 10) + `, 1, 'P' || (s.i % 50 + 1), ` + cats + `, 1 + s.i % 3, 100 + (s.i % 7) * 50, 0, 5,
				CASE WHEN s.i % 20 = 0 THEN 1 ELSE 0 END FROM ` + seq(strconv.FormatInt(nb, 10)),
		`INSERT INTO basket_lines (basket_id, line, sku, categories, quantity, unit_price, discount, points, returned_qty)
			SELECT 'bsk_' || ` + pad("s.i", 10) + `, 2, 'P' || ((s.i * 3) % 50 + 1), ` + strings.ReplaceAll(cats, "s.i % 5", "(s.i + 2) % 5") + `,
				1, 250, 0, 5, 0 FROM ` + seq(strconv.FormatInt(nb, 10)),
		`INSERT INTO points_entries (id, member_id, kind, points, reason, created_at, available_at)
			SELECT 'pe_' || s.i, 'mem_' || ` + pad("s.i", 10) + `, 'earn', 50, 'purchase', ` + ts("86400") + `, ` + ts("86400") + ` FROM ` + seq(strconv.Itoa(n)),
		`INSERT INTO points_lots (entry_id, member_id, remaining, available_at)
			SELECT 'pe_' || s.i, 'mem_' || ` + pad("s.i", 10) + `, 50, ` + ts("86400") + ` FROM ` + seq(strconv.Itoa(n)),
	}
	for _, q := range stmts {
		t := time.Now()
		if _, err := db.W.Exec(q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
		b.Logf("%s in %s", strings.Fields(q)[2], time.Since(t).Round(time.Millisecond))
	}
	if _, err := db.W.Exec(`ANALYZE`); err != nil {
		b.Fatal(err)
	}
	return nb
}

// BenchmarkCommit_ProfileQueue is what the incremental hook costs a till's
// commit: a member's basket of two lines committed with the hook off
// (checkout.Options.NoProfiles) and on (one upsert into profile_queue in
// the commit's transaction). Reports this process's CPU per commit (user +
// sys; on SQLite the database's work is in it, on PostgreSQL it is not).
//
//	go test -run '^$' -bench Commit_ProfileQueue -benchtime 2000x ./internal/profile/
func BenchmarkCommit_ProfileQueue(b *testing.B) {
	for _, engine := range []string{"sqlite", "postgres"} {
		for _, on := range []bool{false, true} {
			b.Run(fmt.Sprintf("%s/hook=%v", engine, on), func(b *testing.B) {
				db := storetest.Engine(b, engine)
				w := newWorld(b, db, profile.Options{})
				co := w.checkout
				if !on {
					co = checkout.NewService(db, w.members, w.campaigns, w.ledger, checkout.Options{Currency: "GBP", BaseEarn: 1,
						Now: w.clock.Now, NoProfiles: true})
				}
				const members = 200
				ms := make([]*member.Member, members)
				for i := range ms {
					ms[i] = w.enrol(b, 500+i) // +447700900500 on: the drama range
				}
				ctx := context.Background()
				cpu := testenv.ProcessCPU().Seconds()
				b.ResetTimer()
				for i := 0; b.Loop(); i++ {
					req := &checkout.Request{Store: "S1", Terminal: "T1", Member: checkout.Key(string(ms[i%members].Code)), Currency: "GBP",
						TransactionID: fmt.Sprintf("B-%d", i), Items: []checkout.Item{item(1, "BREAD", 2, 200), item(2, "COFFEE", 1, 400)}}
					if _, err := co.Commit(ctx, req); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric((testenv.ProcessCPU().Seconds()-cpu)*1e6/float64(b.N), "cpu-µs/op")
			})
		}
	}
}

// BenchmarkRefreshKept is BenchmarkRefresh over a data set generated once
// and kept between runs, so refreshes of the same history can be compared
// (A/B of two builds) without generating it again: a SQLite file named by
// PERK_BENCH_PROFILE_SQLITE and/or a PostgreSQL database by DSN in
// PERK_BENCH_PROFILE_PG. Either is generated (PERK_BENCH_PROFILE_MEMBERS,
// default 20,000) when it has no members yet. Before each refresh the
// profiles, affinities, refresh state and segment_entered events are
// cleared, so every run is a first refresh (every buying member enters a
// segment), as the generated benchmark's is. With
// PERK_BENCH_PROFILE_NEXT_DAY=1 nothing is cleared and each refresh is the
// next night's instead: a day after the last refresh (profile_state), with
// the profiles, affinities and events of the last one in place, so only the
// members whose segment changed raise an event (the steady state; a first
// refresh is made first if there was none).
//
//	mkdir -p /tmp/h4 && psql -h 127.0.0.1 -U postgres -c 'CREATE DATABASE perk_h4'
//	PERK_BENCH_PROFILE_MEMBERS=1000000 PERK_BENCH_PROFILE_SQLITE=/tmp/h4/p.db \
//	  PERK_BENCH_PROFILE_PG='postgres://postgres@127.0.0.1:5432/perk_h4?sslmode=disable' \
//	  go test -run '^$' -bench RefreshKept -benchtime 1x -timeout 3h ./internal/profile/
func BenchmarkRefreshKept(b *testing.B) {
	n := 20_000
	if v, err := strconv.Atoi(os.Getenv("PERK_BENCH_PROFILE_MEMBERS")); err == nil && v > 0 {
		n = v
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		dsn := os.Getenv("PERK_BENCH_PROFILE_SQLITE")
		if engine == "postgres" {
			dsn = os.Getenv("PERK_BENCH_PROFILE_PG")
		}
		if dsn == "" {
			continue
		}
		ctx := context.Background()
		db, err := store.Open(ctx, dsn)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { db.Close() })
		migrated := time.Now()
		if n, err := db.Migrate(ctx); err != nil {
			b.Fatal(err)
		} else if n > 0 {
			b.Logf("%s: %d migrations in %s", engine, n, time.Since(migrated).Round(time.Millisecond))
		}
		now := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
		var have int
		if err := db.R.QueryRow(`SELECT COUNT(*) FROM members`).Scan(&have); err != nil {
			b.Fatal(err)
		}
		if have == 0 {
			start := time.Now()
			baskets := generate(b, db, n, now)
			b.Logf("%s: wrote %d members, %d baskets in %s", engine, n, baskets, time.Since(start).Round(time.Millisecond))
			have = n
		}
		// On PostgreSQL the refresh's one transaction calls the hook after
		// the figures (fold, cuts, upsert) and after the scores and events:
		// log the CPU each part took, the server's read from /proc.
		var lastCPU time.Duration
		var lastServer float64
		mark := func() {
			lastCPU, lastServer = testenv.ProcessCPU(), serverCPU(b, engine)
		}
		nextDay := os.Getenv("PERK_BENCH_PROFILE_NEXT_DAY") == "1"
		opt := profile.Options{Now: func() time.Time { return now }}
		if engine == "postgres" {
			opt = profile.WithBetweenChunks(opt, func() {
				c, sv := lastCPU, lastServer
				mark()
				b.Logf("refresh part: process %.2f cpu-s, server %.2f cpu-s", (lastCPU - c).Seconds(), lastServer-sv)
			})
		}
		s := profile.NewService(db, opt, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})))
		b.Run(fmt.Sprintf("%s/%d", engine, have), func(b *testing.B) {
			clear := func() {
				for _, q := range []string{`DELETE FROM member_affinities`, `DELETE FROM member_profiles`, `DELETE FROM profile_state`,
					`DELETE FROM profile_snapshots`, `DELETE FROM event_ids WHERE event_id LIKE 'perk:segment_entered:%'`,
					`DELETE FROM events WHERE type = 'segment_entered'`} {
					if engine == "sqlite" && strings.Contains(q, "event_ids") {
						continue // PostgreSQL's claim table only
					}
					if engine == "postgres" && !strings.Contains(q, "WHERE") {
						q = strings.Replace(q, "DELETE FROM", "TRUNCATE", 1)
					}
					if _, err := db.W.Exec(q); err != nil {
						b.Fatalf("%s: %v", q, err)
					}
				}
				if engine == "postgres" {
					settle(b, db)
				}
			}
			var cpu, server float64
			var res profile.Result
			if nextDay {
				var last sql.NullTime
				if err := db.R.QueryRow(`SELECT MAX(refreshed_at) FROM profile_state`).Scan(&last); err != nil {
					b.Fatal(err)
				}
				if !last.Valid {
					if _, err := s.Refresh(ctx); err != nil {
						b.Fatal(err)
					}
				} else {
					now = last.Time.UTC()
				}
			}
			for b.Loop() {
				b.StopTimer()
				if nextDay {
					now = now.Add(24 * time.Hour)
					if engine == "postgres" {
						settle(b, db)
					}
				} else {
					clear()
				}
				c0, s0 := testenv.ProcessCPU().Seconds(), serverCPU(b, engine)
				mark()
				b.StartTimer()
				if res, err = s.Refresh(ctx); err != nil {
					b.Fatal(err)
				}
				b.StopTimer()
				cpu += testenv.ProcessCPU().Seconds() - c0
				server += serverCPU(b, engine) - s0
				b.StartTimer()
			}
			b.ReportMetric(cpu/float64(b.N), "cpu-s/op")
			if engine == "postgres" {
				b.ReportMetric(server/float64(b.N), "server-cpu-s/op")
			}
			b.Logf("%d members, %d scored, %d entered a segment", res.Members, res.Scored, res.Entered)
		})
	}
}

// settle vacuums PostgreSQL after the clearing (or the last refresh) and
// writes out what they dirtied, so each refresh starts from the same state:
// without the CHECKPOINT the checkpoint of the clearing's writes ran during
// the refresh, at a different point each run, and moved its time by 10%.
func settle(b *testing.B, db *store.DB) {
	for _, q := range []string{`VACUUM ANALYZE`, `CHECKPOINT`} {
		if _, err := db.W.Exec(q); err != nil {
			b.Fatalf("%s: %v", q, err)
		}
	}
}

// serverCPU is, on PostgreSQL, the CPU seconds of every server process so
// far (testenv.ServerCPU: the refresh reads on one connection and writes on
// another, and the read may run parallel workers); 0 on SQLite, whose work
// is in this process.
func serverCPU(b *testing.B, engine string) float64 {
	if engine != "postgres" {
		return 0
	}
	return testenv.ServerCPU(b).Seconds()
}
