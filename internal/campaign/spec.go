// Package campaign is the campaign manager: what a campaign is (dates,
// stores, audience, benefits, limits, stacking, control group, announcement),
// its life (draft, scheduled, active, paused, ended), who it is for, and the
// set of live campaigns compiled for the checkout engine; and campaigns as
// files: the YAML/JSON format `perk campaigns apply` reads (file.go) and
// applying a spec by name (apply.go).
//
// It does not match baskets (checkout/engine does) and does not send SMS
// (it queues announcements in the sms outbox; the sender and the contact
// policy decide when they go).
package campaign

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/money"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/profile"
	"github.com/perk-platform/perk/internal/sms/compose"
)

// Spec is a campaign as an operator writes it, in the API, the manager page
// or a file for `perk campaigns apply`. It round-trips through JSON and YAML
// unchanged.
type Spec struct {
	Name         string            `json:"name" yaml:"name"`
	Description  string            `json:"description,omitempty" yaml:"description,omitempty"`
	TimeZone     string            `json:"timezone,omitempty" yaml:"timezone,omitempty"` // IANA; start and end without an offset are in it
	Start        string            `json:"start" yaml:"start"`                           // 2026-12-01, 2026-12-01T09:00 or RFC 3339
	End          string            `json:"end" yaml:"end"`                               // exclusive; a bare date means the start of that day
	Stores       []string          `json:"stores,omitempty" yaml:"stores,omitempty"`     // empty = every store
	Audience     Audience          `json:"audience" yaml:"audience"`
	Benefits     []engine.Benefit  `json:"benefits" yaml:"benefits"`
	Conditions   engine.Conditions `json:"conditions,omitempty" yaml:"conditions,omitempty"`
	Limits       Limits            `json:"limits,omitempty" yaml:"limits,omitempty"`
	Priority     int               `json:"priority,omitempty" yaml:"priority,omitempty"`
	Exclusive    bool              `json:"exclusive,omitempty" yaml:"exclusive,omitempty"`
	ControlGroup int               `json:"control_group,omitempty" yaml:"control_group,omitempty"` // percent of the audience held back, 0..50
	Message      string            `json:"message,omitempty" yaml:"message,omitempty"`             // announcement template; empty = no announcement
	// Personal marks the campaign holding a CRM's personal offer
	// (PersonalOffer): shoppers are shown its description, not its name.
	Personal bool `json:"personal,omitempty" yaml:"personal,omitempty"`
	// Kind is what the campaign does: empty gives its benefits to its
	// audience; next_best_offer gives each member their own offers of the
	// pool (kind.go).
	Kind          string         `json:"kind,omitempty" yaml:"kind,omitempty"`
	NextBestOffer *NextBestOffer `json:"next_best_offer,omitempty" yaml:"next_best_offer,omitempty"`
}

// Audience kinds.
const (
	AudienceAll    = "all"    // every member, including those who join while it runs
	AudienceOpen   = "open"   // everyone: members and anonymous baskets
	AudienceFilter = "filter" // members matching Filter when the campaign launches
	AudienceList   = "list"   // an uploaded list of members
)

// Audience says who a campaign is for.
type Audience struct {
	Kind   string  `json:"kind" yaml:"kind"`
	Filter *Filter `json:"filter,omitempty" yaml:"filter,omitempty"`
}

// Filter selects members. Every set field must hold (AND); list fields match
// any of their values (OR). Dates are YYYY-MM-DD in the campaign's zone.
type Filter struct {
	Tags               []string          `json:"tags,omitempty" yaml:"tags,omitempty"`
	HomeStores         []string          `json:"home_stores,omitempty" yaml:"home_stores,omitempty"`
	Statuses           []string          `json:"statuses,omitempty" yaml:"statuses,omitempty"` // active, pending, opted_out
	Channels           []string          `json:"channels,omitempty" yaml:"channels,omitempty"` // how they enrolled
	Attributes         map[string]string `json:"attributes,omitempty" yaml:"attributes,omitempty"`
	EnrolledAfter      string            `json:"enrolled_after,omitempty" yaml:"enrolled_after,omitempty"`
	EnrolledBefore     string            `json:"enrolled_before,omitempty" yaml:"enrolled_before,omitempty"`
	PointsAtLeast      *int64            `json:"points_at_least,omitempty" yaml:"points_at_least,omitempty"`
	PointsBelow        *int64            `json:"points_below,omitempty" yaml:"points_below,omitempty"`
	LastPurchaseAfter  string            `json:"last_purchase_after,omitempty" yaml:"last_purchase_after,omitempty"`
	LastPurchaseBefore string            `json:"last_purchase_before,omitempty" yaml:"last_purchase_before,omitempty"` // includes members who never bought
	SpendDays          int               `json:"spend_days,omitempty" yaml:"spend_days,omitempty"`                     // window for SpendAtLeast
	SpendAtLeast       int64             `json:"spend_at_least,omitempty" yaml:"spend_at_least,omitempty"`             // minor units paid in the last SpendDays
	BoughtSKUs         []string          `json:"bought_skus,omitempty" yaml:"bought_skus,omitempty"`
	BoughtCategories   []string          `json:"bought_categories,omitempty" yaml:"bought_categories,omitempty"`
	BoughtDays         int               `json:"bought_days,omitempty" yaml:"bought_days,omitempty"` // window for Bought*; 0 = ever
	// RFMSegments, Affinity and Overdue are read from the members' stored
	// profiles (package profile, docs/profiles.md): a member without one
	// is in no segment, has no affinity and is not overdue.
	RFMSegments []string        `json:"rfm_segment,omitempty" yaml:"rfm_segment,omitempty"`
	Affinity    *AffinityFilter `json:"affinity,omitempty" yaml:"affinity,omitempty"`
	Overdue     *bool           `json:"overdue,omitempty" yaml:"overdue,omitempty"`
}

