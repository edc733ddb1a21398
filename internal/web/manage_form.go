package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/money"
	"github.com/perk-platform/perk/internal/problem"
)

// The campaign form covers what the API's campaign spec covers. Its inputs
// are named by the spec's JSON field paths ("limits.per_member",
// "benefits[1].percent", "audience.filter.tags"), so the campaign service's
// own validation error, whose field is such a path, lands beside the input
// it is about with the API's message: the form parses numbers and amounts,
// the service validates. Amounts are typed in the programme's currency
// ("4.99"), lists comma separated, weekdays ticked.

// maxBenefitRows bounds the benefit rows a form may ask for.
const maxBenefitRows = 20

// campaignForm is the campaign form as typed (or as filled from a spec),
// with its errors: Err(input) beside an input, General above the form.
type campaignForm struct {
	v       url.Values
	rows    int   // benefit rows shown
	rowOf   []int // the row each of the spec's benefits came from
	errs    map[string]string
	General string
}

// Get is an input's value.
func (f *campaignForm) Get(name string) string { return f.v.Get(name) }

// Has reports whether a multi-valued input (the days) holds value.
func (f *campaignForm) Has(name, value string) bool { return slices.Contains(f.v[name], value) }

// Err is the error shown beside an input or a group of inputs.
func (f *campaignForm) Err(name string) string { return f.errs[name] }

// Rows are the benefit rows' indexes.
func (f *campaignForm) Rows() []int {
	out := make([]int, f.rows)
	for i := range out {
		out[i] = i
	}
	return out
}

// B is the input name of a benefit row's field: benefits[1].percent.
func (f *campaignForm) B(i int, field string) string { return fmt.Sprintf("benefits[%d].%s", i, field) }

// ID turns an input name into an element id: benefits-1-percent.
func (f *campaignForm) ID(name string) string { return idReplacer.Replace(name) }

var idReplacer = strings.NewReplacer("[", "-", "].", "-", "]", "", ".", "-")

// Weekdays are the days the form offers, Monday first, with the numbers
// engine.Weekdays reads.
func (f *campaignForm) Weekdays() [][2]string {
	return [][2]string{{"1", "Mon"}, {"2", "Tue"}, {"3", "Wed"}, {"4", "Thu"}, {"5", "Fri"}, {"6", "Sat"}, {"0", "Sun"}}
}

// formOf reads a posted campaign form. "more" asks for another benefit row.
func formOf(v url.Values) *campaignForm {
	f := &campaignForm{v: v, errs: map[string]string{}}
	f.rows, _ = strconv.Atoi(v.Get("rows"))
	for f.rows < maxBenefitRows && v.Get(f.B(f.rows, "kind")) != "" {
		f.rows++ // rows posted without a count
	}
	if v.Get("more") != "" {
		f.rows++
	}
	f.rows = min(max(f.rows, 1), maxBenefitRows)
	return f
}

// fail sets err beside the input its field names, or above the form. A
// *problem.Error's field is a spec path; its benefit index is turned back
// into the row it was typed in, and a path with no input of its own goes
// to the nearest enclosing one ("benefits[0].scope.skus[2]" to the row's
// SKUs, "conditions.days[1]" to the days).
func (f *campaignForm) fail(err error) {
	var pe *problem.Error
	if !errors.As(err, &pe) || pe.Field == "" {
		f.General = err.Error()
		return
	}
	field := pe.Field
	if m := benefitPath.FindStringSubmatch(field); m != nil {
		if k, _ := strconv.Atoi(m[1]); k < len(f.rowOf) {
			field = fmt.Sprintf("benefits[%d]%s", f.rowOf[k], m[2])
		}
	}
	for p := field; p != ""; p = parentPath(p) {
		if f.known(p) {
			f.errs[p] = pe.Message
			return
		}
	}
	f.General = pe.Field + ": " + pe.Message
}

var benefitPath = regexp.MustCompile(`^benefits\[(\d+)\](.*)$`)

// parentPath drops a path's last step: a[1].b to a[1], a[1] to a.
func parentPath(p string) string {
	if i := strings.LastIndexAny(p, ".["); i > 0 {
		return p[:i]
	}
	return ""
}

// known reports whether the form shows errors for path.
func (f *campaignForm) known(p string) bool {
	if slices.Contains(formInputs, p) || slices.Contains([]string{"benefits", "audience", "limits", "conditions", "json"}, p) {
		return true
	}
	if m := benefitPath.FindStringSubmatch(p); m != nil {
		i, _ := strconv.Atoi(m[1])
		return i < f.rows && (m[2] == "" || slices.Contains(benefitInputs, strings.TrimPrefix(m[2], ".")))
	}
	return false
}

// formInputs are the form's inputs outside the benefit rows.
var formInputs = []string{
	"name", "description", "timezone", "start", "end", "stores", "priority", "exclusive", "control_group", "message", "personal",
	"audience.kind", "audience.filter", "audience.filter.tags", "audience.filter.home_stores", "audience.filter.statuses",
	"audience.filter.channels", "audience.filter.attributes", "audience.filter.enrolled_after", "audience.filter.enrolled_before",
	"audience.filter.last_purchase_after", "audience.filter.last_purchase_before", "audience.filter.points_at_least",
	"audience.filter.points_below", "audience.filter.spend_at_least", "audience.filter.spend_days",
	"audience.filter.bought_skus", "audience.filter.bought_categories", "audience.filter.bought_days",
	"conditions.min_basket", "conditions.require_skus", "conditions.require_categories", "conditions.days",
	"conditions.from", "conditions.to",
	"limits.per_member", "limits.per_period", "limits.period", "limits.max_redemptions", "limits.budget",
	"kind", "next_best_offer", "next_best_offer.k", "next_best_offer.holdout", "next_best_offer.announce",
}

