package report

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/perk-platform/perk/internal/profile"
	"github.com/perk-platform/perk/internal/report/figures"
	"github.com/perk-platform/perk/internal/store"
)

// Overview is the dashboard's front page: the programme at a glance.
type Overview struct {
	Members      int64       `json:"members"`       // not erased
	OptedIn      int64       `json:"opted_in"`      // may receive marketing SMS
	NewByDay     []DayCounts `json:"new_by_day"`    // enrolments per day and channel, oldest first
	Campaigns    int64       `json:"campaigns"`     // live now (active)
	Transactions int64       `json:"transactions"`  // baskets committed today and not voided
	Sales        int64       `json:"sales"`         // what those baskets sold, net of returns, minor units (figures.Sales)
	Redemptions  int64       `json:"redemptions"`   // today's redemptions of every campaign: the sum of the campaigns' (figures.Redemptions)
	Discount     int64       `json:"discount"`      // their discount net of returns, minor units (figures.Discount)
	PointsEarned int64       `json:"points_earned"` // by today's committed baskets, net of returns (figures.LinePoints)
	SMSSent      int64       `json:"sms_sent"`      // messages queued today and sent
	SMSDelivered int64       `json:"sms_delivered"` // of those, delivered
	Since        time.Time   `json:"since"`         // the start of "today" in the programme's zone, as UTC
	// RFM is the grid of members' stored profiles (package profile) and
	// Movement how they moved between segments since the end of last month.
	RFM      []profile.Cell   `json:"rfm"`
	Movement profile.Movement `json:"segment_movement"`
}

// DayCounts is one day's enrolments by channel.
type DayCounts struct {
	Day       string           `json:"day"` // YYYY-MM-DD in the programme's zone
	ByChannel map[string]int64 `json:"by_channel"`
	Total     int64            `json:"total"`
}

// ProgrammeOverview computes the overview at now: "today" and the days of
// the enrolment chart are days in loc; days counts the chart's days.
func ProgrammeOverview(ctx context.Context, db *store.DB, now time.Time, loc *time.Location, days int) (*Overview, error) {
	local := now.In(loc)
	today := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	o := &Overview{Since: today.UTC()}
	q := db.R
	// The parts are independent queries writing separate fields of o: run
	// them side by side on the read pool, as the campaign report does, so
	// the page waits for the slowest rather than for the sum.
	g, gctx := errgroup.WithContext(ctx)
	row := func(name, query string, args []any, dest ...any) {
		g.Go(func() error {
			if err := q.QueryRowContext(gctx, query, args...).Scan(dest...); err != nil {
				return fmt.Errorf("overview %s: %w", name, err)
			}
			return nil
		})
	}
	row("members", `SELECT COUNT(*), COALESCE(SUM(CASE WHEN status = 'active' THEN 1 ELSE 0 END), 0)
		FROM members WHERE status <> 'erased'`, nil, &o.Members, &o.OptedIn)
	row("campaigns", `SELECT COUNT(*) FROM campaigns WHERE status IN ('active', 'scheduled') AND starts_at <= $1 AND ends_at > $1`,
		[]any{now.UTC()}, &o.Campaigns)
	// Today's baskets and redemptions: the whole hours from the roll-up
	// basket_tally (row '', package rollup), the part of an hour before
	// the first whole one (a zone off UTC by half an hour) from the rows.
	firstHour, _, edges := hourSplit(o.Since, time.Time{})
	edge := o.Since
	if len(edges) > 0 {
		edge = edges[0].To
	}
	var tallied, raw struct{ baskets, sales, points, redemptions, discount int64 }
	row("baskets tally", `SELECT COALESCE(SUM(baskets), 0), COALESCE(SUM(sales), 0), COALESCE(SUM(points), 0),
		COALESCE(SUM(redemptions), 0), COALESCE(SUM(discount), 0) FROM basket_tally WHERE campaign_id = '' AND hour >= $1`,
		[]any{firstHour}, &tallied.baskets, &tallied.sales, &tallied.points, &tallied.redemptions, &tallied.discount)
	row("baskets", `SELECT COUNT(DISTINCT b.id), `+figures.Sales+`, COALESCE(SUM(`+figures.LinePoints+`), 0)
		FROM baskets b JOIN basket_lines l ON l.basket_id = b.id WHERE b.created_at >= $1 AND b.created_at < $2 AND b.status = 'committed'`,
		[]any{o.Since, edge}, &raw.baskets, &raw.sales, &raw.points)
	// A redemption is a campaign's in one basket: counting (basket,
	// campaign) pairs makes the overview the sum of the campaign reports.
	row("redemptions", `SELECT COUNT(*), COALESCE(SUM(d), 0) FROM (SELECT r.basket_id, r.campaign_id, `+figures.Discount+` AS d
		FROM redemptions r WHERE r.created_at >= $1 AND r.created_at < $2 AND `+figures.Standing+` GROUP BY r.basket_id, r.campaign_id) x`,
		[]any{o.Since, edge}, &raw.redemptions, &raw.discount)
	// Today's messages: whole hours from the roll-up sms_tally (package
	// sms), the partial hour before the first from the messages.
	g.Go(func() (err error) {
		o.SMSSent, o.SMSDelivered, err = smsToday(gctx, db, o.Since)
		return err
	})
	g.Go(func() (err error) {
		o.RFM, err = profile.Grid(gctx, db)
		return err
	})
	g.Go(func() (err error) {
		o.Movement, err = profile.Movements(gctx, db)
		return err
	})
	g.Go(func() error {
		var err error
		o.NewByDay, err = newByDay(gctx, db, today, loc, days)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	o.Transactions, o.Sales, o.PointsEarned = tallied.baskets+raw.baskets, tallied.sales+raw.sales, tallied.points+raw.points
	o.Redemptions, o.Discount = tallied.redemptions+raw.redemptions, tallied.discount+raw.discount
	return o, nil
}

// newByDay counts the enrolments of the days days up to today, by channel.
func newByDay(ctx context.Context, db *store.DB, today time.Time, loc *time.Location, days int) ([]DayCounts, error) {
	first := today.AddDate(0, 0, -(days - 1))
	rows, err := db.R.QueryContext(ctx, `SELECT enrolled_at, channel FROM members WHERE enrolled_at >= $1`, first.UTC())
	if err != nil {
		return nil, fmt.Errorf("overview enrolments: %w", err)
	}
	defer rows.Close()
	out := make([]DayCounts, days)
	byDay := map[string]*DayCounts{}
	for d := range out {
		k := first.AddDate(0, 0, d).Format("2006-01-02")
		out[d] = DayCounts{Day: k, ByChannel: map[string]int64{}}
		byDay[k] = &out[d]
	}
	for rows.Next() {
		var at time.Time
		var ch string
		if err := rows.Scan(&at, &ch); err != nil {
			return nil, fmt.Errorf("overview enrolments: %w", err)
		}
		if dc := byDay[at.In(loc).Format("2006-01-02")]; dc != nil {
			dc.ByChannel[ch]++
			dc.Total++
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("overview enrolments: %w", err)
	}
	return out, nil
}
