package report

import (
	"context"
	"fmt"
	"time"

	"github.com/perk-platform/perk/internal/store"
)

// The SMS figures read the hourly roll-up sms_tally (kept by package sms,
// see its tally.go) for the whole UTC hours of a range, and the messages
// themselves only for the partial hours at its ends, so that they answer
// exactly what the queries over the messages would.

// messageSeries is the campaign's messages sent (by sent_at) and delivered
// (by delivered_at) in [from, to), per bucket of secs seconds numbered from
// the Unix epoch: what sentSeries and deliveredSeries count over the range.
// A bucket of a whole number of hours holds whole hours of the tally; any
// other size is counted from the messages.
func (s *Service) messageSeries(ctx context.Context, d store.Dialect, campaignID string, from, to time.Time, secs int64) (sent, delivered map[int64]int64, err error) {
	sent, delivered = map[int64]int64{}, map[int64]int64{}
	if secs <= 0 {
		return nil, nil, fmt.Errorf("message series: bucket of %d s", secs)
	}
	const h = int64(time.Hour / time.Second)
	edges := []span{{from, to}}
	if secs%h == 0 {
		var first, last int64
		first, last, edges = hourSplit(from, to)
		if first < last {
			rows, err := s.db.R.QueryContext(ctx, `SELECT hour, SUM(sent), SUM(delivered) FROM sms_tally
				WHERE campaign_id = $1 AND hour >= $2 AND hour < $3 GROUP BY hour`, campaignID, first, last)
			if err != nil {
				return nil, nil, fmt.Errorf("message series: %w", err)
			}
			defer rows.Close()
			for rows.Next() {
				var hour, ns, nd int64
				if err := rows.Scan(&hour, &ns, &nd); err != nil {
					return nil, nil, fmt.Errorf("message series: %w", err)
				}
				// Shards of an hour may hold differences that cancel.
				if b := floorDiv(hour*h, secs); ns != 0 || nd != 0 {
					sent[b] += ns
					delivered[b] += nd
				}
			}
			if err := rows.Err(); err != nil {
				return nil, nil, fmt.Errorf("message series: %w", err)
			}
		}
	}
	for _, e := range edges {
		for _, q := range []struct {
			sql string
			to  map[int64]int64
		}{{sentSeries(d, secs), sent}, {deliveredSeries(d, secs), delivered}} {
			m := q.to
			if err := eachRow(ctx, s.db, q.sql, func(k, n, _ int64) { m[k] += n }, campaignID, e.From.UTC(), e.To.UTC()); err != nil {
				return nil, nil, fmt.Errorf("message series: %w", err)
			}
		}
	}
	for _, m := range []map[int64]int64{sent, delivered} {
		for b, n := range m {
			if n == 0 {
				delete(m, b)
			}
		}
	}
	return sent, delivered, nil
}

// smsToday is the overview's "sms" figures: the messages created and due at
// or after since that are now sent, and how many of those were delivered.
// The tally keys such a message by the hour of the earlier of its created_at
// and send_after, so every hour from the first whole one after since is
// read from it; the messages whose earlier time falls in the partial hour
// before it are read from the messages.
func smsToday(ctx context.Context, db *store.DB, since time.Time) (sent, delivered int64, err error) {
	first, _, edges := hourSplit(since, time.Time{})
	if err := db.R.QueryRowContext(ctx, `SELECT COALESCE(SUM(created_sent), 0), COALESCE(SUM(created_delivered), 0)
		FROM sms_tally WHERE hour >= $1`, first).Scan(&sent, &delivered); err != nil {
		return 0, 0, fmt.Errorf("sms today: %w", err)
	}
	for _, e := range edges {
		// Both times at or after since, and the earlier of them before the
		// first whole hour: created before it, or created after it and due
		// before it (skewed clocks). Two disjoint counts, each a seek of an
		// index (status, created_at) and (status, send_after), rather than
		// one OR that reads every sent message.
		for _, q := range []string{
			`status = 'sent' AND created_at >= $1 AND created_at < $2 AND send_after >= $1`,
			`status = 'sent' AND send_after >= $1 AND send_after < $2 AND created_at >= $2`,
		} {
			var n, nd int64
			if err := db.R.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN delivery_state = 'delivered' THEN 1 ELSE 0 END), 0)
				FROM sms_outbox WHERE `+q, e.From.UTC(), e.To.UTC()).Scan(&n, &nd); err != nil {
				return 0, 0, fmt.Errorf("sms today: %w", err)
			}
			sent += n
			delivered += nd
		}
	}
	return sent, delivered, nil
}
