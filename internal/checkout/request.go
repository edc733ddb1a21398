package checkout

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/perk-platform/perk/internal/catalogue"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/problem"
)

// Item is a basket line as the till sends it. Amounts are integer minor
// units. A line names its product by SKU or by a scanned Barcode (or both);
// the catalogue adds its categories to those the till sends. A weighed or
// measured line (its Unit, or else its product's, is kg, l ...) has a
// quantity with up to three decimals, in Measure, and UnitPrice per unit.
// JSON: item.go.
type Item struct {
	Line       int                `json:"line"`
	SKU        string             `json:"sku"`
	Barcode    string             `json:"barcode,omitempty"`
	Categories []string           `json:"categories,omitempty"`
	Quantity   int                `json:"quantity"`       // whole units
	Measure    catalogue.Quantity `json:"-"`              // a quantity with decimals, in thousandths (0: Quantity is the quantity)
	Unit       string             `json:"unit,omitempty"` // "" (the product's unit, else each), each, or a unit of catalogue.Unit
	UnitPrice  int64              `json:"unit_price"`
}

// Request is the body of evaluate and commit.
type Request struct {
	Store    string `json:"store"`
	Terminal string `json:"terminal,omitempty"`
	// Member is what the till has of the shopper: the 8-digit code (scanned
	// or keyed), the phone number, or the card token; nil (the field absent
	// or null) for an anonymous basket. A key that is given but empty is a
	// till's bug, not an anonymous shopper, and is refused.
	Member   *string `json:"member,omitempty"`
	Currency string  `json:"currency"`
	Items    []Item  `json:"items"`
	// TransactionID identifies a commit; unique per store.
	TransactionID string `json:"transaction_id,omitempty"`
	// RedeemPoints pays part of the basket with points (commit only).
	RedeemPoints int64 `json:"redeem_points,omitempty"`
	// OrderID names an online order this basket completes (collected or
	// paid in store): it ties the browser that placed the order to the
	// basket's member in the event stream (commit only).
	OrderID string `json:"order_id,omitempty"`
}

// MemberKey is the member key the till sent, "" for an anonymous basket.
func (r *Request) MemberKey() string {
	if r.Member == nil {
		return ""
	}
	return *r.Member
}

// Key returns s as a Request.Member: nil, an anonymous basket, for "" (Go
// callers that hold keys as strings; a till's JSON "member": "" is refused).
func Key(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// ReturnItem is a quantity of one committed line coming back: whole units,
// or for a weighed line a Measure in thousandths of its unit. JSON: item.go.
type ReturnItem struct {
	Line     int                `json:"line"`
	Quantity int                `json:"quantity"`
	Measure  catalogue.Quantity `json:"-"`
}

// ReturnRequest is the body of a return.
type ReturnRequest struct {
	Store         string       `json:"store"`
	TransactionID string       `json:"transaction_id"`
	ReturnID      string       `json:"return_id"`
	Items         []ReturnItem `json:"items"`
}

// VoidRequest is the body of a void.
type VoidRequest struct {
	Store         string `json:"store"`
	TransactionID string `json:"transaction_id"`
}

// Limits on a request, so one till cannot make the server do unbounded work
// nor hand it figures whose sums overflow: the engine's ranges
// (checkout/engine/ranges.go, docs/api.md "Ranges").
const (
	MaxItems      = engine.MaxLines
	MaxQuantity   = engine.MaxQuantity
	MaxUnitPrice  = engine.MaxUnitPrice // 10^10 minor units: a hundred million pounds
	MaxBasket     = engine.MaxAmount    // 10^11 minor units, the most a basket is worth: a billion pounds
	maxIDLen      = 100
	maxCategories = 20
)

func checkID(field, v string, required bool) error {
	return checkIDAt(v, required, func() string { return field })
}

// checkIDAt is checkID naming its field only when it refuses: the till's
// hot path checks a few ids per line.
func checkIDAt(v string, required bool, field func() string) error {
	if v == "" {
		if required {
			return problem.InvalidField(field(), "required", nil, "is required")
		}
		return nil
	}
	if len(v) > maxIDLen || !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
		return problem.InvalidField(field(), "id_invalid", nil, "must be at most %d printable characters", maxIDLen)
	}
	return nil
}

// Validate checks a request's shape; commit says whether it is a commit
// (which needs a transaction id). A line's unit is what it says (each if
// nothing); the checkout also knows the catalogue's.
func (r *Request) Validate(currency string, commit bool) error {
	_, err := r.validate(currency, commit, nil)
	return err
}

// validate is Validate, with each line's product (nil: unknown) from the
// catalogue, which gives a line its unit when the line does not; it
// returns each line's amounts.
func (r *Request) validate(currency string, commit bool, products []*catalogue.Product) ([]amount, error) {
	if err := r.validateHead(currency, commit); err != nil {
		return nil, err
	}
	return r.validateItems(products)
}

