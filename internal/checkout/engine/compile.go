package engine

import (
	"cmp"
	"fmt"
	"math"
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

// scope is where a benefit applies, in the compact form Evaluate checks for
// every candidate: ranges of the campaign's codes.
type scope struct {
	skus, cats       span
	all              bool // empty scope: every line
	discount, points bool // the kind changes what is paid, or adds points
	sets             *codeSets
}

// span is a range of a campaign's codes and hashes.
type span struct{ lo, hi int32 }

func (sp span) len() int { return int(sp.hi - sp.lo) }

// longList is the length from which a list of codes also gets a set, so a
// basket with fewer codes than the list can be scanned line by line instead.
const longList = 32

// codeSets are a long pair of lists (SKUs, categories) as sets.
type codeSets struct{ skus, cats map[string]struct{} }

func has(set map[string]struct{}, code string) bool {
	_, ok := set[code]
	return ok
}

// addCodes appends a list of codes, without repeats, to the campaign's codes.
func (cc *Compiled) addCodes(list []string) span {
	lo := len(cc.codes)
	var seen map[string]struct{}
	if len(list) > longList {
		seen = make(map[string]struct{}, len(list))
	}
	for _, code := range list {
		if seen != nil {
			if _, dup := seen[code]; dup {
				continue
			}
			seen[code] = struct{}{}
		} else if slices.Contains(cc.codes[lo:], code) {
			continue
		}
		cc.codes = append(cc.codes, code)
		cc.hashes = append(cc.hashes, hashCode(code))
	}
	return span{int32(lo), int32(len(cc.codes))}
}

// setsFor returns sets of the codes in two spans when they are long, else nil.
func (cc *Compiled) setsFor(skus, cats span) *codeSets {
	if skus.len()+cats.len() <= longList {
		return nil
	}
	set := func(sp span) map[string]struct{} {
		m := make(map[string]struct{}, sp.len())
		for _, c := range cc.codes[sp.lo:sp.hi] {
			m[c] = struct{}{}
		}
		return m
	}
	return &codeSets{skus: set(skus), cats: set(cats)}
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
	cc.rankStartS = math.MinInt64
	if !c.Start.IsZero() {
		cc.hasStart, cc.startS, cc.startN = true, c.Start.Unix(), int32(c.Start.Nanosecond())
		cc.rankStartS = cc.startS
	}
	if !c.End.IsZero() {
		cc.hasEnd, cc.endS, cc.endN = true, c.End.Unix(), int32(c.End.Nanosecond())
	}
	if len(c.Stores) > 0 {
		cc.hasStores = true
		cc.storeSet = make(map[string]struct{}, len(c.Stores))
		for _, st := range c.Stores {
			if _, dup := cc.storeSet[st]; !dup {
				cc.storeSet[st] = struct{}{}
				cc.stores = append(cc.stores, st)
			}
		}
	}
	if err := cc.compileConditions(&c.Conditions); err != nil {
		return nil, err
	}
	if len(c.Benefits) == 0 {
		return nil, invalid("benefits", "a campaign needs at least one benefit")
	}
	ids := make(map[string]int, len(c.Benefits))
	cc.benefits = make([]Benefit, len(c.Benefits))
	cc.scopes = make([]scope, len(c.Benefits))
	for i, b := range c.Benefits {
		if b.ID == "" {
			return nil, invalid(fmt.Sprintf("benefits[%d].id", i), fmt.Sprintf("benefit %d: id is required", i+1))
		}
		if j, dup := ids[b.ID]; dup {
			return nil, invalid(fmt.Sprintf("benefits[%d].id", i),
				fmt.Sprintf("benefit %d: id %q is also benefit %d's", i+1, b.ID, j+1))
		}
		ids[b.ID] = i
		if err := checkBenefit(i, b); err != nil {
			return nil, err
		}
		cc.benefits[i] = b
		sc := &cc.scopes[i]
		sc.skus, sc.cats = cc.addCodes(b.Scope.SKUs), cc.addCodes(b.Scope.Categories)
		sc.all = sc.skus.len() == 0 && sc.cats.len() == 0
		sc.sets = cc.setsFor(sc.skus, sc.cats)
		switch b.Kind {
		case PercentOff, AmountOff, FixedPrice, BuyXGetY, SpendThreshold:
			sc.discount = true
		case PointsBonus, PointsPerUnit, PointsMultiplier:
			sc.points = true
			cc.hasPoints = true
		case FreeContent:
			cc.hasFree = true
		}
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
	if k.MinBasket < 0 || k.MinBasket > MaxAmount {
		return invalid("conditions.min_basket", fmt.Sprintf("conditions: min_basket must be 0..%d", int64(MaxAmount)))
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
	cc.reqSKUs, cc.reqCats = cc.addCodes(k.RequireSKUs), cc.addCodes(k.RequireCategories)
	cc.reqSets = cc.setsFor(cc.reqSKUs, cc.reqCats)
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

func checkBenefit(i int, b Benefit) error {
	field := func(name string) string { return fmt.Sprintf("benefits[%d].%s", i, name) }
	bad := func(name, msg string) error {
		return invalid(field(name), fmt.Sprintf("benefit %d: %s %s", i+1, name, msg))
	}
	// outside checks one figure against its range (ranges.go), naming it.
	outside := func(name string, v, lo, hi int64) error {
		if v < lo || v > hi {
			return bad(name, fmt.Sprintf("must be %d..%d", lo, hi))
		}
		return nil
	}
	var err error
	switch b.Kind {
	case PercentOff:
		err = outside("percent", int64(b.Percent), 1, 100)
	case AmountOff:
		err = outside("amount", b.Amount, 1, MaxAmount)
	case FixedPrice:
		err = outside("price", b.Price, 0, MaxUnitPrice)
	case BuyXGetY:
		err = cmp.Or(outside("buy", int64(b.Buy), 1, MaxQuantity), outside("get", int64(b.Get), 1, MaxQuantity))
		if err == nil && (b.Percent < 0 || b.Percent > 100) {
			err = bad("percent", "must be 0 (free) or 1..100")
		}
	case SpendThreshold:
		err = outside("threshold", b.Threshold, 1, MaxAmount)
		switch {
		case err != nil:
		case b.Percent < 0 || b.Percent > 100:
			err = bad("percent", "must be 0 (use amount) or 1..100")
		case b.Percent == 0 && (b.Amount < 1 || b.Amount > MaxAmount):
			err = bad("amount", fmt.Sprintf("must be 1..%d when percent is not set", int64(MaxAmount)))
		case b.Amount < 0 || b.Amount > MaxAmount:
			err = bad("amount", fmt.Sprintf("must be 0 (use percent) or 1..%d", int64(MaxAmount)))
		}
	case PointsBonus:
		err = outside("points", b.Points, 1, MaxPoints)
	case PointsPerUnit:
		err = outside("points", b.Points, 1, MaxPointsPerUnit)
	case PointsMultiplier:
		err = outside("multiplier", int64(b.Multiplier), 2, MaxMultiplier)
	case FreeContent:
		if b.Pool == "" {
			return bad("pool", "is required")
		}
		// Free content applies whenever the campaign does; a scope would look
		// like a condition and silently be none.
		if len(b.Scope.SKUs) > 0 || len(b.Scope.Categories) > 0 {
			return bad("scope", "is not used by free_content: use conditions.require_skus or require_categories")
		}
	case "":
		return bad("kind", "is required")
	default:
		return bad("kind", fmt.Sprintf("%q is not a known kind", b.Kind))
	}
	if err != nil {
		return err
	}
	if err := checkCodes(field("scope.skus"), fmt.Sprintf("benefit %d: scope SKU", i+1), b.Scope.SKUs); err != nil {
		return err
	}
	return checkCodes(field("scope.categories"), fmt.Sprintf("benefit %d: scope category", i+1), b.Scope.Categories)
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
