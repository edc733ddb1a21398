package mart_test

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/mart"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// fixture writes a small data set with fixed ids and times straight into
// the tables, so the export is byte for byte predictable on both databases.
func fixture(t *testing.T, db *store.DB) {
	t.Helper()
	at := func(day, hour, min int) time.Time { return time.Date(2026, 11, day, hour, min, 0, 0, time.UTC) }
	spec := `{"name":"Spring","start":"2026-11-01","end":"2026-12-01","timezone":"Europe/London","stores":["S1"],
		"audience":{"kind":"filter","filter":{"tags":["vip"]}},"benefits":[{"kind":"percent_off","percent":20},
		{"kind":"points_multiplier","multiplier":2}],"priority":3,"control_group":10,"message":"Hi {{.FirstName}}"}`
	stmts := []struct {
		q    string
		args []any
	}{
		{`INSERT INTO stores (id, name, timezone, created_at) VALUES ('S1', 'High Street', 'Europe/London', $1),
			('S2', 'Station, north side', 'Europe/London', $1)`, []any{at(1, 8, 0)}},
		{`INSERT INTO members (id, code, phone, first_name, last_name, email, birthday, home_store, external_id, tags, timezone,
			channel, source, status, enrolled_at, updated_at) VALUES
			('mem_a', '12345670', '+447700900001', 'Ann', 'Archer', 'ann@example.com', '1980-01-02', 'S1', 'CRM-1', '["vip","early"]',
			 'Europe/London', 'sms', 'poster', 'active', $1, $1),
			('mem_b', '23456781', '+447700900002', 'Bob', 'Baker', '', '', 'S2', NULL, '[]', 'Europe/London', 'web', 'join form',
			 'opted_out', $2, $2)`, []any{at(1, 9, 30), at(2, 23, 59)}},
		{`INSERT INTO members (id, code, phone, channel, status, enrolled_at, updated_at, erased_at)
			VALUES ('mem_c', '34567892', NULL, 'import', 'erased', $1, $2, $2)`, []any{at(1, 12, 0), at(20, 12, 0)}},
		{`INSERT INTO campaigns (id, name, status, spec, starts_at, ends_at, max_redemptions, budget, redemptions, discount_given,
			points_given, audience_size, control_size, created_at, updated_at, launched_at)
			VALUES ('cmp_1', 'Spring', 'active', $1, $2, $3, 100, 50000, 1, 200, 0, 1, 0, $4, $4, $5)`,
			[]any{spec, at(1, 0, 0), at(30, 0, 0), at(1, 8, 0), at(3, 9, 0)}},
		{`INSERT INTO campaign_members (campaign_id, member_id, control, message_id) VALUES ('cmp_1', 'mem_a', 0, 'msg_1')`, nil},
		{`INSERT INTO sms_outbox (id, member_id, to_phone, body, kind, purpose, status, created_at, send_after, attempts, segments,
			sent_at, delivery_state, delivered_at, campaign_id)
			VALUES ('msg_1', 'mem_a', '+447700900001', 'Hi Ann', 'marketing', 'campaign', 'sent', $1, $2, 1, 1, $2, 'delivered', $3, 'cmp_1')`,
			[]any{at(3, 9, 0), at(3, 9, 1), at(3, 9, 2)}},
		{`INSERT INTO sms_outbox (id, member_id, to_phone, body, kind, purpose, status, held_reason, created_at, send_after)
			VALUES ('msg_2', 'mem_b', '+447700900002', 'Welcome Bob', 'transactional', 'welcome', 'held', 'opted_out', $1, $1)`,
			[]any{at(2, 23, 59)}},
		{`INSERT INTO short_links (code, url, member_id, message_id, campaign, created_at)
			VALUES ('abcdefgh', 'https://shop.example.com/spring', 'mem_a', 'msg_1', 'cmp_1', $1)`, []any{at(3, 9, 0)}},
		{`INSERT INTO link_clicks (code, member_id, clicked_at) VALUES ('abcdefgh', 'mem_a', $1)`, []any{at(3, 20, 15)}},
		{`INSERT INTO sms_inbox (id, from_phone, to_addr, body, keyword, member_id, received_at)
			VALUES ('mo_1', '+447700900002', '60777', 'STOP Bob', 'STOP', 'mem_b', $1)`, []any{at(4, 7, 0)}},
		{`INSERT INTO consents (member_id, channel, action, method, source, wording_version, created_at, campaign, phone)
			VALUES ('mem_b', 'sms', 'granted', 'web', 'join form', 'v1', $1, '', '+447700900002'),
			       ('mem_b', 'sms', 'withdrawn', 'sms', 'STOP', 'v1', $2, 'cmp_1', '+447700900002')`, []any{at(2, 23, 59), at(4, 7, 0)}},
		{`INSERT INTO baskets (id, store_id, transaction_id, terminal, member_id, currency, gross, discount, points_earned,
			points_redeemed, points_value, status, request_hash, response, created_at, voided_at) VALUES
			('bsk_1', 'S1', 'T-1', 'till 1', 'mem_a', 'GBP', 1000, 200, 16, 0, 0, 'committed', 'h', '{}', $1, NULL),
			('bsk_2', 'S2', 'T-1', '', NULL, 'GBP', 350, 0, 0, 0, 0, 'voided', 'h', '{}', $2, $3)`,
			[]any{at(5, 11, 0), at(5, 23, 30), at(6, 0, 30)}},
		{`INSERT INTO basket_lines (basket_id, line, sku, categories, quantity, unit_price, discount, points, returned_qty) VALUES
			('bsk_1', 1, 'BREAD', '["bakery","fresh"]', 2, 250, 100, 8, 1),
			('bsk_1', 2, 'CAKE', '["bakery"]', 1, 500, 100, 8, 0),
			('bsk_2', 1, 'MILK "2L"', '[]', 2, 175, 0, 0, 2)`, nil},
		{`INSERT INTO redemptions (basket_id, offer_id, campaign_id, member_id, store_id, kind, discount, points, created_at)
			VALUES ('bsk_1', 'cmp_1.1', 'cmp_1', 'mem_a', 'S1', 'percent_off', 200, 0, $1)`, []any{at(5, 11, 0)}},
		// Bob joined with Ann's code; his first basket would have qualified.
		{`INSERT INTO referrals (id, code, referrer_id, friend_id, channel, status, reason, basket_id, amount, returned,
			created_at, qualify_by, qualified_at) VALUES
			('ref_1', 'K7QM2P', 'mem_a', 'mem_b', 'web', 'rewarded', 'rewarded', 'bsk_1', 800, 250, $1, $2, $3),
			('ref_2', 'K7QM2P', 'mem_a', NULL, 'sms', 'refused', 'refused: already a member', NULL, 0, 0, $4, NULL, NULL)`,
			[]any{at(2, 23, 59), at(32, 23, 59), at(5, 11, 0), at(6, 8, 0)}},
		// Ann's profile as a refresh on the 6th would leave it.
		{`INSERT INTO member_profiles (member_id, last_purchase, frequency, monetary, r_score, f_score, m_score, segment,
			segment_since, preferred_store, avg_basket, visit_days, usual_interval, overdue_after, sms_received, sms_clicks,
			sms_redemptions, points_earned, points_redeemed, points_balance, refreshed_at)
			VALUES ('mem_a', $1, 1, 550, 5, 1, 1, 'new', $2, 'S1', 550, 1, 0, 0, 1, 1, 1, 8, 0, 8, $2),
			('mem_b', NULL, 0, 0, 0, 0, 0, '', NULL, '', 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, $2)`, []any{at(5, 11, 0), at(6, 3, 0)}},
		{`INSERT INTO member_affinities (member_id, kind, name, share) VALUES ('mem_a', 'category', 'bakery', 1),
			('mem_a', 'category', 'fresh', 0.2727272727), ('mem_a', 'brand', 'Hovis; Ltd', 0.5)`, nil},
		{`INSERT INTO referral_rewards (referral_id, role, member_id, kind, points, cost, clawed_back, created_at) VALUES
			('ref_1', 'referrer', 'mem_a', 'points', 500, 500, 0, $1), ('ref_1', 'friend', 'mem_b', 'points', 200, 200, 0, $1)`,
			[]any{at(5, 11, 0)}},
	}
	for _, s := range stmts {
		if _, err := db.W.Exec(s.q, s.args...); err != nil {
			t.Fatalf("%s: %v", s.q, err)
		}
	}
}

