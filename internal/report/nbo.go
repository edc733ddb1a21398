package report

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/problem"
)

// NextBestOfferUplift is the report of a next_best_offer campaign (package
// nbo): the members given their top k offers (ranked) against the holdout
// given k offers of the pool at random (random), so it says whether the
// ranking beats chance.
//
// An offer is redeemed when the member redeemed the personal-offer campaign
// holding it after it was given (a redemption a return or void gave back
// does not count). A member converted when they redeemed at least one of
// their k offers. The interval is the normal approximation for the
// difference of two proportions (as the campaigns' uplift) on members,
// which are independent draws; the rates per offer are shown beside it
// without an interval, since a member's k offers are not independent.
type NextBestOfferUplift struct {
	Name       string   `json:"name"`
	Ranked     NBOArm   `json:"ranked"`
	Random     NBOArm   `json:"random"`
	MemberRate Estimate `json:"member_rate"` // ranked - random share of members who redeemed, 95% interval
	OfferRate  float64  `json:"offer_rate"`  // ranked - random share of offers redeemed
}

// NBOArm is one side of a next_best_offer campaign.
type NBOArm struct {
	Members        int64   `json:"members"`
	Converted      int64   `json:"converted"` // members who redeemed one of their offers or more
	MemberRate     float64 `json:"member_rate"`
	OffersGiven    int64   `json:"offers_given"`
	OffersRedeemed int64   `json:"offers_redeemed"`
	OfferRate      float64 `json:"offer_rate"`
}

// ErrNBONotFound: no next_best_offer campaign has the name.
var ErrNBONotFound = problem.New(problem.NotFound, "nbo_campaign_not_found", "no next_best_offer campaign of this name")

// NextBestOffer computes the report of the next_best_offer campaign name
// (GET /v1/nbo/campaigns/{name}/report): the campaign of kind
// next_best_offer of that name, or a run launched under that name before
// such runs were campaigns. It is the section the campaign's own report
// shows (CampaignReport.NextBestOffer).
func (s *Service) NextBestOffer(ctx context.Context, name string) (*NextBestOfferUplift, error) {
	run := name
	var one int
	err := s.db.R.QueryRowContext(ctx, `SELECT 1 FROM nbo_campaigns WHERE name = $1`, name).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		c, cerr := s.campaigns.ByName(ctx, name)
		if errors.Is(cerr, campaign.ErrNotFound) || cerr == nil && (c.Spec.Kind != campaign.KindNextBestOffer || !c.Launched()) {
			return nil, ErrNBONotFound
		}
		if cerr != nil {
			return nil, fmt.Errorf("report: next best offer %s: %w", name, cerr)
		}
		run = c.ID
	} else if err != nil {
		return nil, fmt.Errorf("report: next best offer %s: %w", name, err)
	}
	out, err := s.nboArms(ctx, run)
	if err != nil {
		return nil, err
	}
	out.Name = name
	return out, nil
}

// nboArms computes the figures of a run (nbo_given.run).
func (s *Service) nboArms(ctx context.Context, name string) (*NextBestOfferUplift, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT t.arm, COUNT(*), COALESCE(SUM(CASE WHEN t.r > 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(t.n), 0), COALESCE(SUM(t.r), 0) FROM (
			SELECT g.member_id, g.arm, COUNT(*) AS n, SUM(CASE WHEN EXISTS (SELECT 1 FROM redemptions r
				WHERE r.campaign_id = g.campaign_id AND r.member_id = g.member_id AND r.created_at >= g.given_at
				AND r.restored_at IS NULL) THEN 1 ELSE 0 END) AS r
			FROM nbo_given g WHERE g.run = $1 GROUP BY g.member_id, g.arm) t
		GROUP BY t.arm`, name)
	if err != nil {
		return nil, fmt.Errorf("report: next best offer %s: %w", name, err)
	}
	defer rows.Close()
	out := &NextBestOfferUplift{Name: name}
	for rows.Next() {
		var arm string
		var a NBOArm
		if err := rows.Scan(&arm, &a.Members, &a.Converted, &a.OffersGiven, &a.OffersRedeemed); err != nil {
			return nil, err
		}
		a.MemberRate = float64(a.Converted) / float64(a.Members)
		a.OfferRate = float64(a.OffersRedeemed) / float64(max(a.OffersGiven, 1))
		if arm == "random" {
			out.Random = a
		} else {
			out.Ranked = a
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out.MemberRate = ConversionUplift(out.Ranked.Members, out.Ranked.Converted, out.Random.Members, out.Random.Converted)
	out.OfferRate = out.Ranked.OfferRate - out.Random.OfferRate
	return out, nil
}
