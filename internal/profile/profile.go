// Package profile keeps a refined profile of every member: recency,
// frequency and monetary value over a window, their quintile scores and RFM
// segment, category and brand affinities, preferred store, average basket,
// usual interval between visits and whether the member is overdue, response
// to SMS and points behaviour (docs/profiles.md).
//
// Profiles are computed from history in bulk, never by a query per member:
// the basket-derived figures and affinities from one ordered pass over the
// baskets and lines folded in Go (history.go), the rest by set-based SQL.
// Refresh recomputes every member and re-derives the quintiles (nightly
// and on demand); the checkout enqueues a member whose basket it commits,
// returns or voids (Enqueue, one statement in its transaction) and Drain
// recomputes the queued members with the same code, scoring them against
// the last refresh's quintiles. Figures that exist elsewhere come from their one
// definition: spend from report/figures, points from ledger.
//
// It is not for deciding offers (nbo) nor for drawing them (web, report).
package profile

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/perk-platform/perk/internal/store"
)

// Defaults of Options.
const (
	DefaultWindow        = 365 * 24 * time.Hour
	DefaultHalfLife      = 90 * 24 * time.Hour
	DefaultTopN          = 5
	DefaultOverdueFactor = 2.0
	DefaultRefreshChunk  = 2000
)

// Options tune the profiles; the zero value of each field is its default.
type Options struct {
	// Window is how far back frequency, monetary value, visits, preferred
	// store, affinities and SMS response look.
	Window time.Duration
	// HalfLife is the age at which a purchase weighs half as much in the
	// affinities.
	HalfLife time.Duration
	// TopN is how many categories and brands a profile keeps.
	TopN int
	// OverdueFactor is k: a member is overdue once no visit came for more
	// than k times their usual interval.
	OverdueFactor float64
	// RefreshChunk is how many members one write transaction of a full
	// refresh on SQLite computes (the writer is free between two).
	RefreshChunk int
	// Now is the clock (time.Now when nil).
	Now func() time.Time

	// betweenChunks, when set (by tests), runs after each write
	// transaction of a refresh, with the writer free.
	betweenChunks func()
}

// afterChunk runs the betweenChunks hook, if any.
func (o Options) afterChunk() {
	if o.betweenChunks != nil {
		o.betweenChunks()
	}
}

