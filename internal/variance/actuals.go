package variance

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/report/figures"
	"github.com/perk-platform/perk/internal/store"
)

// Lookback is how many hours before its high-water mark an incremental
// pass recounts: receipts, clicks and returns that arrive late for a recent
// hour are caught; older changes wait for Rebuild (a campaign's end, or
// perk's nightly pass).
const Lookback = 2

func epochHour(t time.Time) int64 { return t.Unix() / 3600 }

func hourStart(h int64) time.Time { return time.Unix(h*3600, 0).UTC() }

// bucketQueries count one campaign's stages per hour (and store) over
// [$2, $3); $4 is the campaign's launch. Redemptions and revenue are
// figures' definitions.
func bucketQueries(d store.Dialect) []struct {
	stage Stage
	sql   string
} {
	h := func(col string) string { return d.EpochBucket(col, 3600) }
	return []struct {
		stage Stage
		sql   string
	}{
		{Delivered, `SELECT ` + h("delivered_at") + `, '', COUNT(*) FROM sms_outbox
			WHERE campaign_id = $1 AND status = 'sent' AND delivery_state = 'delivered' AND delivered_at >= $2 AND delivered_at < $3 GROUP BY 1`},
		{Engaged, `SELECT ` + h("k.clicked_at") + `, '', COUNT(*) FROM link_clicks k JOIN short_links l ON l.code = k.code
			WHERE l.campaign = $1 AND k.clicked_at >= $2 AND k.clicked_at < $3 GROUP BY 1`},
		{Engaged, `SELECT ` + h("v.visited_at") + `, '', COUNT(*) FROM card_visits v
			JOIN campaign_members m ON m.campaign_id = $1 AND m.member_id = v.member_id AND m.control = 0
			WHERE v.visited_at >= $2 AND v.visited_at < $3 AND v.visited_at >= $4 GROUP BY 1`},
		{FirstVisits, `SELECT ` + h("b.created_at") + `, b.store_id, COUNT(*) FROM baskets b
			JOIN campaign_members m ON m.campaign_id = $1 AND m.member_id = b.member_id AND m.control = 0
			WHERE b.created_at >= $2 AND b.created_at < $3 AND b.status = 'committed'
			AND NOT EXISTS (SELECT 1 FROM baskets p WHERE p.member_id = b.member_id AND p.status = 'committed'
				AND p.created_at >= $4 AND p.created_at < b.created_at) GROUP BY 1, 2`},
		{Redemptions, `SELECT ` + h("r.created_at") + `, r.store_id, ` + figures.Redemptions + ` FROM redemptions r
			WHERE r.campaign_id = $1 AND ` + figures.Standing + ` AND r.created_at >= $2 AND r.created_at < $3 GROUP BY 1, 2`},
		{Revenue, `SELECT ` + h("b.created_at") + `, b.store_id, ` + figures.Sales + ` FROM baskets b JOIN basket_lines l ON l.basket_id = b.id
			WHERE b.id IN (SELECT r.basket_id FROM redemptions r WHERE r.campaign_id = $1 AND ` + figures.Standing + `
				AND r.created_at >= $2 AND r.created_at < $3) GROUP BY 1, 2`},
	}
}

// count runs the bucket queries over [from, to) and adds what they find
// to into.
func (s *Service) count(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, id string, launch, from, to time.Time, into map[bucketKey]int64) error {
	for _, bq := range bucketQueries(s.db.Dialect) {
		args := []any{id, from, to}
		if strings.Contains(bq.sql, "$4") {
			args = append(args, launch)
		}
		rows, err := q.QueryContext(ctx, bq.sql, args...)
		if err != nil {
			return fmt.Errorf("variance: count %s: %w", bq.stage, err)
		}
		for rows.Next() {
			var k bucketKey
			var n int64
			if err := rows.Scan(&k.hour, &k.store, &n); err != nil {
				rows.Close()
				return fmt.Errorf("variance: count %s: %w", bq.stage, err)
			}
			k.stage = bq.stage
			into[k] += n
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("variance: count %s: %w", bq.stage, err)
		}
	}
	return nil
}

type bucketKey struct {
	stage Stage
	store string
	hour  int64
}

