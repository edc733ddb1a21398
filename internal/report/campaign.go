package report

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/report/figures"
	"github.com/perk-platform/perk/internal/store"
)

// Options shape a campaign report.
type Options struct {
	// Bucket is the width of the series' buckets: time.Hour or 24h. Zero
	// picks hours while the series spans at most three days, days beyond.
	Bucket time.Duration
}

// maxBuckets bounds a series (a year of hours).
const maxBuckets = 24 * 366

// CampaignReport is a campaign's progress. Money is in minor units of the
// programme's currency. Every count is computed from the rows when asked.
type CampaignReport struct {
	CampaignID   string          `json:"campaign_id"`
	Name         string          `json:"name"`
	Status       campaign.Status `json:"status"`
	AudienceKind string          `json:"audience_kind"`
	Start        time.Time       `json:"start"`
	End          time.Time       `json:"end"`
	LaunchedAt   *time.Time      `json:"launched_at,omitempty"`
	GeneratedAt  time.Time       `json:"generated_at"`

	// Audience is TreatedSize + ControlSize. For a fixed audience (filter,
	// list) they count the campaign_members rows written at launch (control
	// 0 and 1), erased members included. For a dynamic audience (all, open)
	// the audience is every member not erased now and enrolled before the
	// end of the window (see Uplift.To); ControlSize is those of them with a
	// control row from launch plus those enrolled since launch whom
	// campaign.InControl holds back; TreatedSize is the rest.
	Audience    int64 `json:"audience"`
	ControlSize int64 `json:"control_size"`
	TreatedSize int64 `json:"treated_size"`
	// AudienceAtLaunch and ControlAtLaunch are the figures fixed at launch.
	AudienceAtLaunch int64 `json:"audience_at_launch"`
	ControlAtLaunch  int64 `json:"control_at_launch"`

	Messages Messages `json:"messages"`

	// Clicks counts every recorded click (link_clicks) on the short links
	// made for the campaign (short_links.campaign), repeats included, at any
	// time; UniqueClickers the distinct members among them (clicks on links
	// tied to no member are in Clicks only).
	Clicks         int64 `json:"clicks"`
	UniqueClickers int64 `json:"unique_clickers"`

	// Redemptions counts the distinct baskets in which the campaign gave
	// something that was not given back (a void, or a return of every line
	// it applied to, restores a redemption; a free gift whose pool was empty
	// was never given); RedeemingMembers the distinct members behind them
	// (anonymous baskets of open campaigns are in Redemptions only).
	// DiscountGiven sums those redemptions' discount net of returns,
	// PointsGiven their campaign points. Revenue sums what those baskets,
	// when not voided, sold net of returns (each line's price less its
	// discount, for the units not returned), each basket once whatever else
	// it bought. One definition of each: package figures, docs/figures.md.
	Redemptions      int64 `json:"redemptions"`
	RedeemingMembers int64 `json:"redeeming_members"`
	DiscountGiven    int64 `json:"discount_given"`
	PointsGiven      int64 `json:"points_given"`
	Revenue          int64 `json:"revenue"`
	// RedemptionRate is RedeemingMembers / TreatedSize; null when nobody is
	// treated.
	RedemptionRate *float64 `json:"redemption_rate"`

	Uplift Uplift `json:"uplift"`
	// NextBestOffer is, for a launched campaign of kind next_best_offer,
	// its ranked arm against its random holdout (NextBestOfferUplift); the
	// campaign's own redemption figures above are 0, since the offers it
	// gave are personal-offer campaigns, and Uplift compares the arms'
	// conversion and spend (the random arm is its control group).
	NextBestOffer *NextBestOfferUplift `json:"next_best_offer,omitempty"`
	PerStore      []StoreFigures       `json:"per_store"`
	Series        Series               `json:"series"`
}

// Messages counts the campaign's messages (sms_outbox rows with its
// campaign_id) by where they are now. Total = Queued + Sent + Failed + Held
// + Cancelled.
type Messages struct {
	Total int64 `json:"total"` // every message queued for the campaign, whatever became of it
	// Queued are still waiting to go: status queued, or sending (claimed by
	// a sender, not yet settled).
	Queued int64 `json:"queued"`
	// Sent reached status sent (the gateway accepted them), whatever their
	// delivery state; Delivered are the sent ones whose receipt said
	// delivered; Undelivered the sent ones whose receipt said failed or
	// expired. Sent - Delivered - Undelivered await a receipt (or got
	// "unknown").
	Sent        int64 `json:"sent"`
	Delivered   int64 `json:"delivered"`
	Undelivered int64 `json:"undelivered"`
	// Failed were refused by the gateway for good or ran out of attempts
	// (status failed); Held were kept back by the contact policy (opt-out,
	// frequency cap ...); Cancelled were withdrawn (the member was erased).
	Failed    int64 `json:"failed"`
	Held      int64 `json:"held"`
	Cancelled int64 `json:"cancelled"`
}

