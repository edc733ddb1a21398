// Package engine matches a basket against offers. It is a pure function over
// compiled campaigns: no I/O, no clock, no database, so it can be
// benchmarked and fuzzed on its own and the same code serves evaluate,
// commit and the pre-launch simulation.
//
// It is not for deciding who may have an offer (audience, control group,
// per-member use limits, budgets read from the database): the caller does
// that and passes the outcome in as Candidate.Blocked.
package engine

import "time"

// Line is one basket line as the till sends it. Amounts are integer minor
// units of the basket's currency.
type Line struct {
	Line       int      // the till's line number, unique in the basket
	SKU        string   // product code
	Categories []string // category codes the product belongs to
	Quantity   int      // units, > 0
	UnitPrice  int64    // minor units per unit, >= 0
}

// Basket is what is being bought, where and when.
type Basket struct {
	Store    string
	Time     time.Time      // when the basket is rung up
	Location *time.Location // the store's zone, for day and time-of-day conditions; UTC if nil
	Currency string
	Lines    []Line
	Member   bool // a member was identified; without one only Open campaigns apply
}

// Kind is the kind of a benefit.
type Kind string

// Benefit kinds. Discount kinds change what the shopper pays; points kinds
// add points; free content issues a code from a pool at commit.
const (
	PercentOff       Kind = "percent_off"       // Percent off the scope's value
	AmountOff        Kind = "amount_off"        // Amount off the scope's value, at most the value
	FixedPrice       Kind = "fixed_price"       // every unit in scope sells for Price (never raises a price)
	BuyXGetY         Kind = "buy_x_get_y"       // of each Buy+Get units in scope, the Get cheapest are free, or Percent off if Percent > 0
	SpendThreshold   Kind = "spend_threshold"   // when the scope's value >= Threshold: Amount off (or Percent off if Percent > 0)
	PointsBonus      Kind = "points_bonus"      // Points added once
	PointsPerUnit    Kind = "points_per_unit"   // Points for every whole currency unit spent in scope
	PointsMultiplier Kind = "points_multiplier" // base earn on the scope times Multiplier (the extra is this benefit's points)
	FreeContent      Kind = "free_content"      // a code or link from Pool, issued at commit
)

// Scope narrows a benefit to some products. Empty means the whole basket;
// otherwise a line is in scope when its SKU is listed or it is in one of the
// listed categories.
type Scope struct {
	SKUs       []string `json:"skus,omitempty" yaml:"skus,omitempty"`
	Categories []string `json:"categories,omitempty" yaml:"categories,omitempty"`
}

// Benefit is one thing a campaign gives. Which fields matter depends on Kind.
type Benefit struct {
	ID          string `json:"id" yaml:"id"`                                       // the offer id reported to the till; set by the campaign compiler
	Kind        Kind   `json:"kind" yaml:"kind"`                                   //
	Description string `json:"description,omitempty" yaml:"description,omitempty"` // receipt wording
	Scope       Scope  `json:"scope,omitempty" yaml:"scope,omitempty"`
	Percent     int    `json:"percent,omitempty" yaml:"percent,omitempty"`       // 1..100
	Amount      int64  `json:"amount,omitempty" yaml:"amount,omitempty"`         // minor units
	Price       int64  `json:"price,omitempty" yaml:"price,omitempty"`           // minor units per unit
	Threshold   int64  `json:"threshold,omitempty" yaml:"threshold,omitempty"`   // minor units
	Buy         int    `json:"buy,omitempty" yaml:"buy,omitempty"`               // units to buy
	Get         int    `json:"get,omitempty" yaml:"get,omitempty"`               // units that get the benefit
	Points      int64  `json:"points,omitempty" yaml:"points,omitempty"`         // bonus, or per currency unit
	Multiplier  int    `json:"multiplier,omitempty" yaml:"multiplier,omitempty"` // >= 2
	Pool        string `json:"pool,omitempty" yaml:"pool,omitempty"`             // content pool name
}

// Conditions must all hold for a campaign to apply to a basket.
type Conditions struct {
	MinBasket         int64    `json:"min_basket,omitempty" yaml:"min_basket,omitempty"`                 // net basket value at the campaign's turn, minor units
	RequireSKUs       []string `json:"require_skus,omitempty" yaml:"require_skus,omitempty"`             // at least one of these SKUs in the basket
	RequireCategories []string `json:"require_categories,omitempty" yaml:"require_categories,omitempty"` // at least one line in one of these
	Days              Weekdays `json:"days,omitempty" yaml:"days,omitempty"`                             // local weekdays, by name or number; empty = every day
	From              string   `json:"from,omitempty" yaml:"from,omitempty"`                             // local "HH:MM", inclusive; "" = midnight
	To                string   `json:"to,omitempty" yaml:"to,omitempty"`                                 // local "HH:MM", exclusive; "" = end of day; To < From spans midnight
}

// Campaign is a campaign as the engine sees it: when and where it runs, how
// it ranks, its conditions and benefits.
type Campaign struct {
	ID         string
	Name       string
	Priority   int  // higher ranks first
	Exclusive  bool // applies alone: never together with another campaign
	Open       bool // applies without a member too (anonymous baskets)
	Start, End time.Time
	Stores     []string // empty = every store
	Conditions Conditions
	Benefits   []Benefit
}

