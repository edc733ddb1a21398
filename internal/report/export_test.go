package report

import (
	"context"

	"github.com/perk-platform/perk/internal/campaign"
)

// UpliftFromBaskets is the campaign's uplift at the service's now computed
// from the window's baskets, without the roll-up: the definition the report
// must equal.
func (s *Service) UpliftFromBaskets(ctx context.Context, c *campaign.Campaign) (Uplift, error) {
	from, to := window(c, s.now().UTC())
	treated, control, err := s.rawGroups(ctx, c, from, to)
	u := Uplift{From: from, To: to, Treated: groupFigures(treated), Control: groupFigures(control)}
	u.Conversion, u.SpendPerMember = diffProportions(treated, control), diffMeans(treated, control)
	return u, err
}
