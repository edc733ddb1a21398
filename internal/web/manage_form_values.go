package web

import (
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/money"
	"github.com/perk-platform/perk/internal/problem"
)

// formReader reads a form's inputs as the spec's types, keeping the first
// input it cannot read.
type formReader struct {
	f   *campaignForm
	cur money.Currency
	err error
}

func (r *formReader) bad(field, code string, cause error, format string, args ...any) {
	if r.err == nil {
		r.err = problem.InvalidField(field, code, cause, format, args...)
	}
}

func (r *formReader) text(name string) string { return strings.TrimSpace(r.f.Get(name)) }

// list reads a comma or line separated list.
func (r *formReader) list(name string) []string { return split(r.f.Get(name)) }

func (r *formReader) int64(name string) int64 {
	v := r.text(name)
	if v == "" {
		return 0
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		r.bad(name, "number_invalid", err, "must be a whole number")
	}
	return n
}

func (r *formReader) int(name string) int {
	n := r.int64(name)
	if n != int64(int(n)) {
		r.bad(name, "number_invalid", nil, "must be a whole number")
	}
	return int(n)
}

// optInt reads a number that may be left out (nil), unlike 0.
func (r *formReader) optInt(name string) *int64 {
	if r.text(name) == "" {
		return nil
	}
	n := r.int64(name)
	return &n
}

// affinity reads the profile affinity filter (category or brand, and the
// least share as a fraction such as 0.2); nil when all three are empty.
func (r *formReader) affinity(prefix string) *campaign.AffinityFilter {
	a := campaign.AffinityFilter{Category: r.text(prefix + "category"), Brand: r.text(prefix + "brand")}
	share := r.text(prefix + "at_least")
	if a.Category == "" && a.Brand == "" && share == "" {
		return nil
	}
	if share != "" {
		v, err := strconv.ParseFloat(share, 64)
		if err != nil {
			r.bad(prefix+"at_least", "number_invalid", err, "must be a share such as 0.2")
		}
		a.AtLeast = v
	}
	return &a
}

// yesNo reads a select of "yes", "no" or "" (either: nil).
func (r *formReader) yesNo(name string) *bool {
	switch r.text(name) {
	case "":
		return nil
	case "yes":
		t := true
		return &t
	case "no":
		f := false
		return &f
	}
	r.bad(name, "choice_invalid", nil, "must be yes, no or empty")
	return nil
}

// money reads an amount in the programme's currency as minor units.
func (r *formReader) money(name string) int64 {
	v := r.text(name)
	if v == "" {
		return 0
	}
	n, err := r.cur.Parse(v)
	if err != nil {
		r.bad(name, "amount_invalid", err, "must be an amount such as %s", r.cur.Number(499))
	}
	return n
}

// pairs reads name=value lines.
func (r *formReader) pairs(name string) map[string]string {
	var out map[string]string
	for _, line := range strings.Split(r.f.Get(name), "\n") {
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			r.bad(name, "attribute_invalid", nil, "must be lines of name=value")
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out
}

func split(s string) []string {
	var out []string
	for _, p := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == '\n' }) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// formFromSpec fills the form with a campaign's spec, amounts in cur, and
