package loadgen_test

import (
	"context"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/loadgen"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/phone"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

func TestGenerateDatasetFollowsTheServicesRules(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
		err := loadgen.GenerateDataset(ctx, db, loadgen.DatasetOptions{Members: 2000, Messages: 3000, Baskets: 4000, Campaigns: 4, Stores: 5, Seed: 1, Now: now})
		if err != nil {
			t.Fatal(err)
		}
		count := func(q string) int {
			var n int
			if err := db.R.QueryRow(q).Scan(&n); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			return n
		}
		for q, want := range map[string]int{
			`SELECT COUNT(*) FROM members`:    2000,
			`SELECT COUNT(*) FROM sms_outbox`: 3000,
			`SELECT COUNT(*) FROM baskets`:    4000,
			`SELECT COUNT(*) FROM campaigns`:  4,
			`SELECT COUNT(*) FROM stores`:     5,
			`SELECT COUNT(*) FROM baskets b WHERE NOT EXISTS (SELECT 1 FROM basket_lines l WHERE l.basket_id = b.id)`: 0,
			// Redemptions fall inside their campaign's dates and never to its control group.
			`SELECT COUNT(*) FROM redemptions r JOIN campaigns c ON c.id = r.campaign_id WHERE r.created_at < c.starts_at OR r.created_at >= c.ends_at`: 0,
			`SELECT COUNT(*) FROM redemptions r JOIN campaign_members cm ON cm.campaign_id = r.campaign_id AND cm.member_id = r.member_id`:              0,
			`SELECT COUNT(*) FROM sms_outbox o JOIN campaign_members cm ON cm.campaign_id = o.campaign_id AND cm.member_id = o.member_id`:               0,
			// Lines add up to their basket: amount, discount and points.
			`SELECT COUNT(*) FROM baskets b JOIN (SELECT basket_id, SUM(quantity * unit_price) AS gross, SUM(discount) AS discount, SUM(points) AS points
				FROM basket_lines GROUP BY basket_id) l ON l.basket_id = b.id
				WHERE l.gross <> b.gross OR l.discount <> b.discount OR l.points <> b.points_earned`: 0,
			`SELECT COUNT(*) FROM basket_lines WHERE discount < 0 OR points < 0 OR discount > quantity * unit_price`: 0,
			// A redemption's discount is its basket's.
			`SELECT COUNT(*) FROM redemptions r JOIN baskets b ON b.id = r.basket_id WHERE r.discount <> b.discount`: 0,
			// The SMS tally is rebuilt from the generated messages.
			`SELECT (SELECT COUNT(*) FROM sms_outbox WHERE status = 'sent') - (SELECT COALESCE(SUM(sent), 0) FROM sms_tally)`:                                       0,
			`SELECT (SELECT COUNT(*) FROM sms_outbox WHERE status = 'sent' AND delivery_state = 'delivered') - (SELECT COALESCE(SUM(delivered), 0) FROM sms_tally)`: 0,
			`SELECT (SELECT COUNT(*) FROM sms_outbox WHERE status = 'sent') - (SELECT COALESCE(SUM(created_sent), 0) FROM sms_tally)`:                               0,
		} {
			if got := count(q); got != want {
				t.Errorf("%s = %d, want %d", q, got, want)
			}
		}
		for q, what := range map[string]string{
			`SELECT COUNT(*) FROM redemptions`:                     "no redemptions generated",
			`SELECT COUNT(*) FROM basket_lines WHERE discount > 0`: "no line carries a discount",
			`SELECT COUNT(*) FROM basket_lines WHERE points > 0`:   "no line carries points",
		} {
			if count(q) == 0 {
				t.Error(what)
			}
		}
		rows, err := db.R.Query(`SELECT id, code, phone FROM members`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		codes := map[string]bool{}
		for rows.Next() {
			var id, code, ph string
			rows.Scan(&id, &code, &ph)
			if _, err := member.ParseCode(code); err != nil || codes[code] {
				t.Fatalf("code %q: %v (duplicate %v)", code, err, codes[code])
			}
			codes[code] = true
			if _, err := phone.Parse(ph, "GB"); err != nil {
				t.Fatalf("phone of %s: %v", id, err)
			}
		}
		// The stored control group is exactly the hash's choice.
		var cid string
		db.R.QueryRow(`SELECT id FROM campaigns ORDER BY id LIMIT 1`).Scan(&cid)
		want := 0
		for i := range 2000 {
			var id string
			db.R.QueryRow(`SELECT id FROM members ORDER BY id LIMIT 1 OFFSET $1`, i).Scan(&id)
			if campaign.InControl(cid, id, 10) {
				want++
			}
		}
		if got := count(`SELECT COUNT(*) FROM campaign_members WHERE campaign_id = '` + cid + `'`); got != want {
			t.Errorf("control rows %d, hash says %d", got, want)
		}
	})
}
