// Package checkouttest holds what the till's benchmarks in several packages
// share, so that an in-process commit and a request through the HTTP server
// are measured against the same campaigns.
package checkouttest

import (
	"fmt"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
)

// TenCampaigns are the ten campaigns of the till benchmarks
// (docs/benchmarks.md): percent off categories, two spend thresholds, 3 for
// 2, second half price, double points, bonus points with a category, a
// budgeted 5% off and an exclusive 40% off, over a shop of SKUs S000-S199 in
// categories c00-c11. Each runs from start to end with audience all.
func TenCampaigns(start, end string) []campaign.Spec {
	cats := func(from, to int) []string {
		var out []string
		for i := from; i < to; i++ {
			out = append(out, fmt.Sprintf("c%02d", i))
		}
		return out
	}
	skus := func(from, to int) []string {
		var out []string
		for i := from; i < to; i++ {
			out = append(out, fmt.Sprintf("S%03d", i))
		}
		return out
	}
	specs := []campaign.Spec{
		{Name: "10% off ten categories", Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 10, Scope: engine.Scope{Categories: cats(0, 10)}}}},
		{Name: "20% off two", Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 20, Scope: engine.Scope{Categories: cats(10, 12)}}}},
		{Name: "5 pounds off at 50", Benefits: []engine.Benefit{{Kind: engine.SpendThreshold, Threshold: 5000, Amount: 500}},
			Limits: campaign.Limits{PerMember: 50}},
		{Name: "10 pounds off at 150", Benefits: []engine.Benefit{{Kind: engine.SpendThreshold, Threshold: 15000, Amount: 1000}}},
		{Name: "3 for 2", Benefits: []engine.Benefit{{Kind: engine.BuyXGetY, Buy: 2, Get: 1, Scope: engine.Scope{SKUs: skus(20, 40)}}}},
		{Name: "second half price", Benefits: []engine.Benefit{{Kind: engine.BuyXGetY, Buy: 1, Get: 1, Percent: 50, Scope: engine.Scope{SKUs: skus(40, 60)}}}},
		{Name: "double points", Benefits: []engine.Benefit{{Kind: engine.PointsMultiplier, Multiplier: 2}}},
		{Name: "100 bonus points", Benefits: []engine.Benefit{{Kind: engine.PointsBonus, Points: 100}},
			Conditions: engine.Conditions{RequireCategories: cats(3, 4)}},
		{Name: "5% off at 200, budgeted", Benefits: []engine.Benefit{{Kind: engine.SpendThreshold, Threshold: 20000, Percent: 5}},
			Limits: campaign.Limits{Budget: 1_000_000_000}},
		{Name: "40% off three", Exclusive: true, Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 40, Scope: engine.Scope{SKUs: skus(197, 200)}}}},
	}
	for i := range specs {
		specs[i].Start, specs[i].End = start, end
		specs[i].Audience.Kind = campaign.AudienceAll
	}
	return specs
}
