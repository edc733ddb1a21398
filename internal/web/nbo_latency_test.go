package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/nbo"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/testenv"
)

// TestNBO_NextBestOffersLatency_InTheServer measures GET
// /v1/members/{key}/next-best-offers through the real HTTP server against a
// 200-offer pool (20 categories) on a programme of PERK_BENCH_NBO_MEMBERS
// members (default 5,000) with a year of baskets, 20 a member with three
// lines each (written by SQL straight into the tables), 400 products with
// cost prices, mined rules and 10 offers given to 500 members each. After
// one request has read the model, it asks for each member's top 5 in turn
// and logs the 50th and 99th percentile and the CPU per request: this
// process's (client and server, getrusage) and, on PostgreSQL, the server
// backend's (the read pool is one connection). It is a measurement, run
// only with PERK_BENCH_NBO=1 (docs/benchmarks.md); it fails if a request
// fails or returns other than 5 offers.
func TestNBO_NextBestOffersLatency_InTheServer(t *testing.T) {
	if os.Getenv("PERK_BENCH_NBO") == "" {
		t.Skip("a measurement: set PERK_BENCH_NBO=1")
	}
	n := 5000
	if v, err := strconv.Atoi(os.Getenv("PERK_BENCH_NBO_MEMBERS")); err == nil && v > 0 {
		n = v
	}
	requests := 2000
	// One engine after the other, not side by side: the figures are CPU and
	// latency on a shared machine.
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) { nboLatency(t, storetest.Engine(t, engine), n, requests) })
	}
}

func nboLatency(t *testing.T, db *store.DB, n, requests int) {
	{
		if db.Dialect == store.Postgres {
			db.R.SetMaxOpenConns(1)
		}
		e := newEnv(t, db, withNBO(db))
		now := time.Now().UTC()
		start := time.Now()
		generateNBO(t, db, n, now)
		t.Logf("%s: wrote %d members, %d baskets in %s", db.Dialect, n, 20*n, time.Since(start).Round(time.Millisecond))

		var offers []any
		for i := range 200 {
			offers = append(offers, nboOffer(fmt.Sprintf("Offer %03d", i), fmt.Sprintf("c%02d", i%20), int64(20+i), int64(20+i)))
		}
		if st, body, _ := e.do("PUT", "/v1/nbo/pool", auth.RoleManager, map[string]any{"offers": offers}); st != 200 {
			t.Fatalf("put pool: %d %s", st, body)
		}
		t0 := time.Now()
		if st, body, _ := e.do("POST", "/v1/nbo/rules/refresh", auth.RoleManager, map[string]any{"min_support": 0.001, "min_confidence": 0.01, "min_baskets": 5}); st != 200 {
			t.Fatalf("refresh rules: %d %s", st, body)
		}
		t.Logf("rules mined in %s", time.Since(t0).Round(time.Millisecond))
		// History: ten offers given to 500 members each, as personal offers.
		for i := range 10 {
			ids := make([]string, 0, 500)
			for j := range 500 {
				ids = append(ids, nboMemberID((i*500+j)%n+1))
			}
			o := nbo.Offer{Name: fmt.Sprintf("Past %d", i), Description: fmt.Sprintf("Past offer %d", i), Cost: 50,
				Benefit: engine.Benefit{Kind: engine.AmountOff, Amount: 50, Scope: engine.Scope{Categories: []string{fmt.Sprintf("c%02d", i)}}},
				Start:   now.Add(-time.Hour).Format(time.RFC3339), End: now.Add(30 * 24 * time.Hour).Format(time.RFC3339)}
			if _, err := e.campaigns.GivePersonal(t.Context(), o.Personal(), ids, false); err != nil {
				t.Fatal(err)
			}
		}

		key := func(i int) string { return nboMemberID(i%n + 1) }
		t0 = time.Now()
		// A plain client: the harness's check of each response against
		// docs/openapi.yaml would be counted in the process's CPU (the
		// first request goes through it).
		get := func(i int) {
			if i == 0 {
				st, body, _ := e.do("GET", "/v1/members/"+key(i)+"/next-best-offers?k=5", auth.RoleReporting, nil)
				if st != 200 {
					t.Fatalf("next best offers: %d %s", st, body)
				}
				return
			}
			req, _ := http.NewRequest("GET", e.url+"/v1/members/"+key(i)+"/next-best-offers?k=5", nil)
			req.Header.Set("Authorization", "Bearer "+e.keys[auth.RoleReporting])
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var got struct{ Offers []nbo.NextOffer }
			err = json.NewDecoder(res.Body).Decode(&got)
			res.Body.Close()
			if res.StatusCode != 200 || err != nil || len(got.Offers) != 5 {
				t.Fatalf("next best offers: %d, %d offers, %v; want 200 and 5", res.StatusCode, len(got.Offers), err)
			}
		}
		get(0)
		t.Logf("first request (reads the model): %s", time.Since(t0).Round(time.Millisecond))
		took := make([]time.Duration, 0, requests)
		cpu, server := testenv.ProcessCPU(), testenv.BackendCPU(t, db)
		for i := range requests {
			s := time.Now()
			get(i + 1)
			took = append(took, time.Since(s))
		}
		cpu, server = testenv.ProcessCPU()-cpu, testenv.BackendCPU(t, db)-server
		slices.Sort(took)
		p := func(q int) time.Duration { return took[min(len(took)-1, len(took)*q/100)] }
		t.Logf("%s: %d requests: p50 %s, p99 %s, max %s; CPU per request: process %s, server backend %s", db.Dialect, requests,
			p(50).Round(time.Microsecond), p(99).Round(time.Microsecond), took[len(took)-1].Round(time.Microsecond),
			(cpu / time.Duration(requests)).Round(time.Microsecond), (server / time.Duration(requests)).Round(time.Microsecond))
	}
}

