package checkout

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/rollup"
	"github.com/perk-platform/perk/internal/store"
)

// Given is an offer a till applied itself, offline, from an exported offer
// file, as its transaction file reports it: the offer and the discount it
// gave, and on which lines (none: spread over the basket by value).
type Given struct {
	OfferID  string             `json:"offer_id"`
	Discount int64              `json:"discount"`
	Lines    []engine.LineShare `json:"lines,omitempty"`
}

// Rule names the rule an offer given offline broke.
type Rule string

// Rules a till's offline offers can break; each is recorded, never refused.
const (
	RuleUnknownOffer  Rule = "unknown_offer"   // no campaign has this offer
	RuleUnknownMember Rule = "unknown_member"  // the member key names nobody (the sale is recorded as anonymous)
	RuleOutsideDates  Rule = "outside_dates"   // before the campaign started, after it ended, or paused
	RuleNotInStore    Rule = "not_in_store"    // the campaign does not run in this store
	RuleNotInAudience Rule = "not_in_audience" // members only, outside the audience, or in the control group
	RuleOverLimit     Rule = "over_limit"      // more uses than the member's limit, or than the total limit
	RuleOverBudget    Rule = "over_budget"     // the discount takes the campaign over its budget
)

// Breach is one rule broken by an offer a till gave, with what is at stake.
type Breach struct {
	OfferID    string `json:"offer_id"`
	CampaignID string `json:"campaign_id,omitempty"`
	Rule       Rule   `json:"rule"`
	Detail     string `json:"detail"`
	Amount     int64  `json:"amount"` // the discount given under the broken rule, minor units
}

// GivenResult is the answer to CommitGiven.
type GivenResult struct {
	*Response
	Replayed bool     `json:"-"`
	Breaches []Breach `json:"breaches"`
}

// CommitGiven records a sale whose offers the till gave itself while
// offline: it takes the uses and budgets of the offers given, stores the
// basket with the till's discounts, and awards the base points on what was
// paid plus the points of points offers given. Nothing is refused for a
// rule the till broke: each broken rule is a Breach, stored in the
// reconciliation table with the amount at stake, and the sale stands
// (an unknown member's sale as an anonymous one). The same transaction id
// and body returns the stored answer; another body is ErrConflict. With no
// offers given, the request hashes as a live commit's does, so a sale sent
// live and then again in a file is the same sale.
func (s *Service) CommitGiven(ctx context.Context, req *Request, given []Given) (*GivenResult, error) {
	// The lines as a live commit reads them: the store known and open, each
	// line's product and categories from the catalogue, weighed lines valued.
	p, err := s.prepare(ctx, req, true)
	if err != nil {
		return nil, err
	}
	if err := validateGiven(req, given); err != nil {
		return nil, err
	}
	h := hash(req)
	if len(given) > 0 {
		h = hash(struct {
			Req   *Request
			Given []Given
		}{req, given})
	}
	if resp, err := storedCommit(ctx, s.db.Read, req, h); resp != nil || err != nil {
		return s.replayGiven(ctx, s.db.R, req, resp, err)
	}
	var breaches []Breach
	m, err := s.resolveMember(ctx, req.MemberKey())
	if err != nil {
		if problem.KindOf(err) == problem.Internal {
			return nil, err
		}
		breaches = append(breaches, Breach{Rule: RuleUnknownMember, Detail: err.Error(), Amount: givenTotal(given)})
		m = nil
	}
	live, err := s.campaigns.Live(ctx)
	if err != nil {
		return nil, err
	}
	offers, err := s.givenOffers(ctx, live, given)
	if err != nil {
		return nil, err
	}
	var out *GivenResult
	err = s.db.Tx(store.GroupCommit(ctx), func(tx *sql.Tx) error {
		resp, err := storedCommit(ctx, tx, req, h)
		if resp != nil || err != nil {
			out, err = s.replayGiven(ctx, tx, req, resp, err)
			return err
		}
		return s.batchChanges(ctx, tx, func(ctx context.Context) error {
			out, err = s.commitGivenTx(ctx, tx, req, p, h, m, live, given, offers, breaches)
			return err
		})
	})
	if c, ok := store.UniqueViolation(err); ok && c == "baskets_store_transaction_key" {
		resp, err := storedCommit(ctx, s.db.Read, req, h)
		return s.replayGiven(ctx, s.db.R, req, resp, err)
	}
	if err != nil {
		return nil, err
	}
	if moved := out.campaignsOf(); len(moved) > 0 {
		// Uses and budgets moved, past their limits maybe: the cached
		// live set's counters are stale (in a chunk of a transaction file,
		// the chunk commits before the next basket).
		store.AfterCommit(ctx, s.campaigns.Invalidate)
		s.opt.OnChange(moved...)
	}
	return out, nil
}

