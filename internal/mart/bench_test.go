package mart_test

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/mart"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// generate fills db with n messages and proportionate members (n/5),
// baskets (n/2, three lines each), clicks (n/10), redemptions (n/10),
// replies (n/20) and opt-outs (n/50), written by SQL in the database itself.
func generate(b *testing.B, db *store.DB, n int) {
	b.Helper()
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	seq := func(limit int) string {
		return `WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ` + strconv.Itoa(limit) + `) `
	}
	m := n / 5
	spec := `{"name":"Bench","start":"2026-11-01","end":"2026-12-01","audience":{"kind":"all"},"benefits":[{"kind":"percent_off","percent":10}]}`
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`INSERT INTO stores (id, name, timezone, created_at) ` + seq(10) + `SELECT 'S' || CAST(i AS TEXT), 'Store', 'Europe/London', $1 FROM s`, []any{at}},
		{`INSERT INTO campaigns (id, name, status, spec, starts_at, ends_at, created_at, updated_at)
			VALUES ('cmp_bench', 'Bench', 'active', $2, $1, $1, $1, $1)`, []any{at, spec}},
		{`INSERT INTO members (id, code, phone, first_name, home_store, tags, timezone, channel, status, enrolled_at, updated_at) ` + seq(m) +
			`SELECT 'mem_' || CAST(i AS TEXT), CAST(10000000 + i AS TEXT), '+447700' || CAST(1000000 + i AS TEXT), 'Ann', 'S1',
			'["vip"]', 'Europe/London', 'api', 'active', $1, $1 FROM s`, []any{at}},
		{`INSERT INTO sms_outbox (id, member_id, to_phone, body, kind, purpose, status, created_at, send_after, attempts, segments,
			sent_at, delivery_state, delivered_at, campaign_id) ` + seq(n) +
			`SELECT 'msg_' || CAST(i AS TEXT), 'mem_' || CAST(1 + i % ` + strconv.Itoa(m) + ` AS TEXT), '+447700900000', 'Hi Ann',
			'marketing', 'campaign', 'sent', $1, $1, 1, 1, $1, 'delivered', $1, 'cmp_bench' FROM s`, []any{at}},
		{`INSERT INTO short_links (code, url, member_id, message_id, campaign, created_at) ` + seq(n/10) +
			`SELECT 'l' || CAST(i AS TEXT), 'https://shop.example.com', 'mem_' || CAST(1 + i % ` + strconv.Itoa(m) + ` AS TEXT),
			'msg_' || CAST(i AS TEXT), 'cmp_bench', $1 FROM s`, []any{at}},
		{`INSERT INTO link_clicks (code, member_id, clicked_at) SELECT code, member_id, $1 FROM short_links`, []any{at}},
		{`INSERT INTO sms_inbox (id, from_phone, body, keyword, member_id, received_at) ` + seq(n/20) +
			`SELECT 'mo_' || CAST(i AS TEXT), '+447700900000', 'HELP', 'HELP', 'mem_' || CAST(1 + i % ` + strconv.Itoa(m) + ` AS TEXT), $1 FROM s`, []any{at}},
		{`INSERT INTO consents (member_id, channel, action, method, created_at) ` + seq(n/50) +
			`SELECT 'mem_' || CAST(i AS TEXT), 'sms', 'withdrawn', 'sms', $1 FROM s`, []any{at}},
		{`INSERT INTO baskets (id, store_id, transaction_id, member_id, currency, gross, discount, points_earned, points_redeemed,
			points_value, status, request_hash, response, created_at) ` + seq(n/2) +
			`SELECT 'bsk_' || CAST(i AS TEXT), 'S' || CAST(1 + i % 10 AS TEXT), 'T' || CAST(i AS TEXT),
			CASE WHEN i % 3 = 0 THEN NULL ELSE 'mem_' || CAST(1 + i % ` + strconv.Itoa(m) + ` AS TEXT) END, 'GBP', 1000 + i % 500, 100, 10, 0, 0,
			'committed', 'h', '{}', $1 FROM s`, []any{at}},
		{`INSERT INTO basket_lines (basket_id, line, sku, categories, quantity, unit_price, discount, points) ` + seq(3) +
			`SELECT b.id, s.i, 'SKU' || CAST(s.i AS TEXT), '["bakery","fresh"]', 1, 300, 30, 3 FROM baskets b CROSS JOIN s`, nil},
		{`INSERT INTO redemptions (basket_id, offer_id, campaign_id, member_id, store_id, kind, discount, points, created_at)
			SELECT id, 'cmp_bench.1', 'cmp_bench', member_id, store_id, 'percent_off', 100, 0, created_at FROM baskets
			WHERE member_id IS NOT NULL AND CAST(SUBSTR(id, 5) AS INTEGER) % 4 = 1`, nil},
	} {
		if _, err := db.W.Exec(q.sql, q.args...); err != nil {
			b.Fatalf("%s: %v", q.sql, err)
		}
	}
}

// BenchmarkExport measures the export rate in rows/s. PERK_MART_BENCH_MESSAGES
// sets the size (default 20000 messages, about 70000 rows in all).
func BenchmarkExport(b *testing.B) {
	n := 20000
	if v, err := strconv.Atoi(os.Getenv("PERK_MART_BENCH_MESSAGES")); err == nil {
		n = v
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			db := storetest.Engine(b, engine)
			start := time.Now()
			generate(b, db, n)
			b.Logf("%s: generated %d messages in %s", engine, n, time.Since(start).Round(time.Millisecond))
			for _, format := range []string{mart.CSV, mart.Parquet} {
				b.Run(format, func(b *testing.B) {
					var rows int64
					for b.Loop() {
						m, err := mart.Export(context.Background(), db, mart.Options{Dir: b.TempDir(), Format: format, Key: key})
						if err != nil {
							b.Fatal(err)
						}
						rows += m.Rows()
					}
					b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
					b.ReportMetric(float64(rows)/float64(b.N), "rows/op")
				})
			}
		})
	}
}