// nboMemberID is the id generateNBO gives member i (1-based): a member id's
// shape, so the API looks it up as one.
func nboMemberID(i int) string { return fmt.Sprintf("mem_%026d", i) }

// generateNBO writes n members, 400 products with cost prices in 20
// categories and 20n baskets of three lines over the last 360 days.
func generateNBO(t *testing.T, db *store.DB, n int, now time.Time) {
	t.Helper()
	seq := func(count int) string {
		if db.Dialect == store.Postgres {
			return fmt.Sprintf(`(SELECT generate_series AS i FROM generate_series(1, %d)) s`, count)
		}
		return fmt.Sprintf(`(WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < %d) SELECT i FROM r) s`, count)
	}
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
		return `substr('` + strings.Repeat("0", w) + `' || (` + col + `), -` + strconv.Itoa(w) + `)`
	}
	cat := func(expr string) string { // '["c07"]' for expr % 20 = 7
		return `'["c' || ` + pad("("+expr+") % 20", 2) + ` || '"]'`
	}
	nb := 20 * n
	// Member m buys mostly in categories m % 20 and (m + 1) % 20: basket b
	// is member b % n + 1's.
	stmts := []string{
		`INSERT INTO products (sku, name, categories, price, currency, cost_price) SELECT 'SKU-' || s.i, 'P', ` + cat("s.i") + `,
			200 + (s.i % 9) * 50, 'GBP', 120 + (s.i % 9) * 20 FROM ` + seq(400),
		`INSERT INTO members (id, code, phone, channel, status, enrolled_at, updated_at)
			SELECT 'mem_' || ` + pad("s.i", 26) + `, '9' || ` + pad("s.i", 9) + `, '+44771' || ` + pad("s.i", 7) + `, 'api', 'active', ` +
			ts("86400 * 400") + `, ` + ts("86400 * 400") + ` FROM ` + seq(n),
		`INSERT INTO baskets (id, store_id, transaction_id, member_id, currency, gross, discount, points_earned, points_redeemed,
			points_value, status, request_hash, response, created_at, voided_at)
			SELECT 'bsk_' || ` + pad("s.i", 26) + `, 'S001', 'NB' || s.i, 'mem_' || ` + pad(fmt.Sprintf("(s.i %% %d) + 1", n), 26) + `,
				'GBP', 1200, 0, 12, 0, 0, 'committed', '', '', ` + ts("(CAST(s.i AS BIGINT) * 104729) % (86400 * 360)") + `, NULL FROM ` + seq(nb),
	}
	for line := 1; line <= 3; line++ {
		// Lines 1 and 2 in the member's own categories, line 3 anywhere.
		c := fmt.Sprintf("(s.i %% %d) + 1 + %d", n, line-1)
		if line == 3 {
			c = "s.i * 7"
		}
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO basket_lines (basket_id, line, sku, categories, quantity, unit_price, discount, points, returned_qty)
			SELECT 'bsk_' || %s, %d, 'SKU-' || (s.i %% 400 + 1), %s, 1, 400, 0, 4, 0 FROM %s`, pad("s.i", 26), line, cat(c), seq(nb)))
	}
	for _, q := range stmts {
		if _, err := db.W.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if _, err := db.W.Exec(`ANALYZE`); err != nil {
		t.Fatal(err)
	}
}