// givenOffer is what Perk knows of an offer a till gave.
type givenOffer struct {
	live     *campaign.Live     // nil when the campaign is not live
	camp     *campaign.Campaign // nil for an unknown offer
	benefit  engine.Benefit
	campaign string
}

// givenOffers finds each given offer's campaign: live, ended, or none.
func (s *Service) givenOffers(ctx context.Context, live *campaign.LiveSet, given []Given) ([]givenOffer, error) {
	out := make([]givenOffer, len(given))
	for i, g := range given {
		cid, n, ok := strings.Cut(g.OfferID, ".")
		k, err := strconv.Atoi(n)
		if !ok || err != nil || k < 1 {
			continue
		}
		o := &out[i]
		o.campaign = cid
		if l := live.ByID[cid]; l != nil {
			o.live, o.camp = l, l.Campaign
		} else {
			c, err := s.campaigns.Get(ctx, cid)
			if errors.Is(err, campaign.ErrNotFound) {
				continue
			}
			if err != nil {
				return nil, err
			}
			o.camp = c
		}
		if k > len(o.camp.Spec.Benefits) {
			o.camp, o.live = nil, nil
			continue
		}
		o.benefit = o.camp.Spec.Benefits[k-1]
		o.benefit.ID = g.OfferID
		if o.benefit.Description == "" {
			o.benefit.Description = o.camp.Spec.Name
		}
	}
	return out, nil
}

