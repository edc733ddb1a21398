package engine

// Ranges. Every figure a till, a campaign file or an operator hands the
// checkout is bounded here, once, so that everything computed from them (a
// basket's sums, a campaign's running totals, a member's points for a year)
// stays far inside int64 (about 9.2 * 10^18). The checkout API refuses
// requests outside them (422), Compile refuses campaigns outside them, and
// Evaluate, which trusts neither, caps what it is given and saturates the
// points a basket earns at MaxPoints. docs/api.md ("Ranges") lists them.
//
// Why these numbers: a line is at most MaxQuantity * MaxUnitPrice = 10^15
// minor units on its own, but a basket is at most MaxAmount = 10^11 (a
// billion in a currency of 100 minor units), so MaxLines lines sum to less
// than 10^14 even before that cap; 10^7 redemptions of a limited campaign
// (campaign.MaxUses) at MaxAmount each is 10^18; a basket earns at most
// MaxPoints = 10^9 points, so 10^7 of them are 10^16 points, and a member
// (whose balance the ledger caps at 10^12) needs over 9 * 10^9 maximal
// baskets to overflow even their lifetime total.
const (
	// MaxLines is the most lines a basket has.
	MaxLines = 500
	// MaxQuantity is the most units on one line, and the most units a
	// buy_x_get_y buys or gets.
	MaxQuantity = 100_000
	// MaxUnitPrice is the most a unit costs, in minor units (10^10), and so
	// the most a fixed_price benefit's price can be.
	MaxUnitPrice = 10_000_000_000
	// MaxAmount is the most a basket is worth, in minor units (10^11), and so
	// the most an amount_off or spend_threshold amount, a threshold or a
	// campaign's min_basket can be.
	MaxAmount = 100_000_000_000
	// MaxPoints is the most points one basket earns, base earn and every
	// points benefit together (Evaluate saturates there), and so the most a
	// points_bonus can give.
	MaxPoints = 1_000_000_000
	// MaxPointsPerUnit is the most a points_per_unit benefit gives per whole
	// currency unit.
	MaxPointsPerUnit = 10_000
	// MaxMultiplier is the largest points_multiplier.
	MaxMultiplier = 100
)