// AffinityFilter selects members whose decayed share of spend in one
// category (a catalogue path) or one brand is at least AtLeast (0-1].
type AffinityFilter struct {
	Category string  `json:"category,omitempty" yaml:"category,omitempty"`
	Brand    string  `json:"brand,omitempty" yaml:"brand,omitempty"`
	AtLeast  float64 `json:"at_least" yaml:"at_least"`
}

// Ranges of a campaign's own figures; its benefits and conditions have the
// engine's (engine.MaxAmount, engine.MaxPoints ...). They keep a campaign's
// running totals far inside int64: with at most MaxUses redemptions of at
// most engine.MaxAmount each, the discount a limited campaign counts stays
// under 10^18, and a budget stops it at MaxBudget. docs/api.md ("Ranges")
// lists them.
const (
	// MaxUses is the most per_member, per_period and max_redemptions can be.
	MaxUses = 10_000_000
	// MaxBudget is the most a budget, or an audience's spend_at_least, can
	// be, in minor units (10^15).
	MaxBudget = 1_000_000_000_000_000
	// MaxFilterDays is the longest window (spend_days, bought_days) an
	// audience filter looks back over: ten years.
	MaxFilterDays = 3660
)

// Limits cap a campaign's use. Zero means no limit.
type Limits struct {
	PerMember      int    `json:"per_member,omitempty" yaml:"per_member,omitempty"`           // uses per member, ever (1 = single-use personal offer)
	PerPeriod      int    `json:"per_period,omitempty" yaml:"per_period,omitempty"`           // uses per member per Period
	Period         string `json:"period,omitempty" yaml:"period,omitempty"`                   // day, week (ISO) or month, in the campaign's zone
	MaxRedemptions int64  `json:"max_redemptions,omitempty" yaml:"max_redemptions,omitempty"` // for everyone together
	Budget         int64  `json:"budget,omitempty" yaml:"budget,omitempty"`                   // total discount, minor units
}

// Window is a campaign's start and end as instants.
type Window struct {
	Start, End time.Time
	Location   *time.Location
}

var dateLayouts = []string{"2006-01-02T15:04:05", "2006-01-02T15:04", "2006-01-02 15:04", "2006-01-02"}

// parseTime reads an operator's date: RFC 3339 with its own offset, or a
// local date/time in loc.
func parseTime(field, s string, loc *time.Location) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, problem.InvalidField(field, "required", nil, "is required")
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.UTC(), nil
	}
	for _, l := range dateLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, problem.InvalidField(field, "date_invalid", nil, "%q is not a date (2026-12-01, 2026-12-01T09:00 or RFC 3339)", s)
}

// Location returns the campaign's zone, def when it names none.
func (s *Spec) Location(def *time.Location) (*time.Location, error) {
	if s.TimeZone == "" {
		if def == nil {
			return time.UTC, nil
		}
		return def, nil
	}
	loc, err := time.LoadLocation(s.TimeZone)
	if err != nil {
		return nil, problem.InvalidField("timezone", "timezone_invalid", err, "%q is not an IANA time zone", s.TimeZone)
	}
	return loc, nil
}

// Window parses the start and end.
func (s *Spec) Window(def *time.Location) (Window, error) {
	loc, err := s.Location(def)
	if err != nil {
		return Window{}, err
	}
	start, err := parseTime("start", s.Start, loc)
	if err != nil {
		return Window{}, err
	}
	end, err := parseTime("end", s.End, loc)
	if err != nil {
		return Window{}, err
	}
	if !end.After(start) {
		return Window{}, problem.InvalidField("end", "end_before_start", nil, "must be after the start")
	}
	return Window{Start: start, End: end, Location: loc}, nil
}

var nameOK = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N} _.,'&:!%£$€()/+-]{0,99}$`)

