package checkout

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/problem"
)

// Simulation is what a campaign would have done over past baskets.
type Simulation struct {
	CampaignID      string             `json:"campaign_id"`
	Days            int                `json:"days"`
	From            time.Time          `json:"from"`
	To              time.Time          `json:"to"`
	Baskets         int64              `json:"baskets"`          // committed baskets replayed
	Eligible        int64              `json:"eligible"`         // of those, from shoppers the campaign is for (control group excluded)
	Redemptions     int64              `json:"redemptions"`      // baskets it would have applied to
	Members         int64              `json:"members"`          // distinct members who would have redeemed
	DiscountCost    int64              `json:"discount_cost"`    // minor units
	PointsLiability int64              `json:"points_liability"` // points it would have given
	PointsValue     int64              `json:"points_value"`     // those points at the redemption rate, minor units
	RedeemingSales  int64              `json:"redeeming_sales"`  // gross value of the baskets it applied to
	Benefits        map[string]SimStat `json:"benefits"`         // per offer id
	NotApplied      map[string]int64   `json:"not_applied"`      // eligible baskets it did not apply to, by reason
}

// SimStat is one benefit's share of a simulation.
type SimStat struct {
	Redemptions int64 `json:"redemptions"`
	Discount    int64 `json:"discount"`
	Points      int64 `json:"points"`
}

// Simulate replays the committed baskets of the last days through one
// campaign, as if it alone had been running and every basket had come at a
// moment inside its dates, and counts what it would have given. Limits per
// member, total redemptions and the budget are applied in basket order, so
// a capped campaign's cost is capped here too. Voided baskets and returned
// units are left out.
func (s *Service) Simulate(ctx context.Context, campaignID string, days int) (*Simulation, error) {
	if days < 1 || days > 366 {
		return nil, problem.InvalidField("days", "days_invalid", nil, "must be 1 to 366")
	}
	c, err := s.campaigns.Get(ctx, campaignID)
	if err != nil {
		return nil, err
	}
	live, err := s.campaigns.Compile(c)
	if err != nil {
		return nil, err
	}
	audience, err := s.campaigns.Audience(ctx, c)
	if err != nil {
		return nil, err
	}
	now := s.opt.Now().UTC()
	sim := &Simulation{CampaignID: c.ID, Days: days, From: now.Add(-time.Duration(days) * 24 * time.Hour), To: now,
		Benefits: map[string]SimStat{}, NotApplied: map[string]int64{}}
	lim := c.Spec.Limits
	uses := map[string]int{}
	members := map[string]bool{}
	opt := s.engineOptions(true)
	pol := s.ledger.Policy()
	// The campaign is judged on what the basket contained, not on when it
	// was rung up: dates and time windows are moved onto the basket.
	at := func(t time.Time) time.Time {
		if t.Before(c.Start) || !t.Before(c.End) {
			return c.Start
		}
		return t
	}
	err = s.eachBasket(ctx, sim.From, func(b *storedBasket) error {
		sim.Baskets++
		if b.memberID != "" {
			control, in := audience[b.memberID]
			if audience == nil {
				in, control = true, campaign.InControl(c.ID, b.memberID, c.Spec.ControlGroup)
			}
			if !in || control {
				return nil
			}
		} else if c.Spec.Audience.Kind != campaign.AudienceOpen {
			return nil
		}
		sim.Eligible++
		blocked := engine.Reason("")
		switch {
		case lim.PerMember > 0 && b.memberID != "" && uses[b.memberID] >= lim.PerMember:
			blocked = engine.LimitReached
		case lim.MaxRedemptions > 0 && sim.Redemptions >= lim.MaxRedemptions:
			blocked = engine.LimitReached
		}
		budget := int64(-1)
		if lim.Budget > 0 {
			budget = max(lim.Budget-sim.DiscountCost, 0)
		}
		bk := engine.Basket{Store: b.store, Time: at(b.at), Location: live.Location, Member: b.memberID != "", Lines: b.lines}
		res := engine.Evaluate(bk, []engine.Candidate{{Campaign: live.Compiled, Blocked: blocked, BudgetLeft: budget}}, opt)
		if len(res.Campaigns) == 0 {
			for _, r := range res.Rejected {
				sim.NotApplied[string(r.Reason)]++
			}
			return nil
		}
		sim.Redemptions++
		sim.RedeemingSales += b.gross
		if b.memberID != "" {
			uses[b.memberID]++
			members[b.memberID] = true
		}
		for _, a := range res.Benefits {
			st := sim.Benefits[a.OfferID]
			st.Redemptions++
			st.Discount += a.Discount
			st.Points += a.Points
			sim.Benefits[a.OfferID] = st
			sim.DiscountCost += a.Discount
			if b.memberID != "" {
				sim.PointsLiability += a.Points
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sim.Members = int64(len(members))
	sim.PointsValue = pol.Value(sim.PointsLiability)
	return sim, nil
}

type storedBasket struct {
	id, store, memberID string
	at                  time.Time
	gross               int64
	lines               []engine.Line
}

// eachBasket streams committed baskets since from with their lines (less
// returned units), one basket at a time.
func (s *Service) eachBasket(ctx context.Context, from time.Time, fn func(*storedBasket) error) error {
	after := ""
	for {
		rows, err := s.db.R.QueryContext(ctx, `SELECT b.id, b.store_id, COALESCE(b.member_id, ''), b.created_at,
			l.line, l.sku, l.categories, l.quantity - l.returned_qty, l.unit_price
			FROM baskets b JOIN basket_lines l ON l.basket_id = b.id
			WHERE b.id IN (SELECT id FROM baskets WHERE status = 'committed' AND created_at >= $1 AND id > $2 ORDER BY id LIMIT 1000)
			ORDER BY b.id, l.line`, from, after)
		if err != nil {
			return fmt.Errorf("replay baskets: %w", err)
		}
		var cur *storedBasket
		n := 0
		flush := func() error {
			if cur == nil || len(cur.lines) == 0 {
				return nil
			}
			return fn(cur)
		}
		for rows.Next() {
			var id, store, mid, cats string
			var at time.Time
			var l engine.Line
			if err := rows.Scan(&id, &store, &mid, &at, &l.Line, &l.SKU, &cats, &l.Quantity, &l.UnitPrice); err != nil {
				rows.Close()
				return err
			}
			if cur == nil || cur.id != id {
				if err := flush(); err != nil {
					rows.Close()
					return err
				}
				cur = &storedBasket{id: id, store: store, memberID: mid, at: at.UTC()}
				n++
			}
			if l.Quantity <= 0 {
				continue
			}
			_ = json.Unmarshal([]byte(cats), &l.Categories) // written by commit, always an array
			cur.gross += int64(l.Quantity) * l.UnitPrice
			cur.lines = append(cur.lines, l)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if err := flush(); err != nil {
			return err
		}
		if n == 0 {
			return nil
		}
		after = cur.id
	}
}
