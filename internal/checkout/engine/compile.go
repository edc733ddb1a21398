package engine

import (
	"fmt"
	"slices"
	"time"
)

// ValidationError is why Compile refused a campaign. Field lets an API answer
// 422 with the offending field; Message is fit to show the person who wrote
// the campaign and names the field itself.
type ValidationError struct {
	Field   string // path in the campaign's JSON shape: "end", "conditions.from", "benefits[1].percent"
	Message string // e.g. "benefit 2: percent must be 1..100"
}

func (e *ValidationError) Error() string { return e.Message }

// compiledBenefit is a Benefit with its scope turned into sets. The Benefit
// is a copy, so Evaluate never reads memory the caller could still change.
type compiledBenefit struct {
	Benefit
	all        bool // empty scope: every line
	discount   bool // changes what the shopper pays
	points     bool // adds points
	skus, cats keySet
}

// keySet keeps both shapes of a set of codes because Evaluate picks whichever
// is cheaper for the basket at hand: probing the basket's index with each key,
// or probing the set with each basket line.
type keySet struct {
	keys []string // distinct, in first-seen order
	set  map[string]struct{}
}

func newKeySet(keys []string) keySet {
	if len(keys) == 0 {
		return keySet{}
	}
	ks := keySet{set: make(map[string]struct{}, len(keys))}
	for _, k := range keys {
		if _, dup := ks.set[k]; !dup {
			ks.set[k] = struct{}{}
			ks.keys = append(ks.keys, k)
		}
	}
	return ks
}

func (ks *keySet) has(k string) bool {
	_, ok := ks.set[k]
	return ok
}

// Compile validates c and prepares it for Evaluate. Every error is a
// *ValidationError.
func Compile(c Campaign) (*Compiled, error) {
	if c.ID == "" {
		return nil, invalid("id", "id is required")
	}
	if !c.End.IsZero() && !c.End.After(c.Start) {
		return nil, invalid("end", "end must be after start")
	}
	for i, s := range c.Stores {
		if s == "" {
			return nil, invalid(fmt.Sprintf("stores[%d]", i), fmt.Sprintf("store %d is empty", i+1))
		}
	}
	cc := &Compiled{
		id:        c.ID,
		priority:  c.Priority,
		exclusive: c.Exclusive,
		open:      c.Open,
		from:      0,
		to:        minutesPerDay,
		minBasket: c.Conditions.MinBasket,
	}
	if !c.Start.IsZero() {
		cc.hasStart, cc.startS, cc.startN = true, c.Start.Unix(), int32(c.Start.Nanosecond())
	}
	if !c.End.IsZero() {
		cc.hasEnd, cc.endS, cc.endN = true, c.End.Unix(), int32(c.End.Nanosecond())
	}
	if len(c.Stores) > 0 {
		cc.stores = newKeySet(c.Stores)
		cc.hasStores = true
	}
	if err := cc.compileConditions(&c.Conditions); err != nil {
		return nil, err
	}
	if len(c.Benefits) == 0 {
		return nil, invalid("benefits", "a campaign needs at least one benefit")
	}
	ids := make(map[string]int, len(c.Benefits))
	cc.benefits = make([]compiledBenefit, len(c.Benefits))
	for i, b := range c.Benefits {
		if b.ID == "" {
			return nil, invalid(fmt.Sprintf("benefits[%d].id", i), fmt.Sprintf("benefit %d: id is required", i+1))
		}
		if j, dup := ids[b.ID]; dup {
			return nil, invalid(fmt.Sprintf("benefits[%d].id", i),
				fmt.Sprintf("benefit %d: id %q is also benefit %d's", i+1, b.ID, j+1))
		}
		ids[b.ID] = i
		cb, err := compileBenefit(i, b)
		if err != nil {
			return nil, err
		}
		cc.benefits[i] = cb
		cc.hasDiscount = cc.hasDiscount || cb.discount
		cc.hasPoints = cc.hasPoints || cb.points
		cc.hasFree = cc.hasFree || b.Kind == FreeContent
	}
	// The embedded Campaign is for readers of the compiled value; cloning its
	// slices stops a caller's later edits from showing through it.
	c.Stores = slices.Clone(c.Stores)
	c.Benefits = slices.Clone(c.Benefits)
	for i := range c.Benefits {
		sc := &c.Benefits[i].Scope
		sc.SKUs, sc.Categories = slices.Clone(sc.SKUs), slices.Clone(sc.Categories)
	}
	c.Conditions.Days = slices.Clone(c.Conditions.Days)
	c.Conditions.RequireSKUs = slices.Clone(c.Conditions.RequireSKUs)
	c.Conditions.RequireCategories = slices.Clone(c.Conditions.RequireCategories)
	cc.Campaign = c
	return cc, nil
}

const minutesPerDay = 24 * 60

