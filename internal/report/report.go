// Package report computes what operators and BI tools read about a running
// programme: a campaign's progress (messages, clicks, redemptions, revenue,
// uplift of the treated group over the control group, per store, over time)
// and a member's contact and reaction history as one timeline.
//
// Every figure is an aggregate over the rows the other packages write
// (sms_outbox, link_clicks, baskets, redemptions, ...), computed when asked
// with set-based queries, so a report always equals the sum of the
// underlying rows. Two summaries are kept on the side by package rollup, in
// the transaction of each commit, return and void, and tested against a
// recomputation from the baskets: the uplift reads the per-campaign,
// per-member spend (campaign_spend), and the per-store figures, the
// redemption series and the overview's today read the basket figures per
// campaign, hour and store (basket_tally), whole hours from it and partial
// ones from the rows (hourSplit).
//
// It is not for writing anything, for rendering (web draws the charts) or for
// the data-mart export.
package report

import (
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/store"
)

// Service computes reports.
type Service struct {
	db        *store.DB
	campaigns *campaign.Service
	now       func() time.Time
}

// NewService returns a report service; now is the clock (time.Now if nil).
func NewService(db *store.DB, campaigns *campaign.Service, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{db: db, campaigns: campaigns, now: now}
}
