package report

import (
	"context"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/store"
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

// ReportPlans are report queries and the search each must make: a
// covering index (read alone, no table row per message or member), and for
// the series' edges a seek of the time range.
var ReportPlans = []struct {
	Name, Want string
	SQL        func(store.Dialect) string
	Args       []any
}{
	{"messages by state", "SEARCH sms_outbox USING COVERING INDEX sms_outbox_campaign_idx (campaign_id=?)",
		func(store.Dialect) string { return messagesByState }, []any{"c"}},
	{"sent series", "SEARCH sms_outbox USING COVERING INDEX sms_outbox_campaign_idx (campaign_id=? AND status=? AND sent_at>? AND sent_at<?)",
		func(d store.Dialect) string { return sentSeries(d, 3600) }, []any{"c", "2027-01-01", "2027-02-01"}},
	{"delivered series", "SEARCH sms_outbox USING INDEX sms_outbox_campaign_delivered_idx (campaign_id=? AND delivered_at>? AND delivered_at<?)",
		func(d store.Dialect) string { return deliveredSeries(d, 86400) }, []any{"c", "2027-01-01", "2027-02-01"}},
	{"dynamic audience", "USING COVERING INDEX members_enrolled_at_idx ",
		func(store.Dialect) string { return audienceMembers }, []any{"2027-01-01"}},
}
