package batch

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/tabular"
)

// Offer is one row of an offer file: an offer open to one member (or, in
// the anonymous file, to every shopper), with what the till needs to give
// it offline. Times are in the store's zone (the campaign's own zone in an
// all-stores file); uses left is empty when unlimited.
type Offer struct {
	Action          string   `json:"action"` // add (full export), replace or remove (delta)
	MemberCode      string   `json:"member_code,omitempty"`
	Barcode         string   `json:"barcode,omitempty"` // the value the member's card barcode encodes
	OfferID         string   `json:"offer_id,omitempty"`
	CampaignID      string   `json:"campaign_id,omitempty"`
	Campaign        string   `json:"campaign,omitempty"`
	Description     string   `json:"description,omitempty"`
	Kind            string   `json:"kind,omitempty"`
	Value           string   `json:"value,omitempty"` // percent, minor units, points, multiplier or "buy:get", as the kind says
	SKUs            []string `json:"skus,omitempty"`
	Categories      []string `json:"categories,omitempty"`
	MinBasket       int64    `json:"min_basket,omitempty"`
	Days            []string `json:"days,omitempty"`
	From            string   `json:"from,omitempty"`
	To              string   `json:"to,omitempty"`
	ValidFrom       string   `json:"valid_from,omitempty"`
	ValidTo         string   `json:"valid_to,omitempty"`
	UsesLeft        *int64   `json:"uses_left,omitempty"`
	PointsBalance   *int64   `json:"points_balance,omitempty"`
	PointsValue     *int64   `json:"points_value,omitempty"` // minor units the balance pays
	Exclusive       bool     `json:"exclusive,omitempty"`
	RequireSKUs     []string `json:"require_skus,omitempty"`
	RequireCategory []string `json:"require_categories,omitempty"`
}

// OfferColumns are an offer file's CSV columns; lists are ";"-separated.
var OfferColumns = []string{"action", "member_code", "barcode", "offer_id", "campaign_id", "campaign", "description", "kind", "value",
	"skus", "categories", "min_basket", "days", "from", "to", "valid_from", "valid_to", "uses_left", "points_balance", "points_value",
	"exclusive", "require_skus", "require_categories"}

// CSV is the offer's row of an offer file, in OfferColumns' order.
func (o *Offer) CSV() []string {
	opt := func(p *int64) string {
		if p == nil {
			return ""
		}
		return strconv.FormatInt(*p, 10)
	}
	min := ""
	if o.MinBasket > 0 {
		min = strconv.FormatInt(o.MinBasket, 10)
	}
	excl := ""
	if o.Exclusive {
		excl = "true"
	}
	return []string{o.Action, o.MemberCode, o.Barcode, o.OfferID, o.CampaignID, o.Campaign, o.Description, o.Kind, o.Value,
		strings.Join(o.SKUs, ";"), strings.Join(o.Categories, ";"), min, strings.Join(o.Days, ";"), o.From, o.To, o.ValidFrom,
		o.ValidTo, opt(o.UsesLeft), opt(o.PointsBalance), opt(o.PointsValue), excl, strings.Join(o.RequireSKUs, ";"),
		strings.Join(o.RequireCategory, ";")}
}

// campaignOffers are a campaign's offers as the till sees them, before any
// member's own figures.
func campaignOffers(c engine.Campaign, l *campaign.Live, loc *time.Location) []Offer {
	if loc == nil {
		loc = l.Location
	}
	out := make([]Offer, len(c.Benefits))
	var days []string
	for _, d := range c.Conditions.Days {
		days = append(days, strings.ToLower(d.String()[:3]))
	}
	for i, b := range c.Benefits {
		out[i] = Offer{OfferID: b.ID, CampaignID: l.ID, Campaign: c.Name, Description: b.Description, Kind: string(b.Kind),
			Value: benefitValue(b), SKUs: b.Scope.SKUs, Categories: b.Scope.Categories, MinBasket: c.Conditions.MinBasket, Days: days,
			From: c.Conditions.From, To: c.Conditions.To, ValidFrom: c.Start.In(loc).Format(time.RFC3339),
			ValidTo: c.End.In(loc).Format(time.RFC3339), Exclusive: c.Exclusive, RequireSKUs: c.Conditions.RequireSKUs,
			RequireCategory: c.Conditions.RequireCategories}
	}
	return out
}