// Update is the incremental pass for one launched campaign: it recounts
// the buckets from Lookback hours before its high-water mark (from the
// launch hour on the first pass) up to now, replaces them, and moves the
// mark to the current hour. It reads only the rows of those hours.
func (s *Service) Update(ctx context.Context, id string, launch time.Time) error {
	return s.recount(ctx, id, launch, false)
}

// Rebuild recounts every bucket of a campaign from its launch hour: for
// changes older than the incremental pass looks back (a return days later).
func (s *Service) Rebuild(ctx context.Context, id string, launch time.Time) error {
	return s.recount(ctx, id, launch, true)
}

func (s *Service) recount(ctx context.Context, id string, launch time.Time, all bool) error {
	now := s.now()
	start := epochHour(launch)
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		var through int64
		err := tx.QueryRowContext(ctx, `SELECT through FROM variance_marks WHERE campaign_id = $1`, id).Scan(&through)
		first := start
		switch {
		case err == sql.ErrNoRows:
		case err != nil:
			return fmt.Errorf("variance: mark: %w", err)
		case !all:
			first = max(start, through-Lookback)
		}
		from, to := hourStart(first), now
		if from.Before(launch) {
			from = launch
		}
		counts := map[bucketKey]int64{}
		if to.After(from) {
			if err := s.count(ctx, tx, id, launch, from, to, counts); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM variance_buckets WHERE campaign_id = $1 AND hour >= $2`, id, first); err != nil {
			return fmt.Errorf("variance: clear buckets: %w", err)
		}
		if err := insertBuckets(ctx, tx, s.db.Dialect, id, counts); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO variance_marks (campaign_id, through, updated_at) VALUES ($1, $2, $3)
			ON CONFLICT (campaign_id) DO UPDATE SET through = excluded.through, updated_at = excluded.updated_at`, id, epochHour(now), now)
		if err != nil {
			return fmt.Errorf("variance: mark: %w", err)
		}
		return nil
	})
}

func insertBuckets(ctx context.Context, tx *sql.Tx, d store.Dialect, id string, counts map[bucketKey]int64) error {
	const cols, batch = 5, 500
	keys := make([]bucketKey, 0, len(counts))
	for k, n := range counts {
		if n != 0 {
			keys = append(keys, k)
		}
	}
	for start := 0; start < len(keys); start += batch {
		part := keys[start:min(start+batch, len(keys))]
		q := `INSERT INTO variance_buckets (campaign_id, stage, store_id, hour, n) VALUES `
		args := make([]any, 0, cols*len(part))
		for i, k := range part {
			if i > 0 {
				q += ", "
			}
			q += "(" + d.Placeholders(i*cols+1, cols) + ")"
			args = append(args, id, string(k.stage), k.store, k.hour, counts[k])
		}
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("variance: write buckets: %w", err)
		}
	}
	return nil
}

// readActuals reads a campaign's buckets as hourly series from its launch
// hour over hours hours: per stage, and redemptions per store.
func (s *Service) readActuals(ctx context.Context, id string, launch time.Time, hours int) (Actuals, error) {
	a := Actuals{Hourly: map[Stage][]int64{}, Stores: map[string][]int64{}}
	for _, st := range Stages {
		a.Hourly[st] = make([]int64, hours)
	}
	start := epochHour(launch)
	// Totals per stage and hour are summed by the database; only the
	// redemptions come per store: a third of the rows of reading them all.
	rows, err := s.db.R.QueryContext(ctx, `SELECT stage, '', hour, SUM(n) FROM variance_buckets
		WHERE campaign_id = $1 AND hour >= $2 AND hour < $3 GROUP BY stage, hour
		UNION ALL SELECT stage, store_id, hour, n FROM variance_buckets
		WHERE campaign_id = $1 AND stage = 'redemptions' AND hour >= $2 AND hour < $3 AND store_id <> ''`, id, start, start+int64(hours))
	if err != nil {
		return a, fmt.Errorf("variance: read buckets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st Stage
		var storeID string
		var h, n int64
		if err := rows.Scan(&st, &storeID, &h, &n); err != nil {
			return a, fmt.Errorf("variance: read buckets: %w", err)
		}
		i := int(h - start)
		if storeID == "" {
			if hs, ok := a.Hourly[st]; ok {
				hs[i] += n
			}
			continue
		}
		hs := a.Stores[storeID]
		if hs == nil {
			hs = make([]int64, hours)
			a.Stores[storeID] = hs
		}
		hs[i] += n
	}
	return a, rows.Err()
}