func (s *Service) commitGivenTx(ctx context.Context, tx *sql.Tx, req *Request, p *prepared, h string, m *member.Member,
	live *campaign.LiveSet, given []Given, offers []givenOffer, breaches []Breach) (*GivenResult, error) {
	now := s.opt.Now().UTC()
	st, err := loadState(ctx, tx, live, m, now)
	if err != nil {
		return nil, err
	}
	res := engine.Result{Lines: make([]engine.LineResult, len(req.Items)), Benefits: []engine.Applied{}}
	index := map[int]int{}
	for i, it := range req.Items {
		res.Lines[i] = engine.LineResult{Line: it.Line, OfferIDs: []string{}}
		index[it.Line] = i
	}
	periods := map[string]string{}
	b := p.basket(req, m, now)
	for i, g := range given {
		o := offers[i]
		at := func(rule Rule, format string, args ...any) {
			breaches = append(breaches, Breach{OfferID: g.OfferID, CampaignID: o.campaign, Rule: rule, Detail: fmt.Sprintf(format, args...), Amount: g.Discount})
		}
		shares := g.Lines
		if len(shares) == 0 && g.Discount > 0 {
			shares = spreadGiven(p, g.Discount)
		}
		for _, sh := range shares {
			lr := &res.Lines[index[sh.Line]]
			lr.Discount += sh.Discount
			lr.OfferIDs = append(lr.OfferIDs, g.OfferID)
		}
		res.TotalDiscount += g.Discount // the shopper had it, whatever the offer
		if o.camp == nil {
			at(RuleUnknownOffer, "no campaign has offer %q", g.OfferID)
			continue // no campaign to count it against
		}
		a := engine.Applied{OfferID: g.OfferID, CampaignID: o.camp.ID, Kind: o.benefit.Kind, Description: o.benefit.Description,
			Discount: g.Discount, Lines: shares}
		switch {
		case o.live == nil || now.Before(o.camp.Start) || !now.Before(o.camp.End):
			at(RuleOutsideDates, "the campaign runs %s to %s (%s); the sale was at %s", o.camp.Start.Format(time.RFC3339),
				o.camp.End.Format(time.RFC3339), o.camp.Status, now.Format(time.RFC3339))
		case o.live.Status == campaign.Paused:
			at(RuleOutsideDates, "the campaign was paused")
		}
		if len(o.camp.Spec.Stores) > 0 && !slices.Contains(o.camp.Spec.Stores, req.Store) {
			at(RuleNotInStore, "the campaign runs in %s only", strings.Join(o.camp.Spec.Stores, ", "))
		}
		if m == nil && o.camp.Spec.Audience.Kind != campaign.AudienceOpen {
			at(RuleNotInAudience, "the campaign is for members only and the sale names none")
		}
		if o.live != nil {
			switch st.blocked(o.live, nil) {
			case engine.NotInAudience:
				at(RuleNotInAudience, "the member is not in the campaign's audience")
			case engine.ControlGroup:
				at(RuleNotInAudience, "the member is in the campaign's control group")
			}
			if isPoints(o.benefit.Kind) {
				a.Points = pointsOf(b, o.live, g.OfferID, s.engineOptions(false))
			}
		}
		if _, seen := periods[o.camp.ID]; !seen && m != nil && o.live != nil {
			period, over, err := takeUsesAnyway(ctx, tx, o.live, m, now)
			if err != nil {
				return nil, err
			}
			if over != "" {
				at(RuleOverLimit, "%s", over)
			}
			periods[o.camp.ID] = period
		}
		res.Benefits = append(res.Benefits, a)
		res.PointsEarned += a.Points
	}
	res.BasePoints = engine.BasePoints(p.subtotal()-res.TotalDiscount, s.engineOptions(false))
	res.PointsEarned += res.BasePoints
	seen := map[string]bool{}
	for _, a := range res.Benefits {
		if !seen[a.CampaignID] {
			seen[a.CampaignID] = true
			res.Campaigns = append(res.Campaigns, a.CampaignID)
		}
	}
	if res.TotalDiscount > p.subtotal() {
		return nil, problem.InvalidField("applied", "discount_over_total", nil, "the offers given take %d off a basket of %d", res.TotalDiscount, p.subtotal())
	}
	resp := s.response(req, p, m, res)
	basketID, memberID, err := s.payAndStore(ctx, tx, req, p, h, m, res, resp, now)
	if err != nil {
		return nil, err
	}
	if err := rollup.AddBasket(ctx, tx, basketID); err != nil {
		return nil, err
	}
	perCampaign := map[string][2]int64{}
	for _, a := range res.Benefits {
		shares, _ := json.Marshal(a.Lines)
		if _, err := tx.ExecContext(ctx, `INSERT INTO redemptions (basket_id, offer_id, campaign_id, member_id, store_id, kind, discount, points,
			lines, content_code, period, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, '', $10, $11)`,
			basketID, a.OfferID, a.CampaignID, memberID, req.Store, string(a.Kind), a.Discount, a.Points, string(shares),
			periods[a.CampaignID], now); err != nil {
			return nil, fmt.Errorf("store redemption: %w", err)
		}
		t := perCampaign[a.CampaignID]
		perCampaign[a.CampaignID] = [2]int64{t[0] + a.Discount, t[1] + a.Points}
	}
	for _, cid := range res.Campaigns {
		t := perCampaign[cid]
		c := offerCampaign(offers, cid)
		over, err := s.takeTotalsAnyway(ctx, tx, c, t[0], t[1], now)
		if err != nil {
			return nil, err
		}
		for _, o := range over {
			breaches = append(breaches, Breach{OfferID: firstOffer(res.Benefits, cid), CampaignID: cid, Rule: o.rule, Detail: o.detail, Amount: t[0]})
		}
	}
	if m != nil {
		if err := s.earn(ctx, tx, m.ID, req.TransactionID, res, now); err != nil {
			return nil, err
		}
		if err := s.referred(ctx, tx, m.ID, basketID, resp.Total, now); err != nil {
			return nil, err
		}
		bal, err := s.ledger.BalanceTx(ctx, tx, m.ID, now)
		if err != nil {
			return nil, err
		}
		resp.Member.PointsBalance, resp.Member.PointsPending = bal.Available, bal.Pending
	}
	if err := insertBreaches(ctx, tx, basketID, req, memberID, breaches, now); err != nil {
		return nil, err
	}
	// A basket the till decided offline is in the member's timeline as
	// one decided live is: every offer given was redeemed.
	gave := make(map[string]bool, len(res.Campaigns))
	for _, cid := range res.Campaigns {
		gave[cid] = true
	}
	if err := s.recordBasket(ctx, tx, basketID, req, resp, memberID.String, gave, now); err != nil {
		return nil, err
	}
	// Webhook endpoints hear of it as of a live commit: the transaction
	// and each offer redeemed (the ledger reports the points).
	if err := s.recordCommit(ctx, tx, m, resp); err != nil {
		return nil, err
	}
	if err := storeResponse(ctx, tx, basketID, resp); err != nil {
		return nil, err
	}
	if err := rollup.AddTally(ctx, tx, s.db.Dialect, basketID); err != nil {
		return nil, err
	}
	return &GivenResult{Response: resp, Breaches: nonNilBreaches(breaches)}, nil
}
