package checkout

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/problem"
)

// validateGiven checks the shape of a till's offers: ids, amounts, and
// lines that are the basket's and sum to each offer's discount.
func validateGiven(req *Request, given []Given) error {
	lines := map[int]int64{}
	for _, it := range req.Items {
		lines[it.Line] = int64(it.Quantity) * it.UnitPrice
	}
	off := map[int]int64{}
	for i, g := range given {
		f := func(name string) string { return fmt.Sprintf("applied[%d].%s", i, name) }
		if err := checkID(f("offer_id"), g.OfferID, true); err != nil {
			return err
		}
		if g.Discount < 0 || g.Discount > MaxBasket {
			return problem.InvalidField(f("discount"), "discount_invalid", nil, "must be 0 to %d minor units", int64(MaxBasket))
		}
		var sum int64
		for j, sh := range g.Lines {
			v, ok := lines[sh.Line]
			if !ok || sh.Discount < 0 {
				return problem.InvalidField(fmt.Sprintf("applied[%d].lines[%d]", i, j), "line_invalid", nil, "line %d is not a line of the basket", sh.Line)
			}
			off[sh.Line] += sh.Discount
			if off[sh.Line] > v {
				return problem.InvalidField(fmt.Sprintf("applied[%d].lines[%d]", i, j), "discount_over_line", nil,
					"line %d is worth %d; the offers given take %d off it", sh.Line, v, off[sh.Line])
			}
			sum += sh.Discount
		}
		if len(g.Lines) > 0 && sum != g.Discount {
			return problem.InvalidField(f("lines"), "lines_mismatch", nil, "the lines' discounts add up to %d, not %d", sum, g.Discount)
		}
	}
	return nil
}

func givenTotal(given []Given) int64 {
	var t int64
	for _, g := range given {
		t += g.Discount
	}
	return t
}

// spreadGiven puts a discount the till gave without lines on the basket's
// lines by value, as a basket discount is spread.
func spreadGiven(p *prepared, discount int64) []engine.LineShare {
	weights := make([]int64, len(p.lines))
	for i := range p.lines {
		weights[i] = p.lines[i].value()
	}
	var out []engine.LineShare
	for i, d := range Spread(discount, weights) {
		if d > 0 {
			out = append(out, engine.LineShare{Line: p.lines[i].item.Line, Discount: d})
		}
	}
	return out
}

func isPoints(k engine.Kind) bool {
	return k == engine.PointsBonus || k == engine.PointsPerUnit || k == engine.PointsMultiplier
}

// pointsOf is what a points offer gives this basket by the engine's own
// rule: the till knows the offer applied, not how many points it makes.
func pointsOf(b engine.Basket, l *campaign.Live, offerID string, opt engine.Options) int64 {
	res := engine.Evaluate(b, []engine.Candidate{{Campaign: l.Compiled, BudgetLeft: -1}}, opt)
	for _, a := range res.Benefits {
		if a.OfferID == offerID {
			return a.Points
		}
	}
	return 0
}

// takeUsesAnyway takes one of the member's uses of campaign l as a commit
// does, but past the limit too: the till has given the offer. It returns the
// period key and, when a limit is passed, how.
func takeUsesAnyway(ctx context.Context, tx *sql.Tx, l *campaign.Live, m *member.Member, now time.Time) (string, string, error) {
	lim := l.Spec.Limits
	over := ""
	take := func(period string, limit int, what string) error {
		if limit <= 0 {
			return nil
		}
		ok, err := takeUse(ctx, tx, l.ID, m.ID, period, limit)
		if err != nil || ok {
			return err
		}
		over = fmt.Sprintf("the member had used it %d times already, the limit %s", limit, what)
		_, err = tx.ExecContext(ctx, `UPDATE offer_uses SET uses = uses + 1 WHERE campaign_id = $1 AND member_id = $2 AND period = $3`,
			l.ID, m.ID, period)
		return err
	}
	if err := take("", lim.PerMember, "per member"); err != nil {
		return "", "", fmt.Errorf("take offer use: %w", err)
	}
	period := ""
	if lim.PerPeriod > 0 {
		period = campaign.PeriodKey(lim.Period, now, l.Location)
		if err := take(period, lim.PerPeriod, "per "+lim.Period); err != nil {
			return "", "", fmt.Errorf("take offer use: %w", err)
		}
	}
	return period, over, nil
}