// Validate checks everything that can be checked without the database and
// compiles the campaign, so a bad benefit fails when it is saved rather than
// at a till. def is the programme's zone for specs that name none.
func (s *Spec) Validate(def *time.Location) (*engine.Compiled, Window, error) {
	if !nameOK.MatchString(s.Name) {
		return nil, Window{}, problem.InvalidField("name", "name_invalid", nil, "must be 1 to 100 letters, digits, spaces or punctuation, starting with a letter or digit")
	}
	if len(s.Description) > 2000 {
		return nil, Window{}, problem.InvalidField("description", "too_long", nil, "must be at most 2000 characters")
	}
	w, err := s.Window(def)
	if err != nil {
		return nil, Window{}, err
	}
	if err := s.Audience.validate(); err != nil {
		return nil, Window{}, err
	}
	if err := s.Limits.validate(); err != nil {
		return nil, Window{}, err
	}
	if s.ControlGroup < 0 || s.ControlGroup > 50 {
		return nil, Window{}, problem.InvalidField("control_group", "control_group_invalid", nil, "must be a percentage from 0 to 50")
	}
	if s.ControlGroup > 0 && s.Audience.Kind == AudienceOpen {
		return nil, Window{}, problem.InvalidField("control_group", "control_group_open", nil, "an open campaign has no audience to hold back; use kind all")
	}
	if s.Message != "" {
		if _, err := compose.Parse(s.Name, s.Message); err != nil {
			return nil, Window{}, problem.InvalidField("message", "template_invalid", err, "%v", err)
		}
	}
	for i, st := range s.Stores {
		if strings.TrimSpace(st) == "" {
			return nil, Window{}, problem.InvalidField(fmt.Sprintf("stores[%d]", i), "store_invalid", nil, "must not be empty")
		}
	}
	if err := s.validateKind(); err != nil {
		return nil, Window{}, err
	}
	if s.Kind == KindNextBestOffer {
		// Its offers are the pool's, each compiled as its own campaign.
		return nil, w, nil
	}
	c, err := engine.Compile(s.engineCampaign("", w, money.Currency{}))
	if err != nil {
		return nil, Window{}, engineError(err)
	}
	return c, w, nil
}

// engineError turns the engine's validation error into a field error.
func engineError(err error) error {
	var ve *engine.ValidationError
	if errors.As(err, &ve) {
		return problem.InvalidField(ve.Field, "benefit_invalid", err, "%s", ve.Message)
	}
	return problem.InvalidField("benefits", "benefit_invalid", err, "%v", err)
}

// engineCampaign is the spec as the engine sees it. Benefit ids are the
// campaign id and the benefit's position, so an offer id names its campaign;
// amounts in generated descriptions are shown in cur.
func (s *Spec) engineCampaign(id string, w Window, cur money.Currency) engine.Campaign {
	if id == "" {
		id = "cmp_new"
	}
	bs := make([]engine.Benefit, len(s.Benefits))
	for i, b := range s.Benefits {
		b.ID = fmt.Sprintf("%s.%d", id, i+1)
		if b.Description == "" {
			b.Description = describe(b, cur)
		}
		bs[i] = b
	}
	return engine.Campaign{
		ID: id, Name: s.Name, Priority: s.Priority, Exclusive: s.Exclusive,
		Open: s.Audience.Kind == AudienceOpen, Start: w.Start, End: w.End,
		Stores: slices.Clone(s.Stores), Conditions: s.Conditions, Benefits: bs,
	}
}

func (a *Audience) validate() error {
	switch a.Kind {
	case AudienceAll, AudienceOpen, AudienceList:
		if a.Filter != nil {
			return problem.InvalidField("audience.filter", "filter_unexpected", nil, "only an audience of kind filter has a filter")
		}
	case AudienceFilter:
		if a.Filter == nil {
			return problem.InvalidField("audience.filter", "required", nil, "is required for an audience of kind filter")
		}
		return a.Filter.validate()
	case "":
		return problem.InvalidField("audience.kind", "required", nil, "is required: all, open, filter or list")
	default:
		return problem.InvalidField("audience.kind", "audience_invalid", nil, "%q is not all, open, filter or list", a.Kind)
	}
	return nil
}

