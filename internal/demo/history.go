package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/member"
)

// historyDays is how far back the demo's history starts.
const historyDays = 28

// seed makes every demo the same.
const seed = 2026

// history plans the demo's weeks: who joins when, the campaigns, the
// baskets, and what shoppers do with their messages.
type history struct {
	now   time.Time
	zone  *time.Location
	today time.Time // midnight of now's day in zone
	rng   *rand.Rand

	joined  []joined       // members so far, in the order they joined
	txns    map[string]int // transactions so far per store, for their ids
	baskets int
}

type joined struct{ id, code string }

func newHistory(now time.Time, zone *time.Location) *history {
	l := now.In(zone)
	return &history{now: now, zone: zone, today: time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, zone),
		rng: rand.New(rand.NewPCG(seed, seed)), txns: map[string]int{}}
}

// day is midnight d days from today (negative: in the past), in the zone.
func (h *history) day(d int) time.Time { return h.today.AddDate(0, 0, d) }

// clockAt is hh:mm on day d.
func (h *history) clockAt(d, hh, mm int) time.Time {
	return h.day(d).Add(time.Duration(hh)*time.Hour + time.Duration(mm)*time.Minute)
}

// earlier is a moment of today before now: f = 0 the start of the last ten
// hours (not before 07:00, nor before midnight), f = 1 a minute ago. The
// overview's "today" has something to show at any hour.
func (h *history) earlier(f float64) time.Time {
	start, end := h.now.Add(-10*time.Hour), h.now.Add(-time.Minute)
	for _, floor := range []time.Time{h.today, h.today.Add(7 * time.Hour)} {
		if start.Before(floor) && floor.Before(end) {
			start = floor
		}
	}
	if end.Before(start) {
		start = end
	}
	return start.Add(time.Duration(f * float64(end.Sub(start))))
}

// date is day d as a campaign date.
func (h *history) date(d int) string { return h.day(d).Format("2006-01-02") }

// plan schedules the whole history on w.
func (h *history) plan(w *world, out *Seeded) {
	for i := range people {
		var at time.Time
		switch {
		case i < 12: // the opening day
			at = h.clockAt(-historyDays, 9, 25*i)
		case i < len(people)-2:
			at = h.clockAt(-historyDays+1+(i-12)*(historyDays-1)/(len(people)-14), 10+(i*3)%9, 7*i%60)
		default: // two join today
			at = h.earlier(0.2 + 0.4*float64(i-len(people)+2))
		}
		w.at(at, func(ctx context.Context) error { return h.enrol(ctx, w, i, out) })
	}
	h.planCampaigns(w, out)
	h.planBaskets(w)
	h.planScripted(w, out)
}

func (h *history) enrol(ctx context.Context, w *world, i int, out *Seeded) error {
	c := enrolChannels[i%len(enrolChannels)]
	e, err := w.members.Enrol(ctx, member.EnrolRequest{Profile: profile(i), Channel: c.ch, Source: c.source, Consent: consents(i)})
	if err != nil {
		return fmt.Errorf("enrol: %w", err)
	}
	h.joined = append(h.joined, joined{id: e.Member.ID, code: string(e.Member.Code)})
	if i == 0 {
		out.Featured, out.FeaturedCard = e.Member.ID, w.members.CardURL(e.CardToken)
	}
	return nil
}