// TestExport_Golden compares a CSV export of the fixture, manifest
// included, with testdata/golden; both databases must give the same bytes.
// go test ./internal/mart -run Golden -update rewrites the files.
func TestExport_Golden(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		fixture(t, db)
		dir := t.TempDir()
		_, err := mart.Export(context.Background(), db, mart.Options{Dir: dir, Format: mart.CSV, Key: []byte("0123456789abcdef"),
			Now: func() time.Time { return time.Date(2026, 11, 25, 6, 0, 0, 0, time.UTC) }})
		if err != nil {
			t.Fatal(err)
		}
		golden := filepath.Join("testdata", "golden")
		files := []string{mart.ManifestFile}
		for _, tab := range mart.Tables {
			files = append(files, tab.Name+".csv")
		}
		for _, f := range files {
			got, err := os.ReadFile(filepath.Join(dir, f))
			if err != nil {
				t.Fatal(err)
			}
			if *update && db.Dialect == store.SQLite {
				os.MkdirAll(golden, 0o755)
				if err := os.WriteFile(filepath.Join(golden, f), got, 0o644); err != nil {
					t.Fatal(err)
				}
				continue
			}
			want, err := os.ReadFile(filepath.Join(golden, f))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("%s differs from testdata/golden:\n--- got\n%s\n--- want\n%s", f, got, want)
			}
		}
	})
}