func (f *Filter) validate() error {
	for _, d := range []struct{ field, v string }{
		{"enrolled_after", f.EnrolledAfter}, {"enrolled_before", f.EnrolledBefore},
		{"last_purchase_after", f.LastPurchaseAfter}, {"last_purchase_before", f.LastPurchaseBefore},
	} {
		if d.v == "" {
			continue
		}
		if _, err := time.Parse("2006-01-02", d.v); err != nil {
			return problem.InvalidField("audience.filter."+d.field, "date_invalid", err, "%q is not a date (YYYY-MM-DD)", d.v)
		}
	}
	for _, st := range f.Statuses {
		if st != "active" && st != "pending" && st != "opted_out" {
			return problem.InvalidField("audience.filter.statuses", "status_invalid", nil, "%q is not active, pending or opted_out", st)
		}
	}
	for _, r := range []struct {
		field   string
		v, max  int64
		meaning string
	}{
		{"spend_at_least", f.SpendAtLeast, MaxBudget, "minor units"},
		{"spend_days", int64(f.SpendDays), MaxFilterDays, "days"},
		{"bought_days", int64(f.BoughtDays), MaxFilterDays, "days"},
	} {
		if r.v < 0 || r.v > r.max {
			return problem.InvalidField("audience.filter."+r.field, "filter_invalid", nil, "must be 0 to %d %s", r.max, r.meaning)
		}
	}
	if f.SpendAtLeast > 0 && f.SpendDays == 0 {
		return problem.InvalidField("audience.filter.spend_days", "required", nil, "is required with spend_at_least")
	}
	for _, seg := range f.RFMSegments {
		if !profile.Segment(seg).Valid() {
			return problem.InvalidField("audience.filter.rfm_segment", "segment_invalid", nil, "%q is not one of the ten RFM segments", seg)
		}
	}
	if a := f.Affinity; a != nil {
		if (a.Category == "") == (a.Brand == "") {
			return problem.InvalidField("audience.filter.affinity", "filter_invalid", nil, "needs exactly one of category and brand")
		}
		if !(a.AtLeast > 0 && a.AtLeast <= 1) {
			return problem.InvalidField("audience.filter.affinity.at_least", "filter_invalid", nil, "must be a share above 0 and at most 1")
		}
	}
	for k := range f.Attributes {
		if k == "" || len(k) > 64 {
			return problem.InvalidField("audience.filter.attributes", "attribute_invalid", nil, "attribute names must be 1 to 64 characters")
		}
	}
	return nil
}

func (l *Limits) validate() error {
	for _, r := range []struct {
		field   string
		v, max  int64
		meaning string
	}{
		{"per_member", int64(l.PerMember), MaxUses, "uses"},
		{"per_period", int64(l.PerPeriod), MaxUses, "uses"},
		{"max_redemptions", l.MaxRedemptions, MaxUses, "redemptions"},
		{"budget", l.Budget, MaxBudget, "minor units"},
	} {
		if r.v < 0 || r.v > r.max {
			return problem.InvalidField("limits."+r.field, "limit_invalid", nil, "must be 0 (no limit) to %d %s", r.max, r.meaning)
		}
	}
	if l.PerPeriod > 0 {
		switch l.Period {
		case "day", "week", "month":
		default:
			return problem.InvalidField("limits.period", "period_invalid", nil, "must be day, week or month with per_period")
		}
	} else if l.Period != "" {
		return problem.InvalidField("limits.per_period", "required", nil, "is required with a period")
	}
	return nil
}

// PeriodKey names the limit period t falls in, in loc: 2026-11-23,
// 2026-W48 or 2026-11.
func PeriodKey(period string, t time.Time, loc *time.Location) string {
	t = t.In(loc)
	switch period {
	case "day":
		return t.Format("2006-01-02")
	case "week":
		y, w := t.ISOWeek()
		return fmt.Sprintf("%d-W%02d", y, w)
	case "month":
		return t.Format("2006-01")
	}
	return ""
}

// describe writes receipt wording for a benefit the operator left
// undescribed, with amounts in cur.
func describe(b engine.Benefit, cur money.Currency) string {
	switch b.Kind {
	case engine.PercentOff:
		return fmt.Sprintf("%d%% off", b.Percent)
	case engine.AmountOff:
		return fmt.Sprintf("%s off", cur.Format(b.Amount))
	case engine.FixedPrice:
		return fmt.Sprintf("Now %s each", cur.Format(b.Price))
	case engine.BuyXGetY:
		if b.Percent > 0 && b.Percent < 100 {
			return fmt.Sprintf("Buy %d get %d at %d%% off", b.Buy, b.Get, b.Percent)
		}
		return fmt.Sprintf("Buy %d get %d free", b.Buy, b.Get)
	case engine.SpendThreshold:
		if b.Percent > 0 {
			return fmt.Sprintf("Spend %s, get %d%% off", cur.Format(b.Threshold), b.Percent)
		}
		return fmt.Sprintf("Spend %s, get %s off", cur.Format(b.Threshold), cur.Format(b.Amount))
	case engine.PointsBonus:
		return fmt.Sprintf("%d bonus points", b.Points)
	case engine.PointsPerUnit:
		return fmt.Sprintf("%d points per unit spent", b.Points)
	case engine.PointsMultiplier:
		return fmt.Sprintf("%dx points", b.Multiplier)
	case engine.FreeContent:
		return "Free gift"
	}
	return string(b.Kind)
}