type overTotal struct {
	rule   Rule
	detail string
}

// takeTotalsAnyway counts a given redemption against the campaign's total
// limit and budget, past them too, and ends the campaign when one is
// reached, as a live commit would.
func (s *Service) takeTotalsAnyway(ctx context.Context, tx *sql.Tx, c *campaign.Campaign, discount, points int64, now time.Time) ([]overTotal, error) {
	if c == nil {
		return nil, nil
	}
	lim := c.Spec.Limits
	if lim.MaxRedemptions == 0 && lim.Budget == 0 {
		return nil, nil
	}
	redemptions, given, err := s.campaigns.TakeTotalsAnyway(ctx, tx, c.ID, discount, points, now)
	if errors.Is(err, campaign.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("count given redemption: %w", err)
	}
	var over []overTotal
	if lim.MaxRedemptions > 0 && redemptions > lim.MaxRedemptions {
		over = append(over, overTotal{RuleOverLimit, fmt.Sprintf("redemption %d of a campaign limited to %d", redemptions, lim.MaxRedemptions)})
	}
	if lim.Budget > 0 && given > lim.Budget {
		over = append(over, overTotal{RuleOverBudget, fmt.Sprintf("%d given of a budget of %d", given, lim.Budget)})
	}
	return over, nil
}

func offerCampaign(offers []givenOffer, cid string) *campaign.Campaign {
	for _, o := range offers {
		if o.camp != nil && o.camp.ID == cid {
			return o.camp
		}
	}
	return nil
}

func firstOffer(bs []engine.Applied, cid string) string {
	for _, b := range bs {
		if b.CampaignID == cid {
			return b.OfferID
		}
	}
	return ""
}

func nonNilBreaches(b []Breach) []Breach {
	if b == nil {
		return []Breach{}
	}
	return b
}

// insertBreaches stores a basket's broken rules in the reconciliation table.
func insertBreaches(ctx context.Context, tx *sql.Tx, basketID string, req *Request, memberID sql.NullString, bs []Breach, now time.Time) error {
	for _, b := range bs {
		if _, err := tx.ExecContext(ctx, `INSERT INTO reconciliation (basket_id, store_id, transaction_id, offer_id, campaign_id, member_id,
			rule, detail, amount, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			basketID, req.Store, req.TransactionID, b.OfferID, b.CampaignID, memberID, string(b.Rule), b.Detail, b.Amount, now); err != nil {
			return fmt.Errorf("store reconciliation: %w", err)
		}
	}
	return nil
}

// replayGiven answers a repeated CommitGiven from the stored basket and its
// stored breaches.
// q is the transaction the replay was found in, if any: a chunk of a
// transaction file may hold the first commit uncommitted.
func (s *Service) replayGiven(ctx context.Context, q querier, req *Request, resp *Response, err error) (*GivenResult, error) {
	if err != nil || resp == nil {
		return nil, err
	}
	rows, err := q.QueryContext(ctx, `SELECT r.offer_id, r.campaign_id, r.rule, r.detail, r.amount FROM reconciliation r
		JOIN baskets b ON b.id = r.basket_id WHERE b.store_id = $1 AND b.transaction_id = $2 ORDER BY r.id`, req.Store, req.TransactionID)
	if err != nil {
		return nil, fmt.Errorf("stored breaches: %w", err)
	}
	defer rows.Close()
	out := &GivenResult{Response: resp, Replayed: true, Breaches: []Breach{}}
	for rows.Next() {
		var b Breach
		var rule string
		if err := rows.Scan(&b.OfferID, &b.CampaignID, &rule, &b.Detail, &b.Amount); err != nil {
			return nil, err
		}
		b.Rule = Rule(rule)
		out.Breaches = append(out.Breaches, b)
	}
	return out, rows.Err()
}