// one blank benefit row to add another.
func formFromSpec(sp campaign.Spec, cur money.Currency) *campaignForm {
	v := map[string][]string{}
	set := func(name, value string) {
		if value != "" {
			v[name] = []string{value}
		}
	}
	num := func(name string, n int64) {
		if n != 0 {
			set(name, strconv.FormatInt(n, 10))
		}
	}
	amount := func(name string, n int64) {
		if n != 0 {
			set(name, cur.Number(n))
		}
	}
	list := func(name string, l []string) { set(name, strings.Join(l, ", ")) }
	set("name", sp.Name)
	set("description", sp.Description)
	set("timezone", sp.TimeZone)
	set("start", sp.Start)
	set("end", sp.End)
	list("stores", sp.Stores)
	num("priority", int64(sp.Priority))
	if sp.Exclusive {
		set("exclusive", "on")
	}
	num("control_group", int64(sp.ControlGroup))
	if sp.Personal {
		set("personal", "on")
	}
	set("message", sp.Message)
	set("kind", sp.Kind)
	if n := sp.NextBestOffer; n != nil {
		set("next_best_offer.k", strconv.Itoa(n.K))
		set("next_best_offer.holdout", strconv.Itoa(n.Holdout))
		if n.Announce {
			set("next_best_offer.announce", "on")
		}
	}
	set("audience.kind", sp.Audience.Kind)
	if fl := sp.Audience.Filter; fl != nil {
		const p = "audience.filter."
		list(p+"tags", fl.Tags)
		list(p+"home_stores", fl.HomeStores)
		list(p+"statuses", fl.Statuses)
		list(p+"channels", fl.Channels)
		var attrs []string
		for _, k := range slices.Sorted(maps.Keys(fl.Attributes)) {
			attrs = append(attrs, k+"="+fl.Attributes[k])
		}
		set(p+"attributes", strings.Join(attrs, "\n"))
		set(p+"enrolled_after", fl.EnrolledAfter)
		set(p+"enrolled_before", fl.EnrolledBefore)
		if fl.PointsAtLeast != nil {
			set(p+"points_at_least", strconv.FormatInt(*fl.PointsAtLeast, 10))
		}
		if fl.PointsBelow != nil {
			set(p+"points_below", strconv.FormatInt(*fl.PointsBelow, 10))
		}
		set(p+"last_purchase_after", fl.LastPurchaseAfter)
		set(p+"last_purchase_before", fl.LastPurchaseBefore)
		num(p+"spend_days", int64(fl.SpendDays))
		amount(p+"spend_at_least", fl.SpendAtLeast)
		list(p+"bought_skus", fl.BoughtSKUs)
		list(p+"bought_categories", fl.BoughtCategories)
		num(p+"bought_days", int64(fl.BoughtDays))
		list(p+"rfm_segment", fl.RFMSegments)
		if a := fl.Affinity; a != nil {
			set(p+"affinity.category", a.Category)
			set(p+"affinity.brand", a.Brand)
			set(p+"affinity.at_least", strconv.FormatFloat(a.AtLeast, 'f', -1, 64))
		}
		if fl.Overdue != nil {
			set(p+"overdue", map[bool]string{true: "yes", false: "no"}[*fl.Overdue])
		}
	}
	f := &campaignForm{v: v, rows: len(sp.Benefits) + 1, errs: map[string]string{}}
	for i, b := range sp.Benefits {
		set(f.B(i, "kind"), string(b.Kind))
		set(f.B(i, "description"), b.Description)
		list(f.B(i, "scope.skus"), b.Scope.SKUs)
		list(f.B(i, "scope.categories"), b.Scope.Categories)
		num(f.B(i, "percent"), int64(b.Percent))
		amount(f.B(i, "amount"), b.Amount)
		amount(f.B(i, "price"), b.Price)
		amount(f.B(i, "threshold"), b.Threshold)
		num(f.B(i, "buy"), int64(b.Buy))
		num(f.B(i, "get"), int64(b.Get))
		num(f.B(i, "points"), b.Points)
		num(f.B(i, "multiplier"), int64(b.Multiplier))
		set(f.B(i, "pool"), b.Pool)
	}
	c := sp.Conditions
	amount("conditions.min_basket", c.MinBasket)
	list("conditions.require_skus", c.RequireSKUs)
	list("conditions.require_categories", c.RequireCategories)
	for _, d := range c.Days {
		v["conditions.days"] = append(v["conditions.days"], strconv.Itoa(int(d)))
	}
	set("conditions.from", c.From)
	set("conditions.to", c.To)
	l := sp.Limits
	num("limits.per_member", int64(l.PerMember))
	num("limits.per_period", int64(l.PerPeriod))
	set("limits.period", l.Period)
	num("limits.max_redemptions", l.MaxRedemptions)
	amount("limits.budget", l.Budget)
	return f
}