// StoreFigures are a campaign's redemptions in one store, defined as in
// CampaignReport.
type StoreFigures struct {
	StoreID     string `json:"store_id"`
	Redemptions int64  `json:"redemptions"`
	Discount    int64  `json:"discount"`
	Revenue     int64  `json:"revenue"`
}

// Series is the campaign over time, for charts: consecutive UTC buckets
// from the one holding the launch or the start (the earlier) to the one
// holding the end of the window (min(end, now)), empty ones included.
// Events outside that span (a receipt or click after the end) are in the
// totals but not in the series.
type Series struct {
	Bucket  string   `json:"bucket"` // "hour" or "day"
	Buckets []Bucket `json:"buckets"`
}

// Bucket is one step of the series. Sent counts messages of status sent
// by sent_at; Delivered delivered ones by delivered_at; Clicks by the
// click's time; Redemptions (distinct baskets) and Discount of non-restored
// redemptions by the time of the sale.
type Bucket struct {
	Start       time.Time `json:"start"`
	Sent        int64     `json:"sent"`
	Delivered   int64     `json:"delivered"`
	Clicks      int64     `json:"clicks"`
	Redemptions int64     `json:"redemptions"`
	Discount    int64     `json:"discount"`
}

// ErrBucket refuses a bucket other than an hour or a day.
var ErrBucket = problem.InvalidField("bucket", "bucket_invalid", nil, "must be hour or day")

