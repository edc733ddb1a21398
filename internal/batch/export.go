package batch

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
)

// Exporter writes offer files for tills that work offline.
type Exporter struct {
	db        *store.DB
	campaigns *campaign.Service
	policy    ledger.Policy
	now       func() time.Time
}

// NewExporter returns an exporter; policy values the points balances.
func NewExporter(db *store.DB, campaigns *campaign.Service, policy ledger.Policy, now func() time.Time) *Exporter {
	if now == nil {
		now = time.Now
	}
	return &Exporter{db: db, campaigns: campaigns, policy: policy, now: now}
}

// ExportOptions choose an offer export.
type ExportOptions struct {
	Store  string // "" = every store
	Format Format
	Since  string // a cursor from an earlier export: a delta; "" = a full export
	Dir    string // where the files appear
}

// Errors callers branch on.
var (
	ErrUnknownStore  = problem.InvalidField("store", "store_unknown", nil, "no store has this id")
	ErrCursorInvalid = problem.InvalidField("since", "cursor_invalid", nil, "is not a cursor an earlier export printed")
)

// cursorOverlap is how far a delta looks back before its cursor, so a
// commit in flight while the previous export read is in this one; a member
// sent twice is harmless, since a delta replaces a member's offers.
const cursorOverlap = time.Minute

func formatCursor(t time.Time) string { return "v1." + strconv.FormatInt(t.UTC().UnixMicro(), 10) }

func parseCursor(s string) (time.Time, error) {
	n, err := strconv.ParseInt(strings.TrimPrefix(s, "v1."), 10, 64)
	if err != nil || !strings.HasPrefix(s, "v1.") {
		return time.Time{}, ErrCursorInvalid
	}
	return time.UnixMicro(n).UTC(), nil
}

// liveOffer is a campaign whose offers go into the files.
type liveOffer struct {
	l      *campaign.Live
	offers []Offer
	period string // the current period's key in offer_uses, for a per-period limit
	// enc holds, per offer, what of its row is the same for every member,
	// encoded once in the export's format.
	enc []encodedOffer
}

// plan is what one export reads once: the store's zone and the campaigns.
type plan struct {
	now     time.Time
	since   time.Time // zero: full
	full    bool
	loc     *time.Location
	offers  []liveOffer
	index   map[string]int // campaign id -> position in offers
	fixed   bool           // some campaign has a fixed audience (campaign_members)
	limited bool           // some campaign has per-member limits (offer_uses)
	scope   string
}

func (e *Exporter) plan(ctx context.Context, opt ExportOptions) (*plan, error) {
	p := &plan{now: e.now().UTC(), full: opt.Since == "", scope: "all"}
	if opt.Store != "" {
		p.scope = opt.Store
		var tz string
		err := e.db.R.QueryRowContext(ctx, `SELECT timezone FROM stores WHERE id = $1`, opt.Store).Scan(&tz)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrUnknownStore
		}
		if err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
		if p.loc, err = time.LoadLocation(tz); err != nil {
			p.loc = time.UTC
		}
	}
	if !p.full {
		since, err := parseCursor(opt.Since)
		if err != nil {
			return nil, err
		}
		p.since = since.Add(-cursorOverlap)
		// A campaign that changed, started or ended changes everyone's
		// offers: the delta is then a full file (the manifest says so).
		var n int
		if err := e.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM campaigns WHERE status <> 'draft' AND (updated_at > $1
			OR (starts_at > $1 AND starts_at <= $2) OR (ends_at > $1 AND ends_at <= $2))`, p.since, p.now).Scan(&n); err != nil {
			return nil, fmt.Errorf("changed campaigns: %w", err)
		}
		p.full = n > 0
	}
	live, err := e.campaigns.Live(ctx)
	if err != nil {
		return nil, err
	}
	for _, l := range live.List {
		lim := l.Spec.Limits
		switch {
		case l.Status == campaign.Paused, !p.now.Before(l.End),
			lim.MaxRedemptions > 0 && l.Redemptions >= lim.MaxRedemptions,
			lim.Budget > 0 && l.DiscountGiven >= lim.Budget,
			opt.Store != "" && len(l.Spec.Stores) > 0 && !slices.Contains(l.Spec.Stores, opt.Store):
			continue
		}
		lo := liveOffer{l: l, offers: campaignOffers(e.campaigns.EngineCampaign(l.Campaign), l, p.loc)}
		if lim.PerPeriod > 0 {
			lo.period = campaign.PeriodKey(lim.Period, p.now, l.Location)
		}
		if lo.enc, err = encodeOffers(lo.offers, opt.Format); err != nil {
			return nil, err
		}
		p.offers = append(p.offers, lo)
		p.fixed = p.fixed || !l.Dynamic
		p.limited = p.limited || lim.PerMember > 0 || lim.PerPeriod > 0
	}
	p.index = make(map[string]int, len(p.offers))
	for i, lo := range p.offers {
		p.index[lo.l.ID] = i
	}
	return p, nil
}

// Audience marks of memberState.audience, for campaigns with a fixed
// audience (campaign_members).
const (
	notInAudience int8 = iota
	inAudience
	inControl
)

// memberState is what one member's offers depend on. The slices are
// indexed like plan.offers and reused from page to page, so reading a
// member allocates only their id and code.
type memberState struct {
	id, code string
	audience []int8  // fixed audiences: notInAudience, inAudience or inControl
	total    []int64 // uses ever (offer_uses period "")
	period   []int64 // uses in the current period (offer_uses period = liveOffer.period)
	balance  int64
}

// reset clears what the previous member in this slot left.
func (m *memberState) reset() {
	clear(m.audience)
	clear(m.total)
	clear(m.period)
	m.balance = 0
}

// usesLeft reports whether the member has the offers of the plan's i-th
// campaign now, and the uses they have left (-1: unlimited).
func (p *plan) usesLeft(m *memberState, i int) (int64, bool) {
	l := p.offers[i].l
	if l.Dynamic {
		if l.Spec.ControlGroup > 0 && campaign.InControl(l.ID, m.id, l.Spec.ControlGroup) {
			return 0, false
		}
	} else if m.audience[i] != inAudience {
		return 0, false
	}
	left := int64(-1)
	lim := l.Spec.Limits
	if lim.PerMember > 0 {
		left = int64(lim.PerMember) - m.total[i]
	}
	if lim.PerPeriod > 0 {
		p := int64(lim.PerPeriod) - m.period[i]
		if left < 0 || p < left {
			left = p
		}
	}
	if left == 0 || left < -1 {
		return 0, false
	}
	return left, true
}

// anonymousOffers lists the offers open to every shopper.
func (p *plan) anonymousOffers() []Offer {
	var out []Offer
	for _, lo := range p.offers {
		if lo.l.Spec.Audience.Kind != campaign.AudienceOpen {
			continue
		}
		for _, o := range lo.offers {
			o.Action = "add"
			out = append(out, o)
		}
	}
	return out
}