// Reason says why a candidate did not apply, for ?explain=true.
type Reason string

// Reasons. The first group is decided by the engine; the second by the
// caller, passed in as Candidate.Blocked.
const (
	OutsideDates      Reason = "outside_dates"
	NotInStore        Reason = "not_in_store"
	OutsideTimeWindow Reason = "outside_time_window"
	MemberOnly        Reason = "member_only"
	MinimumNotMet     Reason = "minimum_not_met"
	RequiredItems     Reason = "required_items_missing"
	NothingToDiscount Reason = "no_qualifying_items"
	LostToExclusive   Reason = "lost_to_exclusive"
	BudgetExhausted   Reason = "budget_exhausted" // also decided by the engine when BudgetLeft is too small

	NotInAudience Reason = "not_in_audience"
	ControlGroup  Reason = "control_group"
	LimitReached  Reason = "limit_reached"
	Paused        Reason = "paused"
)

// Candidate is a campaign offered to the engine with what the caller knows
// about this member's right to it.
type Candidate struct {
	Campaign *Compiled
	Blocked  Reason // non-empty: the caller has ruled it out; reported, never applied
	// BudgetLeft is the discount budget still unspent, minor units; < 0 means
	// no budget. A campaign whose discount on this basket exceeds it does not
	// apply (BudgetExhausted), so a budget is never overspent.
	BudgetLeft int64
}

// Options are the programme's rules the engine needs.
type Options struct {
	// BaseEarn is the points earned per whole currency unit paid (after
	// discounts) when no campaign says otherwise; 0 = no base earn.
	BaseEarn int64
	// MinorPerUnit is minor units per currency unit (100 for GBP, EUR, USD).
	MinorPerUnit int64
	// PointValue is what one point is worth in minor units, as a fraction
	// (num/den), used only to compare a points offer with a discount when
	// choosing the best deal. Zero den means points are worth nothing there.
	PointValueNum, PointValueDen int64
	Explain                      bool // fill Result.Rejected
}

// LineResult is one basket line's share of the discounts.
type LineResult struct {
	Line     int      `json:"line"`
	Discount int64    `json:"discount"`
	OfferIDs []string `json:"offer_ids"`
}

// LineShare is one benefit's discount on one line.
type LineShare struct {
	Line     int   `json:"line"`
	Discount int64 `json:"discount"`
}

// Applied is a benefit that applies to the basket.
type Applied struct {
	OfferID     string      `json:"offer_id"`
	CampaignID  string      `json:"campaign_id"`
	Kind        Kind        `json:"kind"`
	Description string      `json:"description"`
	Discount    int64       `json:"discount"`
	Points      int64       `json:"points"`
	Pool        string      `json:"pool,omitempty"`
	Lines       []LineShare `json:"lines,omitempty"` // where the discount went
}

// Rejection is a candidate that did not apply, and why.
type Rejection struct {
	CampaignID string `json:"campaign_id"`
	OfferID    string `json:"offer_id,omitempty"` // set when one benefit of an applying campaign found nothing
	Reason     Reason `json:"reason"`
	Detail     string `json:"detail"`
}

// Result is the outcome of Evaluate.
type Result struct {
	Lines         []LineResult `json:"lines"` // one per basket line, in basket order
	Benefits      []Applied    `json:"benefits"`
	TotalDiscount int64        `json:"total_discount"`
	BasePoints    int64        `json:"base_points"`
	PointsEarned  int64        `json:"points_earned"` // base + every points benefit
	Campaigns     []string     `json:"campaigns"`     // campaigns that applied, in the order they ranked
	Rejected      []Rejection  `json:"rejected,omitempty"`
}

// Compiled is a validated campaign prepared for fast matching (sets instead
// of slices, parsed time windows). Build it with Compile; it is read-only
// afterwards and safe to share between goroutines.
type Compiled struct {
	Campaign
	// Unexported fields are the engine's own. Evaluate reads only these (the
	// embedded Campaign is a copy for readers), so changing the Campaign after
	// Compile does not change how the campaign evaluates. The first group is
	// read for every candidate on every basket and is kept small and together:
	// with a thousand campaigns, cache misses cost more than the arithmetic.

	startS, endS                        int64 // Unix seconds and nanoseconds, compared without time.Time's monotonic checks
	startN, endN                        int32
	rankStartS                          int64 // startS, or MinInt64 without a start, which ranks first
	from, to                            int32 // minutes of the local day, [from, to); to < from spans midnight
	minBasket                           int64
	priority                            int
	reqSKUs, reqCats                    span
	days                                uint8 // bit d: time.Weekday d allowed; 0 = every day
	hasStart, hasEnd, hasStores, window bool  // window false: the whole day
	exclusive, open, hasPoints, hasFree bool
	scopes                              []scope  // per benefit
	hashes                              []uint64 // hashCode of each of codes
	codes                               []string // every product and category code the campaign names, each list deduplicated
	reqSets                             *codeSets

	// Read once a campaign is in play, or to explain.
	id       string
	stores   []string // deduplicated
	storeSet map[string]struct{}
	benefits []Benefit // copies for their kinds and figures; their scopes are read from codes
}