func (o Options) withDefaults() Options {
	if o.Window <= 0 {
		o.Window = DefaultWindow
	}
	if o.HalfLife <= 0 {
		o.HalfLife = DefaultHalfLife
	}
	if o.TopN <= 0 {
		o.TopN = DefaultTopN
	}
	if o.OverdueFactor <= 0 {
		o.OverdueFactor = DefaultOverdueFactor
	}
	if o.RefreshChunk <= 0 {
		o.RefreshChunk = DefaultRefreshChunk
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Affinity is a member's decayed share of spend in one category or brand.
type Affinity struct {
	Key   string  `json:"key"`
	Share float64 `json:"share"`
}

// SMSResponse is how a member answers the texts they receive, in the window.
type SMSResponse struct {
	Received       int64   `json:"received"`
	Clicks         int64   `json:"clicks"`
	Redemptions    int64   `json:"redemptions"`
	ClickRate      float64 `json:"click_rate"`      // clicks per message received; 0 with none received
	RedemptionRate float64 `json:"redemption_rate"` // redemptions per message received
}

// Points is a member's points behaviour, from the ledger's definitions.
type Points struct {
	Earned          int64   `json:"earned"`           // ledger Balance.Lifetime
	Redeemed        int64   `json:"redeemed"`         // spent, net of refunds
	Balance         int64   `json:"balance"`          // available now (ledger Balance.Available), at the last update
	RedemptionRatio float64 `json:"redemption_ratio"` // redeemed / earned; 0 when nothing earned
}

// Profile is one member's refined profile. The zero Profile (Segment "")
// is what a member without one has.
type Profile struct {
	MemberID       string      `json:"member_id"`
	LastPurchase   *time.Time  `json:"last_purchase"` // nil when never bought
	Frequency      int64       `json:"frequency"`     // committed baskets in the window
	Monetary       int64       `json:"monetary"`      // sales in the window, net of returns, minor units
	R              int         `json:"r"`             // 1-5, 0 when not scored
	F              int         `json:"f"`
	M              int         `json:"m"`
	Segment        Segment     `json:"segment"`
	SegmentSince   *time.Time  `json:"segment_since"`
	Categories     []Affinity  `json:"categories"`
	Brands         []Affinity  `json:"brands"`
	PreferredStore string      `json:"preferred_store"`
	AverageBasket  int64       `json:"average_basket"`
	VisitDays      int64       `json:"visit_days"`
	UsualInterval  float64     `json:"usual_interval_days"` // median days between visit days; 0 with fewer than two
	Overdue        bool        `json:"overdue"`
	SMS            SMSResponse `json:"sms"`
	Points         Points      `json:"points"`
	UpdatedAt      *time.Time  `json:"updated_at"`
}

// Get returns a member's stored profile as of now; a member without one
// gets the zero Profile (Segment "") and no error.
func Get(ctx context.Context, db *store.DB, memberID string) (Profile, error) {
	return GetAt(ctx, db, memberID, time.Now())
}

// GetAt is Get with the time that decides Overdue.
func GetAt(ctx context.Context, db *store.DB, memberID string, now time.Time) (Profile, error) {
	p := Profile{MemberID: memberID, Categories: []Affinity{}, Brands: []Affinity{}}
	var last, since, updated sql.NullTime
	var interval, overdueAfter int64
	var seg string
	err := db.R.QueryRowContext(ctx, `SELECT last_purchase, frequency, monetary, r_score, f_score, m_score, segment, segment_since,
		preferred_store, avg_basket, visit_days, usual_interval, overdue_after, sms_received, sms_clicks, sms_redemptions,
		points_earned, points_redeemed, points_balance, refreshed_at FROM member_profiles WHERE member_id = $1`, memberID).
		Scan(&last, &p.Frequency, &p.Monetary, &p.R, &p.F, &p.M, &seg, &since, &p.PreferredStore, &p.AverageBasket,
			&p.VisitDays, &interval, &overdueAfter, &p.SMS.Received, &p.SMS.Clicks, &p.SMS.Redemptions,
			&p.Points.Earned, &p.Points.Redeemed, &p.Points.Balance, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return p, nil
	}
	if err != nil {
		return Profile{}, fmt.Errorf("profile: get: %w", err)
	}
	p.Segment = Segment(seg)
	p.LastPurchase, p.SegmentSince, p.UpdatedAt = utcPtr(last), utcPtr(since), utcPtr(updated)
	p.UsualInterval = float64(interval) / 86400
	p.Overdue = overdue(overdueAfter, now.Unix())
	p.SMS.ClickRate, p.SMS.RedemptionRate = ratio(p.SMS.Clicks, p.SMS.Received), ratio(p.SMS.Redemptions, p.SMS.Received)
	p.Points.RedemptionRatio = ratio(p.Points.Redeemed, p.Points.Earned)
	rows, err := db.R.QueryContext(ctx, `SELECT kind, name, share FROM member_affinities WHERE member_id = $1
		ORDER BY kind, share DESC, name`, memberID)
	if err != nil {
		return Profile{}, fmt.Errorf("profile: affinities: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind string
		var a Affinity
		if err := rows.Scan(&kind, &a.Key, &a.Share); err != nil {
			return Profile{}, fmt.Errorf("profile: affinities: %w", err)
		}
		if kind == kindBrand {
			p.Brands = append(p.Brands, a)
		} else {
			p.Categories = append(p.Categories, a)
		}
	}
	if err := rows.Err(); err != nil {
		return Profile{}, fmt.Errorf("profile: affinities: %w", err)
	}
	return p, nil
}

const (
	kindCategory = "category"
	kindBrand    = "brand"
)

func ratio(a, b int64) float64 {
	if b <= 0 {
		return 0
	}
	return float64(a) / float64(b)
}

func utcPtr(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// Get is the package's Get on the service's database and clock.
func (s *Service) Get(ctx context.Context, memberID string) (Profile, error) {
	return GetAt(ctx, s.db, memberID, s.opt.Now())
}

// overdue is the one definition of overdue: no visit since overdue_after
// (the last purchase plus k times the usual interval), for a member with
// an interval. OverdueSQL says the same in SQL.
func overdue(after, now int64) bool { return after > 0 && after <= now }

// OverdueSQL is the condition that the member_profiles row under alias is
// overdue at the Unix time bound to placeholder now (as Profile.Overdue).
func OverdueSQL(alias, now string) string {
	return alias + ".overdue_after > 0 AND " + alias + ".overdue_after <= " + now
}
