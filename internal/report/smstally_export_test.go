package report

import (
	"context"
	"time"

	"github.com/perk-platform/perk/internal/store"
)

// MessageSeries is messageSeries, for the tests of package report_test.
func (s *Service) MessageSeries(ctx context.Context, d store.Dialect, campaignID string, from, to time.Time, secs int64) (sent, delivered map[int64]int64, err error) {
	return s.messageSeries(ctx, d, campaignID, from, to, secs)
}

// SMSToday is smsToday.
func SMSToday(ctx context.Context, db *store.DB, since time.Time) (sent, delivered int64, err error) {
	return smsToday(ctx, db, since)
}

// SentSeries and DeliveredSeries are the campaign report's series queries
// over the messages.
var SentSeries, DeliveredSeries = sentSeries, deliveredSeries
