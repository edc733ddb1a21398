package ledger

import (
	"errors"
	"fmt"
	"math"
	"math/bits"
	"time"
)

// What Reverse does when points earned by a returned purchase were already
// spent (Policy.Clawback).
const (
	// ClawbackPendingOnly takes back only the transaction's points that are
	// still pending; whatever became available is the member's to keep.
	ClawbackPendingOnly = "pending_only"
	// ClawbackWithinBalance takes back the transaction's points first, then
	// any other points the member has, and forgives the rest. The default.
	ClawbackWithinBalance = "within_balance"
	// ClawbackDebt takes what there is, as ClawbackWithinBalance does, and
	// records the rest as debt that later credits pay off first.
	ClawbackDebt = "debt"
)

// Policy is the programme's rules for points.
type Policy struct {
	// PendingFor is how long earned points wait before they can be spent,
	// usually the returns window. 0 makes them available at once.
	PendingFor time.Duration
	// ExpireAfter is how long points stay spendable once available. 0 means
	// they never expire.
	ExpireAfter time.Duration
	// RedeemPoints points are worth RedeemValue minor units when paying with
	// points (0 means 1).
	RedeemPoints, RedeemValue int64
	// Clawback is ClawbackPendingOnly, ClawbackWithinBalance (the default
	// when empty) or ClawbackDebt.
	Clawback string
}

// Validate reports every unacceptable setting, naming it.
func (p Policy) Validate() error {
	var errs []error
	if p.PendingFor < 0 {
		errs = append(errs, fmt.Errorf("points pending period %v is negative", p.PendingFor))
	}
	if p.ExpireAfter < 0 {
		errs = append(errs, fmt.Errorf("points expiry %v is negative (0 means points never expire)", p.ExpireAfter))
	}
	if p.RedeemPoints < 0 || p.RedeemValue < 0 {
		errs = append(errs, fmt.Errorf("points redemption rate %d points = %d minor units: both must be positive",
			p.RedeemPoints, p.RedeemValue))
	}
	switch p.Clawback {
	case "", ClawbackPendingOnly, ClawbackWithinBalance, ClawbackDebt:
	default:
		errs = append(errs, fmt.Errorf("points clawback %q: must be %s, %s or %s",
			p.Clawback, ClawbackPendingOnly, ClawbackWithinBalance, ClawbackDebt))
	}
	return errors.Join(errs...)
}

// withDefaults fills the zero values that mean a default.
func (p Policy) withDefaults() Policy {
	if p.RedeemPoints == 0 {
		p.RedeemPoints = 1
	}
	if p.RedeemValue == 0 {
		p.RedeemValue = 1
	}
	if p.Clawback == "" {
		p.Clawback = ClawbackWithinBalance
	}
	return p
}

// Value is what points are worth as payment, in minor units, rounded down;
// 0 for points <= 0.
func (p Policy) Value(points int64) int64 {
	p = p.withDefaults()
	if points <= 0 {
		return 0
	}
	return mulDiv(points, p.RedeemValue, p.RedeemPoints, false)
}

// PointsFor is how many points pay for value minor units, rounded up so that
// they always cover it; 0 for value <= 0.
func (p Policy) PointsFor(value int64) int64 {
	p = p.withDefaults()
	if value <= 0 {
		return 0
	}
	return mulDiv(value, p.RedeemPoints, p.RedeemValue, true)
}

// mulDiv is a*b/d for positive operands without overflowing the product,
// rounded down or up, saturating at math.MaxInt64.
func mulDiv(a, b, d int64, up bool) int64 {
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(d) {
		return math.MaxInt64
	}
	q, r := bits.Div64(hi, lo, uint64(d))
	if up && r != 0 {
		q++
	}
	if q > math.MaxInt64 {
		return math.MaxInt64
	}
	return int64(q)
}