// planCampaigns: last month's bakery offer (ended), this fortnight's coffee
// offer with a control group (live), next week's double points (scheduled)
// and a cheese offer still being written (draft).
func (h *history) planCampaigns(w *world, out *Seeded) {
	coffee := engine.Scope{Categories: []string{"coffee"}}
	bakery := campaign.Spec{Name: "Bakery fortnight", Description: "25% off bread and pastries for two weeks",
		Start: h.date(-26), End: h.date(-12), Audience: campaign.Audience{Kind: campaign.AudienceAll},
		Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 25, Scope: engine.Scope{Categories: []string{"bakery"}}}},
		Message:  `Hi {{.FirstName}}, 25% off bread and pastries at Perk Market for two weeks. Your card: {{link .CardURL}}`}
	live := campaign.Spec{Name: "20% off coffee", Description: "20% off coffee and 25 bonus points, with a 10% control group",
		Start: h.date(-9), End: h.date(12), Audience: campaign.Audience{Kind: campaign.AudienceAll}, ControlGroup: 10, Priority: 10,
		Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 20, Scope: coffee}, {Kind: engine.PointsBonus, Points: 25, Scope: coffee}},
		Limits:   campaign.Limits{Budget: 50000},
		Message:  `{{.FirstName}}, your coffee is 20% off at Perk Market for three weeks, with 25 bonus points: {{link .CardURL}}`}
	double := campaign.Spec{Name: "Double points weekend", Start: h.date(7), End: h.date(9),
		Audience: campaign.Audience{Kind: campaign.AudienceAll}, Benefits: []engine.Benefit{{Kind: engine.PointsMultiplier, Multiplier: 2}}}
	cheese := campaign.Spec{Name: "Cheese board", Start: h.date(14), End: h.date(21), Audience: campaign.Audience{Kind: campaign.AudienceAll},
		Benefits: []engine.Benefit{{Kind: engine.PercentOff, Percent: 15, Scope: engine.Scope{Categories: []string{"cheese"}}}}}

	w.at(h.clockAt(-27, 16, 0), func(ctx context.Context) error { return h.launch(ctx, w, bakery, true, &out.Ended) })
	w.at(h.clockAt(-10, 10, 0), func(ctx context.Context) error { return h.launch(ctx, w, live, true, &out.Live) })
	w.at(h.earlier(0.1), func(ctx context.Context) error { return h.launch(ctx, w, double, true, &out.Scheduled) })
	w.at(h.earlier(0.15), func(ctx context.Context) error { return h.launch(ctx, w, cheese, false, &out.Draft) })
}

// launch creates a campaign (and launches it), and plans the clicks on
// its announcement's links.
func (h *history) launch(ctx context.Context, w *world, spec campaign.Spec, launch bool, id *string) error {
	c, err := w.campaigns.Create(ctx, spec)
	if err != nil {
		return fmt.Errorf("campaign %q: %w", spec.Name, err)
	}
	*id = c.ID
	if !launch {
		return nil
	}
	if _, err := w.campaigns.Launch(ctx, c.ID); err != nil {
		return fmt.Errorf("campaign %q: %w", spec.Name, err)
	}
	if spec.Message == "" {
		return nil
	}
	// The links were made at launch; ordered by phone, so the same members
	// click every time.
	rows, err := w.db.R.QueryContext(ctx, `SELECT s.code, s.member_id FROM short_links s JOIN members m ON m.id = s.member_id
		WHERE s.campaign = $1 ORDER BY m.phone`, c.ID)
	if err != nil {
		return fmt.Errorf("campaign links: %w", err)
	}
	defer rows.Close()
	now := w.clock.Now()
	for i := 0; rows.Next(); i++ {
		var code, memberID string
		if err := rows.Scan(&code, &memberID); err != nil {
			return err
		}
		if i%3 == 2 {
			continue // a third never click
		}
		at := now.Add(20*time.Minute + time.Duration(i)*13*time.Minute)
		w.at(at, func(ctx context.Context) error { return h.click(ctx, w, code, memberID) })
		if i%5 == 0 { // and some look again the next day
			w.at(at.Add(26*time.Hour), func(ctx context.Context) error { return h.click(ctx, w, code, memberID) })
		}
	}
	return rows.Err()
}

// click follows a tracked link to the member's card, as /l/{code} and the
// card page do.
func (h *history) click(ctx context.Context, w *world, code, memberID string) error {
	if _, err := w.links.Click(ctx, code); err != nil {
		return err
	}
	return w.members.RecordCardVisit(ctx, memberID, "")
}
