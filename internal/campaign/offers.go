package campaign

import "github.com/perk-platform/perk/internal/checkout/engine"

// EngineCampaign is c as the tills see it: its offers with their ids and
// receipt descriptions, its window and conditions. Offer files for tills
// working offline are written from it.
func (s *Service) EngineCampaign(c *Campaign) engine.Campaign {
	return c.Spec.engineCampaign(c.ID, Window{Start: c.Start, End: c.End}, s.opt.Currency)
}
