// Package figures is the one definition of each money and redemption figure
// Perk shows: redemptions, discount given, points given, sales and revenue.
// The overview, the campaign report, the campaign list (GET /v1/campaigns,
// perk campaigns get) and the data mart's dim_campaign all build their
// queries from these fragments, so a figure shown in two places is computed
// once. The definitions, and where each figure is shown, are written out in
// docs/figures.md.
//
// It holds SQL fragments over fixed table aliases and one query; it is not
// for deciding what a basket gets (checkout) nor for reports' shapes
// (report).
package figures

import (
	"context"
	"database/sql"
	"fmt"
)

// Standing is the condition on a redemptions row r that makes it count: it
// has not been given back (a void, or a return of every line the offer
// applied to, sets restored_at) and it gave the shopper something (a
// discount, points, or a free-content code actually issued; a free gift
// whose pool was empty was never given).
const Standing = `r.restored_at IS NULL AND ` + Gave

// Gave is the condition on a redemptions row r that it gave the shopper
// something: rows that did not are no redemption, restored or not.
const Gave = `(r.discount > 0 OR r.points > 0 OR r.content_code <> '')`

// Redemptions counts redemptions of one campaign over standing rows r: the
// distinct baskets in which the campaign gave something. A basket in which
// a campaign applied two benefits is one redemption. Over several
// campaigns, count distinct (basket, campaign) pairs instead (see
// Overview's query in package report): that is the sum of the campaigns'.
const Redemptions = `COUNT(DISTINCT r.basket_id)`

// RedeemingMembers counts the distinct members behind standing rows r
// (anonymous baskets of open campaigns count in Redemptions only).
const RedeemingMembers = `COUNT(DISTINCT r.member_id)`

// Discount sums the discount given by standing rows r, net of returns: a
// partial return gives back its units' share of the offer's discount
// (redemptions.discount_returned) while the redemption itself stands.
const Discount = `COALESCE(SUM(r.discount - r.discount_returned), 0)`

// Points sums the campaign points (points benefits, not base earn) of
// standing rows r. A void or a return of every line takes them off; a
// partial return does not: the ledger takes back the returned lines' share
// of the basket's points, which is not attributed to campaigns.
const Points = `COALESCE(SUM(r.points), 0)`

// LineNet is what the shopper paid for a basket line l, net of its returns:
// its price less its discount share, for the units not returned. Returned
// units give back floor(discount × returned / quantity), as the till's
// refund does, so a basket wholly returned nets to 0. Money and points
// paid with are both in it (it is the goods' value, not the tender). A
// weighed line (measure > 0: one unit at its value) gives back its value
// and discount in proportion to the measure returned, as its refund does.
const LineNet = `(CASE WHEN l.measure > 0
	THEN l.unit_price - l.unit_price * l.returned_measure / l.measure - (l.discount - l.discount * l.returned_measure / l.measure)
	ELSE l.unit_price * (l.quantity - l.returned_qty) - (l.discount - l.discount * l.returned_qty / l.quantity) END)`

// LinePoints is the points a basket line l earned, net of its returns.
const LinePoints = `(CASE WHEN l.measure > 0 THEN l.points - l.points * l.returned_measure / l.measure
	ELSE l.points - l.points * l.returned_qty / l.quantity END)`

// Sales sums LineNet over lines l of committed (not voided) baskets b.
const Sales = `COALESCE(SUM(CASE WHEN b.status = 'committed' THEN ` + LineNet + ` ELSE 0 END), 0)`

// Querier runs a query: a *sql.DB, *sql.Tx or *sql.Conn.
type Querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Campaign is one campaign's redemption figures, as defined above.
type Campaign struct {
	Redemptions      int64
	RedeemingMembers int64
	Discount         int64
	Points           int64
}

// ByCampaign is a query of the figures of every campaign with a standing
// redemption, in columns campaign_id, redemptions, members, discount and
// points.
const ByCampaign = `SELECT r.campaign_id AS campaign_id, ` + Redemptions + ` AS redemptions, ` + RedeemingMembers + ` AS members, ` +
	Discount + ` AS discount, ` + Points + ` AS points FROM redemptions r WHERE ` + Standing + ` GROUP BY r.campaign_id`

// CampaignFigures computes one campaign's figures.
func CampaignFigures(ctx context.Context, q Querier, campaignID string) (Campaign, error) {
	var f Campaign
	err := q.QueryRowContext(ctx, `SELECT `+Redemptions+`, `+RedeemingMembers+`, `+Discount+`, `+Points+`
		FROM redemptions r WHERE r.campaign_id = $1 AND `+Standing, campaignID).
		Scan(&f.Redemptions, &f.RedeemingMembers, &f.Discount, &f.Points)
	if err != nil {
		return f, fmt.Errorf("campaign figures: %w", err)
	}
	return f, nil
}

// Revenue is a query of the revenue of a campaign ($1) per store: Sales of
// the baskets holding a standing redemption of it, each basket once
// whatever else it bought, net of returns; voided baskets are not revenue.
const Revenue = `SELECT b.store_id, ` + Sales + ` FROM baskets b JOIN basket_lines l ON l.basket_id = b.id
	WHERE b.id IN (SELECT r.basket_id FROM redemptions r WHERE r.campaign_id = $1 AND ` + Standing + `)
	GROUP BY b.store_id`