func (r *Request) validateHead(currency string, commit bool) error {
	if err := checkID("store", r.Store, true); err != nil {
		return err
	}
	if err := checkID("terminal", r.Terminal, false); err != nil {
		return err
	}
	if err := checkID("transaction_id", r.TransactionID, commit); err != nil {
		return err
	}
	if r.Member != nil && *r.Member == "" {
		return problem.InvalidField("member", "member_empty", nil, "is empty: leave it out (or null) for an anonymous basket")
	}
	if len(r.MemberKey()) > 200 {
		return problem.InvalidField("member", "member_invalid", nil, "is too long")
	}
	if r.Currency == "" {
		return problem.InvalidField("currency", "required", nil, "is required (%s)", currency)
	}
	if !strings.EqualFold(r.Currency, currency) {
		return problem.InvalidField("currency", "currency_unsupported", nil, "%q is not this programme's currency (%s)", r.Currency, currency)
	}
	if r.RedeemPoints < 0 || r.RedeemPoints > ledger.MaxBalance {
		return problem.InvalidField("redeem_points", "points_invalid", nil, "must be 0 to %d", int64(ledger.MaxBalance))
	}
	if r.RedeemPoints > 0 && !commit {
		return problem.InvalidField("redeem_points", "commit_only", nil, "points are redeemed at commit")
	}
	if r.RedeemPoints > 0 && r.Member == nil {
		return problem.InvalidField("redeem_points", "member_required", nil, "redeeming points needs a member")
	}
	if len(r.Items) == 0 {
		return problem.InvalidField("items", "required", nil, "must list at least one item")
	}
	if len(r.Items) > MaxItems {
		return problem.InvalidField("items", "too_many", nil, "at most %d lines", MaxItems)
	}
	return nil
}

func (r *Request) validateItems(products []*catalogue.Product) ([]amount, error) {
	amounts := make([]amount, len(r.Items))
	seen := make(map[int]bool, len(r.Items))
	var value int64 // at most MaxItems * MaxQuantity * MaxUnitPrice = 5 * 10^17
	for i, it := range r.Items {
		f := func(name string) string { return fmt.Sprintf("items[%d].%s", i, name) }
		if it.Line < 1 {
			return nil, problem.InvalidField(f("line"), "line_invalid", nil, "must be a positive line number")
		}
		if seen[it.Line] {
			return nil, problem.InvalidField(f("line"), "line_duplicate", nil, "line %d appears twice", it.Line)
		}
		seen[it.Line] = true
		if err := checkIDAt(it.SKU, it.Barcode == "", func() string { return f("sku") }); err != nil {
			return nil, err
		}
		if err := checkIDAt(it.Barcode, false, func() string { return f("barcode") }); err != nil {
			return nil, err
		}
		if len(it.Categories) > maxCategories {
			return nil, problem.InvalidField(f("categories"), "too_many", nil, "at most %d categories", maxCategories)
		}
		for j, c := range it.Categories {
			if err := checkIDAt(c, true, func() string { return fmt.Sprintf("items[%d].categories[%d]", i, j) }); err != nil {
				return nil, err
			}
		}
		var p *catalogue.Product
		if products != nil {
			p = products[i]
		}
		a, err := it.amount(p)
		if err != nil {
			return nil, problem.InvalidField(f(err.field), err.code, nil, "%s", err.msg)
		}
		if it.UnitPrice < 0 || it.UnitPrice > MaxUnitPrice {
			return nil, problem.InvalidField(f("unit_price"), "price_invalid", nil, "must be 0 to %d minor units", int64(MaxUnitPrice))
		}
		a.price = it.UnitPrice
		if a.unit.Measured() {
			a.price = a.measure.Value(it.UnitPrice)
		}
		amounts[i] = a
		value += int64(a.qty) * a.price
	}
	if value > MaxBasket {
		return nil, problem.InvalidField("items", "basket_too_large", nil, "the basket is worth %d minor units, more than the most a basket may be, %d",
			value, int64(MaxBasket))
	}
	return amounts, nil
}

// Validate checks a return request.
func (r *ReturnRequest) Validate() error {
	if err := checkID("store", r.Store, true); err != nil {
		return err
	}
	if err := checkID("transaction_id", r.TransactionID, true); err != nil {
		return err
	}
	if err := checkID("return_id", r.ReturnID, true); err != nil {
		return err
	}
	if len(r.Items) == 0 {
		return problem.InvalidField("items", "required", nil, "must list at least one line")
	}
	seen := map[int]bool{}
	for i, it := range r.Items {
		if it.Line < 1 || seen[it.Line] {
			return problem.InvalidField(fmt.Sprintf("items[%d].line", i), "line_invalid", nil, "must be a line of the transaction, once")
		}
		seen[it.Line] = true
		if it.Quantity < 1 && it.Measure <= 0 {
			return problem.InvalidField(fmt.Sprintf("items[%d].quantity", i), "quantity_invalid", nil, "must be more than 0")
		}
	}
	return nil
}

// Validate checks a void request.
func (r *VoidRequest) Validate() error {
	if err := checkID("store", r.Store, true); err != nil {
		return err
	}
	return checkID("transaction_id", r.TransactionID, true)
}

// hash is the fingerprint of a request for idempotency: the same
// transaction id with the same body returns the stored answer.
func hash(v any) string {
	b, _ := json.Marshal(v) // plain structs of strings and numbers
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