// benefitInputs are each benefit row's inputs.
var benefitInputs = []string{"kind", "description", "percent", "amount", "price", "threshold", "buy", "get", "points",
	"multiplier", "pool", "scope.skus", "scope.categories"}

// spec builds the campaign the form describes: the JSON box when filled,
// else the fields, whose amounts are in cur. Its errors are the form's
// own (a number that is not one), with the input's path as their field.
func (f *campaignForm) spec(cur money.Currency) (campaign.Spec, error) {
	var sp campaign.Spec
	if js := strings.TrimSpace(f.Get("json")); js != "" {
		dec := json.NewDecoder(strings.NewReader(js))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&sp); err != nil {
			return sp, problem.InvalidField("json", "json_invalid", err, "is not a campaign: %v", err)
		}
		return sp, nil
	}
	r := formReader{f: f, cur: cur}
	sp = campaign.Spec{Name: r.text("name"), Description: r.text("description"), TimeZone: r.text("timezone"),
		Start: r.text("start"), End: r.text("end"), Stores: r.list("stores"), Priority: r.int("priority"),
		Exclusive: f.Get("exclusive") != "", ControlGroup: r.int("control_group"), Message: r.text("message"),
		Personal: f.Get("personal") != ""}
	sp.Kind = r.text("kind")
	// The next best offer's settings are read whenever one is typed, so a
	// standard campaign with them is refused beside them, not cleared.
	if sp.Kind == campaign.KindNextBestOffer || r.text("next_best_offer.k") != "" || r.text("next_best_offer.holdout") != "" ||
		f.Get("next_best_offer.announce") != "" {
		sp.NextBestOffer = &campaign.NextBestOffer{K: r.int("next_best_offer.k"), Holdout: r.int("next_best_offer.holdout"),
			Announce: f.Get("next_best_offer.announce") != ""}
	}
	sp.Audience.Kind = r.text("audience.kind")
	if sp.Audience.Kind == campaign.AudienceFilter {
		const p = "audience.filter."
		sp.Audience.Filter = &campaign.Filter{Tags: r.list(p + "tags"), HomeStores: r.list(p + "home_stores"),
			Statuses: r.list(p + "statuses"), Channels: r.list(p + "channels"), Attributes: r.pairs(p + "attributes"),
			EnrolledAfter: r.text(p + "enrolled_after"), EnrolledBefore: r.text(p + "enrolled_before"),
			PointsAtLeast: r.optInt(p + "points_at_least"), PointsBelow: r.optInt(p + "points_below"),
			LastPurchaseAfter: r.text(p + "last_purchase_after"), LastPurchaseBefore: r.text(p + "last_purchase_before"),
			SpendDays: r.int(p + "spend_days"), SpendAtLeast: r.money(p + "spend_at_least"),
			BoughtSKUs: r.list(p + "bought_skus"), BoughtCategories: r.list(p + "bought_categories"), BoughtDays: r.int(p + "bought_days"),
			RFMSegments: r.list(p + "rfm_segment"), Affinity: r.affinity(p + "affinity."), Overdue: r.yesNo(p + "overdue")}
	}
	for i := range f.rows {
		b := func(field string) string { return f.B(i, field) }
		if r.text(b("kind")) == "" {
			continue // a blank row
		}
		f.rowOf = append(f.rowOf, i)
		sp.Benefits = append(sp.Benefits, engine.Benefit{Kind: engine.Kind(r.text(b("kind"))), Description: r.text(b("description")),
			Scope:   engine.Scope{SKUs: r.list(b("scope.skus")), Categories: r.list(b("scope.categories"))},
			Percent: r.int(b("percent")), Amount: r.money(b("amount")), Price: r.money(b("price")), Threshold: r.money(b("threshold")),
			Buy: r.int(b("buy")), Get: r.int(b("get")), Points: r.int64(b("points")), Multiplier: r.int(b("multiplier")),
			Pool: r.text(b("pool"))})
	}
	sp.Conditions = engine.Conditions{MinBasket: r.money("conditions.min_basket"), RequireSKUs: r.list("conditions.require_skus"),
		RequireCategories: r.list("conditions.require_categories"), From: r.text("conditions.from"), To: r.text("conditions.to")}
	for _, d := range f.v["conditions.days"] {
		n, err := strconv.Atoi(d)
		if err != nil {
			r.bad("conditions.days", "day_invalid", err, "must be days of the week")
		}
		sp.Conditions.Days = append(sp.Conditions.Days, time.Weekday(n))
	}
	sp.Limits = campaign.Limits{PerMember: r.int("limits.per_member"), PerPeriod: r.int("limits.per_period"),
		Period: r.text("limits.period"), MaxRedemptions: r.int64("limits.max_redemptions"), Budget: r.money("limits.budget")}
	return sp, r.err
}

// formInput is one input as the form template draws it. Class names a
// benefit row's field (b-percent), for the style sheet to hide, while
// empty, the fields the row's kind does not use (a blank placeholder makes
// "empty" visible to CSS as :placeholder-shown).
type formInput struct {
	Name, ID, Label, Value, Err, Mode, Class string
}

// In is an input to draw: mode is the keyboard a phone shows (numeric,
// decimal), "time" or "lines" (a text area), or "" for text.
func (f *campaignForm) In(name, label, mode string) formInput {
	in := formInput{Name: name, ID: f.ID(name), Label: label, Value: f.Get(name), Err: f.Err(name), Mode: mode}
	if m := benefitPath.FindStringSubmatch(name); m != nil {
		in.Class = "b-" + strings.ReplaceAll(strings.TrimPrefix(m[2], "."), ".", "-")
	}
	return in
}