// benefitValue is the one number a benefit's kind turns on.
func benefitValue(b engine.Benefit) string {
	n := func(v int64) string { return strconv.FormatInt(v, 10) }
	switch b.Kind {
	case engine.PercentOff:
		return strconv.Itoa(b.Percent)
	case engine.AmountOff:
		return n(b.Amount)
	case engine.FixedPrice:
		return n(b.Price)
	case engine.BuyXGetY:
		return strconv.Itoa(b.Buy) + ":" + strconv.Itoa(b.Get)
	case engine.SpendThreshold:
		if b.Percent > 0 {
			return strconv.Itoa(b.Percent)
		}
		return n(b.Amount)
	case engine.PointsBonus, engine.PointsPerUnit:
		return n(b.Points)
	case engine.PointsMultiplier:
		return strconv.Itoa(b.Multiplier)
	}
	return ""
}

// encodedOffer is what of an offer's row is the same for every member,
// encoded once per export in the file's format: mid is offer_id to
// valid_to, tail exclusive to require_categories (OfferColumns 3-16 and
// 20-22). In JSON Lines each holds its fields with a leading comma, or
// nothing when every one of them is left out.
type encodedOffer struct{ mid, tail []byte }

func encodeOffers(offers []Offer, f Format) ([]encodedOffer, error) {
	out := make([]encodedOffer, len(offers))
	for i, o := range offers {
		if f == CSV {
			cells := tabular.DefuseAll(o.CSV())
			out[i] = encodedOffer{mid: appendCells(nil, cells[3:17]), tail: appendCells(nil, cells[20:])}
			continue
		}
		// The fields as encoding/json writes them in an Offer whose other
		// fields are empty: {"action":""<fields>}.
		mid, err := jsonFields(Offer{OfferID: o.OfferID, CampaignID: o.CampaignID, Campaign: o.Campaign, Description: o.Description,
			Kind: o.Kind, Value: o.Value, SKUs: o.SKUs, Categories: o.Categories, MinBasket: o.MinBasket, Days: o.Days, From: o.From,
			To: o.To, ValidFrom: o.ValidFrom, ValidTo: o.ValidTo})
		if err != nil {
			return nil, err
		}
		tail, err := jsonFields(Offer{Exclusive: o.Exclusive, RequireSKUs: o.RequireSKUs, RequireCategory: o.RequireCategory})
		if err != nil {
			return nil, err
		}
		out[i] = encodedOffer{mid: mid, tail: tail}
	}
	return out, nil
}

// jsonFields is o as JSON without its braces and empty action: the set
// fields, each after a comma.
func jsonFields(o Offer) ([]byte, error) {
	b, err := json.Marshal(o)
	if err != nil {
		return nil, fmt.Errorf("export offers: %w", err)
	}
	const open = `{"action":""`
	if !bytes.HasPrefix(b, []byte(open)) || !bytes.HasSuffix(b, []byte("}")) {
		return nil, fmt.Errorf("export offers: unexpected JSON %s", b)
	}
	return b[len(open) : len(b)-1], nil
}

// appendJSONString appends s as encoding/json writes a string (with its
// HTML escaping): printable ASCII other than a quote, backslash, <, > and
// & is copied between quotes; any other string is handed to encoding/json.
func appendJSONString(dst []byte, s string) []byte {
	if !plainJSON(s) {
		b, _ := json.Marshal(s) // a string always encodes
		return append(dst, b...)
	}
	dst = append(dst, '"')
	dst = append(dst, s...)
	return append(dst, '"')
}

func plainJSON(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < ' ' || c > '~', c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// appendCells appends cells (already defused) as encoding/csv writes a
// record, without the line end.
func appendCells(dst []byte, cells []string) []byte {
	for i, c := range cells {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = appendCell(dst, c)
	}
	return dst
}

// appendText appends a text cell: defused, then encoded as a CSV field.
func appendText(dst []byte, s string) []byte { return appendCell(dst, tabular.Defuse(s)) }

// appendCell appends one field as encoding/csv writes it. A field of
// printable ASCII without a comma, quote or backslash that does not start
// with a space needs no quotes and is copied; any other is handed to
// encoding/csv itself, so the rules (quoting, doubled quotes, a leading
// space, `\.`) are exactly its own.
func appendCell(dst []byte, s string) []byte {
	if plainCell(s) {
		return append(dst, s...)
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.Write([]string{s}) // a bytes.Buffer does not fail
	w.Flush()
	return append(dst, bytes.TrimSuffix(b.Bytes(), []byte("\n"))...)
}

func plainCell(s string) bool {
	if s != "" && s[0] == ' ' {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < ' ' || c > '~', c == ',', c == '"', c == '\\':
			return false
		}
	}
	return true
}
