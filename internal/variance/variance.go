// Package variance compares a live campaign with what was expected of it:
// the norm (the cumulative curve of each stage over the hours since launch,
// learned from comparable past campaigns or set by the operator as a
// target), the actuals (hourly buckets kept incrementally, so a refresh
// reads buckets and never raw history) and control limits around the norm,
// so that a process departing from it is flagged amber or red, per stage
// and per store, and raised once as an alert. The method is written out in
// docs/variance.md.
//
// It is not where the figures are defined (package figures: redemptions
// and revenue are counted with its fragments) nor where corrections are
// made (package campaign: pause, resume, extend, raise the budget, resend).
package variance

// Stage is one step of a campaign's process, counted cumulatively from the
// launch.
type Stage string

// The stages, in the order of the process.
const (
	// Delivered counts the campaign's messages whose receipt said
	// delivered, by the receipt's time.
	Delivered Stage = "delivered"
	// Engaged counts clicks on the campaign's links and card views by
	// treated members of its audience since launch.
	Engaged Stage = "engaged"
	// FirstVisits counts treated members' first basket since launch, in
	// any store.
	FirstVisits Stage = "first_visits"
	// Redemptions counts redemptions as figures.Redemptions defines them,
	// by the time of the sale and per store.
	Redemptions Stage = "redemptions"
	// Revenue sums figures.Sales over the redeeming baskets, in minor
	// units, by the time of the sale and per store.
	Revenue Stage = "revenue"
)

// Stages lists every stage in the process's order.
var Stages = []Stage{Delivered, Engaged, FirstVisits, Redemptions, Revenue}

// Label is the stage as the page names it.
func (s Stage) Label() string {
	switch s {
	case Delivered:
		return "Messages delivered"
	case Engaged:
		return "Clicks and card views"
	case FirstVisits:
		return "First visits"
	case Redemptions:
		return "Redemptions"
	case Revenue:
		return "Revenue"
	}
	if l, ok := journeyLabel(s); ok {
		return l
	}
	return string(s)
}

func validStage(s Stage) bool {
	for _, v := range Stages {
		if v == s {
			return true
		}
	}
	return false
}

// Level is how far a figure departs from its norm.
type Level int

// Levels, in increasing gravity.
const (
	OK    Level = iota // within the warning band
	Amber              // beyond the family-wise warning band, or a drift worth a look
	Red                // beyond the control limit (3 sigma), or a stall
)

// String is the level's name in the API and the page's CSS class.
func (l Level) String() string {
	switch l {
	case Amber:
		return "amber"
	case Red:
		return "red"
	}
	return "ok"
}

// MarshalText writes the level by name.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// Thresholds of the method (docs/variance.md says why these values).
const (
	// WarnSigma and ControlSigma bound the cumulative count around the
	// norm. WarnSigma is one figure's: the band a page draws is
	// FamilySigma(WarnSigma, k) for the k figures judged with it.
	WarnSigma    = 2.0
	ControlSigma = 3.0
	// MinExpected is the expected cumulative count below which a stage is
	// not judged: a handful of events says nothing either way.
	MinExpected = 5.0
	// DefaultSpread is the relative spread between campaigns assumed when
	// the norm has too few comparables to measure it, and for targets.
	DefaultSpread = 0.10
	// MinSpread floors a measured spread: a few similar campaigns do not
	// make the next one as predictable as a coin.
	MinSpread = 0.05
	// CUSUM on hourly standardised residuals, downward only (a stall):
	// slack K, amber at AmberH, red at RedH.
	CusumK      = 1.0
	CusumAmberH = 6.0
	CusumRedH   = 10.0
	// MinHourly is the expected hourly count below which an hour adds
	// nothing to the drift detector.
	MinHourly = 2.0
	// StoreSpread is the relative spread allowed between a store's share
	// of redemptions and its baseline share of baskets.
	StoreSpread = 0.15
	// MinStoreExpected is the expected redemptions below which a store is
	// not judged: a store's verdict needs more volume than a stage's, for
	// there are many stores to be wrong about.
	MinStoreExpected = 20.0
	// StoreLLRAmber and StoreLLRRed are the per-store drift detector's
	// thresholds on its log-likelihood ratio (e^8: odds of about 3,000 to 1
	// that the store fell to a third of its pace).
	StoreLLRAmber = 7.0
	StoreLLRRed   = 8.0
)

// MaxHours bounds the norm's horizon (a month of hours).
const MaxHours = 24 * 31