func (cc *Compiled) compileConditions(k *Conditions) error {
	if k.MinBasket < 0 {
		return invalid("conditions.min_basket", "conditions: min_basket must not be negative")
	}
	for i, d := range k.Days {
		if d < time.Sunday || d > time.Saturday {
			return invalid(fmt.Sprintf("conditions.days[%d]", i),
				fmt.Sprintf("conditions: day %d must be 0 (Sunday) .. 6 (Saturday)", i+1))
		}
		cc.days |= 1 << d
	}
	if err := checkCodes("conditions.require_skus", "conditions: required SKU", k.RequireSKUs); err != nil {
		return err
	}
	if err := checkCodes("conditions.require_categories", "conditions: required category", k.RequireCategories); err != nil {
		return err
	}
	cc.reqSKUs = newKeySet(k.RequireSKUs)
	cc.reqCats = newKeySet(k.RequireCategories)
	if k.From != "" {
		m, ok := parseHHMM(k.From)
		if !ok {
			return invalid("conditions.from", fmt.Sprintf("conditions: from %q must be HH:MM (00:00..23:59)", k.From))
		}
		cc.from = m
	}
	if k.To != "" {
		m, ok := parseHHMM(k.To)
		if !ok {
			return invalid("conditions.to", fmt.Sprintf("conditions: to %q must be HH:MM (00:00..23:59)", k.To))
		}
		// "00:00" as an end can only mean the midnight that ends the day.
		if m == 0 {
			m = minutesPerDay
		}
		cc.to = m
	}
	if cc.from == cc.to {
		return invalid("conditions.to", "conditions: to must differ from from (the window would be empty)")
	}
	cc.window = cc.from != 0 || cc.to != minutesPerDay
	return nil
}

func compileBenefit(i int, b Benefit) (compiledBenefit, error) {
	field := func(name string) string { return fmt.Sprintf("benefits[%d].%s", i, name) }
	bad := func(name, msg string) error {
		return invalid(field(name), fmt.Sprintf("benefit %d: %s %s", i+1, name, msg))
	}
	cb := compiledBenefit{Benefit: b}
	switch b.Kind {
	case PercentOff:
		if b.Percent < 1 || b.Percent > 100 {
			return cb, bad("percent", "must be 1..100")
		}
	case AmountOff:
		if b.Amount <= 0 {
			return cb, bad("amount", "must be more than 0")
		}
	case FixedPrice:
		if b.Price < 0 {
			return cb, bad("price", "must not be negative")
		}
	case BuyXGetY:
		if b.Buy < 1 {
			return cb, bad("buy", "must be at least 1")
		}
		if b.Get < 1 {
			return cb, bad("get", "must be at least 1")
		}
		if b.Percent < 0 || b.Percent > 100 {
			return cb, bad("percent", "must be 0 (free) or 1..100")
		}
	case SpendThreshold:
		if b.Threshold <= 0 {
			return cb, bad("threshold", "must be more than 0")
		}
		if b.Percent < 0 || b.Percent > 100 {
			return cb, bad("percent", "must be 0 (use amount) or 1..100")
		}
		if b.Percent == 0 && b.Amount <= 0 {
			return cb, bad("amount", "must be more than 0 when percent is not set")
		}
	case PointsBonus, PointsPerUnit:
		if b.Points <= 0 {
			return cb, bad("points", "must be more than 0")
		}
	case PointsMultiplier:
		if b.Multiplier < 2 {
			return cb, bad("multiplier", "must be at least 2")
		}
	case FreeContent:
		if b.Pool == "" {
			return cb, bad("pool", "is required")
		}
		// Free content applies whenever the campaign does; a scope would look
		// like a condition and silently be none.
		if len(b.Scope.SKUs) > 0 || len(b.Scope.Categories) > 0 {
			return cb, bad("scope", "is not used by free_content: use conditions.require_skus or require_categories")
		}
	case "":
		return cb, bad("kind", "is required")
	default:
		return cb, bad("kind", fmt.Sprintf("%q is not a known kind", b.Kind))
	}
	if err := checkCodes(field("scope.skus"), fmt.Sprintf("benefit %d: scope SKU", i+1), b.Scope.SKUs); err != nil {
		return cb, err
	}
	if err := checkCodes(field("scope.categories"), fmt.Sprintf("benefit %d: scope category", i+1), b.Scope.Categories); err != nil {
		return cb, err
	}
	cb.all = len(b.Scope.SKUs) == 0 && len(b.Scope.Categories) == 0
	cb.skus = newKeySet(b.Scope.SKUs)
	cb.cats = newKeySet(b.Scope.Categories)
	switch b.Kind {
	case PercentOff, AmountOff, FixedPrice, BuyXGetY, SpendThreshold:
		cb.discount = true
	case PointsBonus, PointsPerUnit, PointsMultiplier:
		cb.points = true
	}
	return cb, nil
}

func checkCodes(field, what string, codes []string) error {
	for i, c := range codes {
		if c == "" {
			return invalid(fmt.Sprintf("%s[%d]", field, i), fmt.Sprintf("%s %d is empty", what, i+1))
		}
	}
	return nil
}

// parseHHMM reads "HH:MM" (24-hour, two digits each) as minutes of the day.
func parseHHMM(s string) (int32, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range [...]int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int32(s[0]-'0')*10 + int32(s[1]-'0')
	m := int32(s[3]-'0')*10 + int32(s[4]-'0')
	if h > 23 || m > 59 {
		return 0, false
	}
	return h*60 + m, true
}

func invalid(field, msg string) *ValidationError {
	return &ValidationError{Field: field, Message: msg}
}
