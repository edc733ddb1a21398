// Package rollup keeps the summaries the campaign report and the overview
// read in step with the rows they summarise, in the transaction that changes
// those rows: the uplift's per-campaign, per-member spend (table
// campaign_spend, migration 0048) and the basket figures per campaign, hour
// and store (basket_tally, migration 0056). A summary is changed by taking a basket's contribution out before a
// change and putting it back after, with one statement that defines the
// contribution, so the summary always equals a recomputation from the raw
// rows (rollup tests and report's equivalence test check it).
//
// It is not for reading the summaries (package report does) nor for
// deciding anything at the till.
package rollup

import (
	"context"
	"fmt"

	"github.com/perk-platform/perk/internal/store"
)

// basketSpend adds $2 times a basket's contribution to campaign_spend: for
// every campaign whose window [starts_at, ends_at) holds the basket's
// created_at, one basket and its spend (gross - discount), if the basket is
// committed (a voided basket contributes nothing) and has a member. Every
// campaign counts, drafts included, so a launch needs no catching up; only a
// change of window does (Campaign). The rows are written in campaign order,
// so two transactions of one member cannot lock them in opposite orders.
const basketSpend = `INSERT INTO campaign_spend (campaign_id, member_id, baskets, spend)
	SELECT c.id, b.member_id, $2, $2 * (b.gross - b.discount)
	FROM baskets b JOIN campaigns c ON c.starts_at <= b.created_at AND c.ends_at > b.created_at
	WHERE b.id = $1 AND b.status = 'committed' AND b.member_id IS NOT NULL
	ORDER BY c.id
	ON CONFLICT (campaign_id, member_id) DO UPDATE SET baskets = campaign_spend.baskets + excluded.baskets,
		spend = campaign_spend.spend + excluded.spend`

// AddBasket counts a basket just stored (call after its row is written).
func AddBasket(ctx context.Context, tx store.Execer, basketID string) error {
	if _, err := tx.ExecContext(ctx, basketSpend, basketID, 1); err != nil {
		return fmt.Errorf("rollup: add basket %s: %w", basketID, err)
	}
	return nil
}

// RemoveBasket takes a basket's contribution out (call before a change of
// its status, then AddBasket after if it still counts).
func RemoveBasket(ctx context.Context, tx store.Execer, basketID string) error {
	if _, err := tx.ExecContext(ctx, basketSpend, basketID, -1); err != nil {
		return fmt.Errorf("rollup: remove basket %s: %w", basketID, err)
	}
	return nil
}

// spendFrom is the recomputation of campaign_spend from the raw rows, for
// the campaigns the condition on c selects; migration 0048's backfill is the
// same statement over every campaign.
const spendFrom = `INSERT INTO campaign_spend (campaign_id, member_id, baskets, spend)
	SELECT c.id, b.member_id, COUNT(*), SUM(b.gross - b.discount)
	FROM campaigns c JOIN baskets b ON b.created_at >= c.starts_at AND b.created_at < c.ends_at
	WHERE b.status = 'committed' AND b.member_id IS NOT NULL AND %s
	GROUP BY c.id, b.member_id`

// Campaign recomputes one campaign's rows from its baskets, after a change of
// its window (call in the transaction that changes it, after the change).
// It reads the baskets of the new window once: a rare, operator-made change.
func Campaign(ctx context.Context, tx store.Execer, campaignID string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM campaign_spend WHERE campaign_id = $1`, campaignID); err != nil {
		return fmt.Errorf("rollup: campaign %s: %w", campaignID, err)
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf(spendFrom, `c.id = $1`), campaignID); err != nil {
		return fmt.Errorf("rollup: campaign %s: %w", campaignID, err)
	}
	return nil
}

// Rebuild recomputes every summary from the raw rows, for a loader that
// writes baskets by SQL (perk bench gen-data) and for tests.
func Rebuild(ctx context.Context, db store.Execer, d store.Dialect) error {
	if _, err := db.ExecContext(ctx, `DELETE FROM campaign_spend`); err != nil {
		return fmt.Errorf("rollup: rebuild: %w", err)
	}
	if _, err := db.ExecContext(ctx, fmt.Sprintf(spendFrom, `1 = 1`)); err != nil {
		return fmt.Errorf("rollup: rebuild: %w", err)
	}
	return rebuildTally(ctx, db, d)
}