// Campaign reports on one campaign (campaign.ErrNotFound if there is none).
func (s *Service) Campaign(ctx context.Context, campaignID string, opt Options) (*CampaignReport, error) {
	if opt.Bucket != 0 && opt.Bucket != time.Hour && opt.Bucket != 24*time.Hour {
		return nil, ErrBucket
	}
	c, err := s.campaigns.Get(ctx, campaignID)
	if err != nil {
		return nil, err
	}
	now := s.now().UTC()
	r := &CampaignReport{
		CampaignID: c.ID, Name: c.Spec.Name, Status: c.Status, AudienceKind: c.Spec.Audience.Kind,
		Start: c.Start, End: c.End, LaunchedAt: c.LaunchedAt, GeneratedAt: now,
		AudienceAtLaunch: c.AudienceSize, ControlAtLaunch: c.ControlSize, PerStore: []StoreFigures{},
	}
	// The parts are independent queries writing separate fields of r: run
	// them side by side on the read pool, so a page waits for the slowest
	// (the uplift) rather than for the sum (1.7 s against 0.45 s on
	// PostgreSQL with a million members).
	g, gctx := errgroup.WithContext(ctx)
	for _, step := range []struct {
		name string
		fn   func(context.Context, *campaign.Campaign, *CampaignReport) error
	}{
		{"messages", s.messages}, {"clicks", s.clicks}, {"redemptions", s.redemptions}, {"stores", s.perStore},
		{"uplift", func(ctx context.Context, c *campaign.Campaign, r *CampaignReport) error {
			return s.uplift(ctx, c, r, now)
		}},
		{"series", func(ctx context.Context, c *campaign.Campaign, r *CampaignReport) error {
			return s.series(ctx, c, r, now, opt.Bucket)
		}},
		{"next best offer", func(ctx context.Context, c *campaign.Campaign, r *CampaignReport) error {
			if c.Spec.Kind != campaign.KindNextBestOffer || !c.Launched() {
				return nil
			}
			n, err := s.nboArms(ctx, c.ID)
			if err == nil {
				n.Name, r.NextBestOffer = c.Spec.Name, n
			}
			return err
		}},
	} {
		g.Go(func() error {
			if err := step.fn(gctx, c, r); err != nil {
				return fmt.Errorf("campaign report %s: %s: %w", c.ID, step.name, err)
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	r.Audience, r.ControlSize, r.TreatedSize = r.Uplift.Treated.Members+r.Uplift.Control.Members, r.Uplift.Control.Members, r.Uplift.Treated.Members
	if r.TreatedSize > 0 {
		rate := float64(r.RedeemingMembers) / float64(r.TreatedSize)
		r.RedemptionRate = &rate
	}
	return r, nil
}

// The campaign's ($1) messages by status and receipt, and its sent and
// delivered messages bucketed by secs in [$2, $3): each reads
// sms_outbox_campaign_idx alone (migration 0055), never a table row per
// message.
const messagesByState = `SELECT status, delivery_state, COUNT(*) FROM sms_outbox
	WHERE campaign_id = $1 GROUP BY status, delivery_state`

func sentSeries(d store.Dialect, secs int64) string {
	return `SELECT ` + d.EpochBucket("sent_at", secs) + `, COUNT(*), 0 FROM sms_outbox
		WHERE campaign_id = $1 AND status = 'sent' AND sent_at >= $2 AND sent_at < $3 GROUP BY 1`
}

func deliveredSeries(d store.Dialect, secs int64) string {
	return `SELECT ` + d.EpochBucket("delivered_at", secs) + `, COUNT(*), 0 FROM sms_outbox
		WHERE campaign_id = $1 AND status = 'sent' AND delivery_state = 'delivered' AND delivered_at >= $2 AND delivered_at < $3 GROUP BY 1`
}

func (s *Service) messages(ctx context.Context, c *campaign.Campaign, r *CampaignReport) error {
	rows, err := s.db.R.QueryContext(ctx, messagesByState, c.ID)
	if err != nil {
		return fmt.Errorf("messages: %w", err)
	}
	defer rows.Close()
	m := &r.Messages
	for rows.Next() {
		var status, delivery string
		var n int64
		if err := rows.Scan(&status, &delivery, &n); err != nil {
			return fmt.Errorf("messages: %w", err)
		}
		m.Total += n
		switch status {
		case "queued", "sending":
			m.Queued += n
		case "sent":
			m.Sent += n
			switch delivery {
			case "delivered":
				m.Delivered += n
			case "failed", "expired":
				m.Undelivered += n
			}
		case "failed":
			m.Failed += n
		case "held":
			m.Held += n
		case "cancelled":
			m.Cancelled += n
		}
	}
	return rows.Err()
}

func (s *Service) clicks(ctx context.Context, c *campaign.Campaign, r *CampaignReport) error {
	err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(DISTINCT k.member_id) FROM link_clicks k
		JOIN short_links l ON l.code = k.code WHERE l.campaign = $1`, c.ID).Scan(&r.Clicks, &r.UniqueClickers)
	if err != nil {
		return fmt.Errorf("clicks: %w", err)
	}
	return nil
}

func (s *Service) redemptions(ctx context.Context, c *campaign.Campaign, r *CampaignReport) error {
	f, err := figures.CampaignFigures(ctx, s.db.R, c.ID)
	if err != nil {
		return err
	}
	r.Redemptions, r.RedeemingMembers, r.DiscountGiven, r.PointsGiven = f.Redemptions, f.RedeemingMembers, f.Discount, f.Points
	return nil
}

// perStore splits redemptions, discount and revenue by store, from the
// roll-up basket_tally (package rollup: a row per hour and store, kept at
// commit, return and void); Revenue is the sum of the stores'.
func (s *Service) perStore(ctx context.Context, c *campaign.Campaign, r *CampaignReport) error {
	rows, err := s.db.R.QueryContext(ctx, `SELECT store_id, SUM(redemptions), SUM(discount), SUM(sales) FROM basket_tally
		WHERE campaign_id = $1 GROUP BY store_id HAVING SUM(redemptions) <> 0`, c.ID)
	if err != nil {
		return fmt.Errorf("per store: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var f StoreFigures
		if err := rows.Scan(&f.StoreID, &f.Redemptions, &f.Discount, &f.Revenue); err != nil {
			return fmt.Errorf("per store: %w", err)
		}
		r.PerStore = append(r.PerStore, f)
		r.Revenue += f.Revenue
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("per store: %w", err)
	}
	sortStores(r.PerStore)
	return nil
}

// sortStores orders stores by revenue, then discount, then id.
func sortStores(fs []StoreFigures) {
	slices.SortFunc(fs, func(a, b StoreFigures) int {
		return cmp.Or(cmp.Compare(b.Revenue, a.Revenue), cmp.Compare(b.Discount, a.Discount), strings.Compare(a.StoreID, b.StoreID))
	})
}

// window is the campaign window so far, [start, min(end, now)), empty
// (To = From) before the start.
func window(c *campaign.Campaign, now time.Time) (from, to time.Time) {
	from, to = c.Start, c.End
	if now.Before(to) {
		to = now
	}
	if to.Before(from) {
		to = from
	}
	return from, to
}

func (s *Service) series(ctx context.Context, c *campaign.Campaign, r *CampaignReport, now time.Time, bucket time.Duration) error {
	r.Series.Buckets = []Bucket{}
	from := c.Start
	if c.LaunchedAt != nil && c.LaunchedAt.Before(from) {
		from = *c.LaunchedAt
	}
	to := c.End
	if now.Before(to) {
		to = now
	}
	if bucket == 0 {
		bucket = time.Hour
		if to.Sub(from) > 72*time.Hour {
			bucket = 24 * time.Hour
		}
	}
	r.Series.Bucket = map[time.Duration]string{time.Hour: "hour", 24 * time.Hour: "day"}[bucket]
	if c.LaunchedAt == nil || !to.After(from) {
		return nil
	}
	secs := int64(bucket / time.Second)
	first, last := from.Unix()/secs, (to.Unix()-1)/secs
	if to.Unix() <= from.Unix() {
		last = first
	}
	if last-first+1 > maxBuckets {
		return problem.InvalidField("bucket", "bucket_too_small", nil, "more than %d buckets: ask for days", maxBuckets)
	}
	buckets := make([]Bucket, last-first+1)
	for i := range buckets {
		buckets[i].Start = time.Unix((first+int64(i))*secs, 0).UTC()
	}
	at := func(n int64) *Bucket {
		if n < first || n > last {
			return nil
		}
		return &buckets[n-first]
	}
	d := s.db.Dialect
	// The messages, and a part with a tally (an hourly roll-up, in columns
	// hour, n, sum over hours [$2, $3)), read their whole hours from the
	// roll-up and only the partial hours at the ends of the span from the
	// rows.
	queries := []struct {
		sql, tally string
		add        func(b *Bucket, n, sum int64)
	}{
		{`SELECT ` + d.EpochBucket("k.clicked_at", secs) + `, COUNT(*), 0 FROM link_clicks k JOIN short_links l ON l.code = k.code
			WHERE l.campaign = $1 AND k.clicked_at >= $2 AND k.clicked_at < $3 GROUP BY 1`, "",
			func(b *Bucket, n, _ int64) { b.Clicks += n }},
		{`SELECT ` + d.EpochBucket("r.created_at", secs) + `, ` + figures.Redemptions + `, ` + figures.Discount + ` FROM redemptions r
			WHERE r.campaign_id = $1 AND ` + figures.Standing + ` AND r.created_at >= $2 AND r.created_at < $3 GROUP BY 1`,
			`SELECT hour, SUM(redemptions), SUM(discount) FROM basket_tally WHERE campaign_id = $1 AND hour >= $2 AND hour < $3 GROUP BY hour`,
			func(b *Bucket, n, sum int64) { b.Redemptions += n; b.Discount += sum }},
	}
	sent, delivered, err := s.messageSeries(ctx, d, c.ID, from, to, secs)
	if err != nil {
		return err
	}
	for k, n := range sent {
		if b := at(k); b != nil {
			b.Sent += n
		}
	}
	for k, n := range delivered {
		if b := at(k); b != nil {
			b.Delivered += n
		}
	}
	firstHour, lastHour, edges := hourSplit(from, to)
	for _, q := range queries {
		// A row's bucket is k / perBucket: 1 for a query bucketed as the
		// series is, 24 for an hourly roll-up's hours in a series by day.
		into := func(perBucket int64) func(k, n, sum int64) {
			return func(k, n, sum int64) {
				if b := at(k / perBucket); b != nil {
					q.add(b, n, sum)
				}
			}
		}
		spans := []span{{from, to}}
		if q.tally != "" {
			spans = edges
			if err := eachRow(ctx, s.db, q.tally, into(secs/3600), c.ID, firstHour, lastHour); err != nil {
				return err
			}
		}
		for _, sp := range spans {
			if err := eachRow(ctx, s.db, q.sql, into(1), c.ID, sp.From, sp.To); err != nil {
				return err
			}
		}
	}
	r.Series.Buckets = buckets
	return nil
}

// eachRow runs a series query whose rows are (k, n, sum) and hands each to
// add.
func eachRow(ctx context.Context, db *store.DB, query string, add func(k, n, sum int64), args ...any) error {
	rows, err := db.R.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k, n, sum int64
		if err := rows.Scan(&k, &n, &sum); err != nil {
			return err
		}
		add(k, n, sum)
	}
	return rows.Err()
}
