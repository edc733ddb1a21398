package checkout

import "github.com/perk-platform/perk/internal/checkout/engine"

// Given is an offer a till applied itself, offline, from an exported offer
// file, as its transaction file reports it: the offer and the discount it
// gave, and on which lines.
type Given struct {
	OfferID  string             `json:"offer_id"`
	Discount int64              `json:"discount"`
	Lines    []engine.LineShare `json:"lines,omitempty"`
}
