package web_test

import (
	"encoding/json"
	"html"
	"maps"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/money"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/web"
)

// everyFieldJSON is a campaign using every part of the spec the form
// covers, as the API takes it (amounts in pence). everyFieldForm is the same
// campaign typed in the form (amounts in pounds), with a blank benefit row
// between the second and third benefits.
const everyFieldJSON = `{"name": "Weekend treats API", "description": "Treats for the weekend", "timezone": "Europe/London",
	"start": "2030-01-01T09:00", "end": "2030-02-01", "stores": ["S001", "S002"],
	"audience": {"kind": "filter", "filter": {"tags": ["coffee", "cake"], "home_stores": ["S001"], "statuses": ["active"],
		"channels": ["sms", "web"], "attributes": {"tier": "gold"}, "enrolled_after": "2025-01-01", "enrolled_before": "2029-12-31",
		"points_at_least": 0, "points_below": 5000, "last_purchase_after": "2029-06-01", "last_purchase_before": "2029-12-01", "spend_days": 90, "spend_at_least": 2000,
		"bought_skus": ["LATTE"], "bought_categories": ["bakery"], "bought_days": 30,
		"rfm_segment": ["at_risk", "cant_lose"], "affinity": {"category": "bakery", "at_least": 0.2}, "overdue": true}},
	"benefits": [
		{"kind": "percent_off", "percent": 20, "scope": {"skus": ["LATTE", "MOCHA"]}},
		{"kind": "amount_off", "amount": 150, "description": "1.50 off cake", "scope": {"categories": ["cake"]}},
		{"kind": "free_content", "pool": "songs"},
		{"kind": "buy_x_get_y", "buy": 2, "get": 1, "percent": 50},
		{"kind": "spend_threshold", "threshold": 2500, "amount": 500},
		{"kind": "points_bonus", "points": 50},
		{"kind": "fixed_price", "price": 199, "scope": {"skus": ["BUN"]}},
		{"kind": "points_multiplier", "multiplier": 2}
	],
	"conditions": {"days": ["sat", "sun"], "from": "10:00", "to": "16:00", "min_basket": 500, "require_skus": ["LATTE"], "require_categories": ["coffee"]},
	"limits": {"per_member": 3, "per_period": 1, "period": "week", "max_redemptions": 1000, "budget": 50000},
	"priority": 7, "exclusive": true, "control_group": 10, "personal": true,
	"message": "{{.FirstName}}, weekend treats: {{.CardURL}}"}`

// everyFieldNBOJSON and everyFieldNBOForm are a campaign of kind
// next_best_offer, which sets the fields of the spec everyFieldJSON cannot
// (a next_best_offer campaign has no benefits, conditions or limits).
const everyFieldNBOJSON = `{"name": "Picks API", "description": "Your picks", "timezone": "Europe/London",
	"start": "2030-01-01T09:00", "end": "2030-02-01", "audience": {"kind": "filter", "filter": {"tags": ["coffee"]}},
	"kind": "next_best_offer", "next_best_offer": {"k": 3, "holdout": 20, "announce": true}}`

func everyFieldNBOForm() url.Values {
	return url.Values{"name": {"Picks form"}, "description": {"Your picks"}, "timezone": {"Europe/London"},
		"start": {"2030-01-01T09:00"}, "end": {"2030-02-01"}, "audience.kind": {"filter"}, "audience.filter.tags": {"coffee"},
		"kind": {"next_best_offer"}, "next_best_offer.k": {"3"}, "next_best_offer.holdout": {"20"}, "next_best_offer.announce": {"on"},
		"rows": {"1"}, "benefits[0].kind": {""}}
}

func everyFieldForm() url.Values {
	return url.Values{"name": {"Weekend treats form"}, "description": {"Treats for the weekend"}, "timezone": {"Europe/London"},
		"start": {"2030-01-01T09:00"}, "end": {"2030-02-01"}, "stores": {"S001, S002"},
		"audience.kind": {"filter"}, "audience.filter.tags": {"coffee, cake"}, "audience.filter.home_stores": {"S001"},
		"audience.filter.statuses": {"active"}, "audience.filter.channels": {"sms,web"}, "audience.filter.attributes": {"tier = gold\n"},
		"audience.filter.enrolled_after": {"2025-01-01"}, "audience.filter.enrolled_before": {"2029-12-31"},
		"audience.filter.points_at_least": {"0"}, "audience.filter.points_below": {"5000"},
		"audience.filter.last_purchase_after": {"2029-06-01"}, "audience.filter.last_purchase_before": {"2029-12-01"}, "audience.filter.spend_days": {"90"},
		"audience.filter.spend_at_least": {"20.00"}, "audience.filter.bought_skus": {"LATTE"},
		"audience.filter.bought_categories": {"bakery"}, "audience.filter.bought_days": {"30"},
		"audience.filter.rfm_segment": {"at_risk, cant_lose"}, "audience.filter.affinity.category": {"bakery"},
		"audience.filter.affinity.at_least": {"0.2"}, "audience.filter.overdue": {"yes"},
		"rows":             {"10"},
		"benefits[0].kind": {"percent_off"}, "benefits[0].percent": {"20"}, "benefits[0].scope.skus": {"LATTE, MOCHA"},
		"benefits[1].kind": {"amount_off"}, "benefits[1].amount": {"1.50"}, "benefits[1].description": {"1.50 off cake"},
		"benefits[1].scope.categories": {"cake"},
		"benefits[2].kind":             {""}, // left blank
		"benefits[3].kind":             {"free_content"}, "benefits[3].pool": {"songs"},
		"benefits[4].kind": {"buy_x_get_y"}, "benefits[4].buy": {"2"}, "benefits[4].get": {"1"}, "benefits[4].percent": {"50"},
		"benefits[5].kind": {"spend_threshold"}, "benefits[5].threshold": {"25"}, "benefits[5].amount": {"5.00"},
		"benefits[6].kind": {"points_bonus"}, "benefits[6].points": {"50"},
		"benefits[7].kind": {"fixed_price"}, "benefits[7].price": {"1.99"}, "benefits[7].scope.skus": {"BUN"},
		"benefits[8].kind": {"points_multiplier"}, "benefits[8].multiplier": {"2"},
		"conditions.days": {"6", "0"}, "conditions.from": {"10:00"}, "conditions.to": {"16:00"},
		"conditions.min_basket": {"5"}, "conditions.require_skus": {"LATTE"}, "conditions.require_categories": {"coffee"},
		"limits.per_member": {"3"}, "limits.per_period": {"1"}, "limits.period": {"week"},
		"limits.max_redemptions": {"1000"}, "limits.budget": {"500.00"},
		"priority": {"7"}, "exclusive": {"on"}, "control_group": {"10"}, "personal": {"on"},
		"message": {"{{.FirstName}}, weekend treats: {{.CardURL}}"},
	}
}

// TestCampaignForm_CreatesTheSpecTheAPICreates: the form covers the spec:
// a campaign typed in it with several benefits, free content, days and
// hours, stores, every limit, a control group and a priority is the
// campaign the same JSON makes through the API.
func TestCampaignForm_CreatesTheSpecTheAPICreates(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), func(o *web.Options) { o.Currency = money.MustCurrency("GBP") })
	manager := e.signIn(auth.RoleManager)
	for _, tt := range []struct {
		name     string
		json     string
		form     url.Values
		benefits int
	}{
		{"every benefit, condition and limit", everyFieldJSON, everyFieldForm(), 8},
		{"a next_best_offer campaign", everyFieldNBOJSON, everyFieldNBOForm(), 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			viaAPI := e.createByAPI(tt.json)
			res, page := e.form(manager, "/manage/campaigns", tt.form)
			id := strings.TrimPrefix(res.Header.Get("Location"), "/manage/campaigns/")
			if res.StatusCode != http.StatusSeeOther || id == "" {
				t.Fatalf("form: %d\n%s", res.StatusCode, page)
			}
			viaForm, err := e.campaigns.Get(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			api, _ := e.campaigns.Get(t.Context(), viaAPI.ID)
			got, want := viaForm.Spec, api.Spec
			got.Name = want.Name
			sameSpec(t, "the form made", got, "the API made", want)
			if len(got.Benefits) != tt.benefits {
				t.Errorf("%d benefits, want %d (a blank row is not one)", len(got.Benefits), tt.benefits)
			}
			// The edit form shows the kind's inputs.
			res, page = e.get(manager, "/manage/campaigns/"+id+"/edit")
			if res.StatusCode != http.StatusOK {
				t.Fatalf("edit form: %d", res.StatusCode)
			}
			for _, want := range []string{`name="kind"`, `name="next_best_offer.k"`, `name="next_best_offer.holdout"`, `name="next_best_offer.announce"`} {
				if !strings.Contains(page, want) {
					t.Errorf("edit form lacks %s", want)
				}
			}
		})
	}
}

// TestCampaignForm_ShowsTheAPIsMessageBesideTheField: a campaign the
// service refuses is refused by the form with the API's message, beside
// the input that holds the field the API names (a benefit's field beside
// its row, even with a blank row before it).
func TestCampaignForm_ShowsTheAPIsMessageBesideTheField(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t), func(o *web.Options) { o.Currency = money.MustCurrency("GBP") })
	manager := e.signIn(auth.RoleManager)
	for _, tt := range []struct {
		name   string
		json   map[string]any // changes to the API's campaign
		form   url.Values     // the same changes typed in the form
		field  string         // the API's error field
		formID string         // the element the form shows it in
	}{
		{"a name the rules refuse", map[string]any{"name": "!"}, url.Values{"name": {"!"}}, "name", "name-error"},
		{"an end before the start", map[string]any{"end": "2029-01-01"}, url.Values{"end": {"2029-01-01"}}, "end", "end-error"},
		{"a percent over 100 in the second benefit",
			map[string]any{"benefits": []any{map[string]any{"kind": "points_bonus", "points": 5}, map[string]any{"kind": "percent_off", "percent": 150}}},
			url.Values{"rows": {"3"}, "benefits[0].kind": {"points_bonus"}, "benefits[0].points": {"5"}, "benefits[1].kind": {""},
				"benefits[2].kind": {"percent_off"}, "benefits[2].percent": {"150"}},
			"benefits[1].percent", "benefits-2-percent-error"},
		{"free content without a pool", map[string]any{"benefits": []any{map[string]any{"kind": "free_content"}}},
			url.Values{"benefits[0].kind": {"free_content"}, "benefits[0].percent": {""}}, "benefits[0].pool", "benefits-0-pool-error"},
		{"no benefit at all", map[string]any{"benefits": []any{}}, url.Values{"benefits[0].kind": {""}}, "benefits", "benefits-error"},
		{"an hour that is not one", map[string]any{"conditions": map[string]any{"from": "25:00"}},
			url.Values{"conditions.from": {"25:00"}}, "conditions.from", "conditions-from-error"},
		{"a day that is not one", map[string]any{"conditions": map[string]any{"days": []int{7}}},
			url.Values{"conditions.days": {"7"}}, "conditions.days[0]", "conditions-days-error"},
		{"a period limit without its period", map[string]any{"limits": map[string]any{"per_period": 2}},
			url.Values{"limits.per_period": {"2"}}, "limits.period", "limits-period-error"},
		{"a per-member limit out of range", map[string]any{"limits": map[string]any{"per_member": 20_000_000}},
			url.Values{"limits.per_member": {"20000000"}}, "limits.per_member", "limits-per_member-error"},
		{"too big a control group", map[string]any{"control_group": 60}, url.Values{"control_group": {"60"}}, "control_group", "control_group-error"},
		{"a spend filter without its window", map[string]any{"audience": map[string]any{"kind": "filter", "filter": map[string]any{"spend_at_least": 100}}},
			url.Values{"audience.kind": {"filter"}, "audience.filter.spend_at_least": {"1.00"}}, "audience.filter.spend_days",
			"audience-filter-spend_days-error"},
		{"an announcement that is not a template", map[string]any{"message": "Hi {{.Nope"}, url.Values{"message": {"Hi {{.Nope"}},
			"message", "message-error"},
		{"a next best offer of 11 offers a member", map[string]any{"kind": "next_best_offer", "next_best_offer": map[string]any{"k": 11, "holdout": 0}},
			url.Values{"kind": {"next_best_offer"}, "next_best_offer.k": {"11"}}, "next_best_offer.k", "next_best_offer-k-error"},
		{"a next best offer with benefits of its own", map[string]any{"kind": "next_best_offer", "next_best_offer": map[string]any{"k": 2, "holdout": 10}},
			url.Values{"kind": {"next_best_offer"}, "next_best_offer.k": {"2"}, "next_best_offer.holdout": {"10"}}, "benefits", "benefits-error"},
		{"next best offer settings on a standard campaign", map[string]any{"next_best_offer": map[string]any{"k": 2, "holdout": 10}},
			url.Values{"next_best_offer.k": {"2"}}, "next_best_offer", "next_best_offer-error"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			spec := map[string]any{"name": "Valid", "start": "2030-01-01", "end": "2030-02-01", "audience": map[string]any{"kind": "all"},
				"benefits": []any{map[string]any{"kind": "percent_off", "percent": 10}}}
			maps.Copy(spec, tt.json)
			st, body, _ := e.do("POST", "/v1/campaigns", auth.RoleManager, spec)
			var apiErr struct {
				Error struct{ Code, Message, Field string }
			}
			jsonUnmarshal(t, body, &apiErr)
			if st != http.StatusUnprocessableEntity || apiErr.Error.Field != tt.field {
				t.Fatalf("API: %d %s, want 422 on %s", st, body, tt.field)
			}
			form := url.Values{"name": {"Valid"}, "start": {"2030-01-01"}, "end": {"2030-02-01"}, "audience.kind": {"all"},
				"benefits[0].kind": {"percent_off"}, "benefits[0].percent": {"10"}}
			maps.Copy(form, tt.form)
			res, page := e.form(manager, "/manage/campaigns", form)
			want := `id="` + tt.formID + `">` + html.EscapeString(apiErr.Error.Message) + `</p>`
			if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(page, want) {
				t.Errorf("form: %d, lacks %s\n%s", res.StatusCode, want, page)
			}
		})
	}
}

// TestCampaignsList_OffersANewCampaignWhetherOrNotThereAreCampaigns.
func TestCampaignsList_OffersANewCampaignWhetherOrNotThereAreCampaigns(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	manager := e.signIn(auth.RoleManager)
	for _, tt := range []struct {
		name   string
		create bool
	}{{"no campaigns yet", false}, {"some campaigns", true}} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.create {
				e.createByAPI(`{"name": "Spring", "start": "2030-01-01", "end": "2030-02-01",
					"audience": {"kind": "all"}, "benefits": [{"kind": "percent_off", "percent": 10}]}`)
			}
			res, page := e.get(manager, "/manage/campaigns")
			if res.StatusCode != http.StatusOK || !strings.Contains(page, `href="/manage/campaigns/new" id="new-campaign"`) {
				t.Errorf("%d, no link to a new campaign:\n%s", res.StatusCode, page)
			}
		})
	}
}

// TestCampaignForm_AddABenefitShowsAnotherRowAndSavesNothing: the form's
// "Add a benefit" button shows the form again, as typed, with one more
// benefit row, and creates no campaign.
func TestCampaignForm_AddABenefitShowsAnotherRowAndSavesNothing(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	form := url.Values{"name": {"Spring"}, "start": {"2030-01-01"}, "end": {"2030-02-01"}, "audience.kind": {"all"}, "rows": {"2"},
		"benefits[0].kind": {"percent_off"}, "benefits[0].percent": {"10"}, "benefits[1].kind": {"points_bonus"},
		"benefits[1].points": {"25"}, "more": {"1"}}
	res, page := e.form(e.signIn(auth.RoleManager), "/manage/campaigns", form)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("%d\n%s", res.StatusCode, page)
	}
	for _, want := range []string{`id="benefit-2"`, `name="rows" value="3"`, `name="benefits[1].points" value="25"`, `name="name" value="Spring"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the form again lacks %s", want)
		}
	}
	if strings.Contains(page, `id="benefit-3"`) {
		t.Errorf("more than one row added")
	}
	if cs, err := e.campaigns.List(t.Context(), ""); err != nil || len(cs) != 0 {
		t.Errorf("%d campaigns saved (%v), want none", len(cs), err)
	}
}

// createByAPI creates a campaign through the API, as a manager.
func (e *env) createByAPI(spec string) *campaign.Campaign {
	e.t.Helper()
	st, body, _ := e.do("POST", "/v1/campaigns", auth.RoleManager, spec)
	if st != http.StatusCreated {
		e.t.Fatalf("create by API: %d %s", st, body)
	}
	var c campaign.Campaign
	jsonUnmarshal(e.t, body, &c)
	return &c
}

// sameSpec fails the test, showing both as JSON, unless got and want are
// the same spec.
func sameSpec(t *testing.T, gotIs string, got campaign.Spec, wantIs string, want campaign.Spec) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		g, _ := json.MarshalIndent(got, "", " ")
		w, _ := json.MarshalIndent(want, "", " ")
		t.Errorf("%s\n%s\n%s\n%s", gotIs, g, wantIs, w)
	}
}

// TestCampaignForm_EveryFieldCampaignSetsEveryFieldOfTheSpec keeps the form
// tests honest as the spec grows: the campaign they type sets every field
// of the spec (but a benefit's id, which the service assigns), so a field
// added to campaign.Spec and not to the form fails them.
//
// A next_best_offer campaign has no benefits and a standard one no
// next_best_offer settings, so a field counts as set when everyFieldJSON or
// everyFieldNBOJSON sets it.
func TestCampaignForm_EveryFieldCampaignSetsEveryFieldOfTheSpec(t *testing.T) {
	var sp, nbo campaign.Spec
	if err := json.Unmarshal([]byte(everyFieldJSON), &sp); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(everyFieldNBOJSON), &nbo); err != nil {
		t.Fatal(err)
	}
	sp.Kind, sp.NextBestOffer = nbo.Kind, nbo.NextBestOffer
	var unset func(path string, v reflect.Value)
	unset = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.Struct:
			for i := range v.NumField() {
				f := v.Type().Field(i)
				if f.Name == "ID" && v.Type() == reflect.TypeFor[engine.Benefit]() {
					continue
				}
				unset(path+"."+f.Name, v.Field(i))
			}
		case reflect.Pointer:
			if v.IsNil() {
				t.Errorf("%s is not set", path)
				return
			}
			unset(path, v.Elem())
		case reflect.Slice:
			if v.Len() == 0 {
				t.Errorf("%s is not set", path)
			}
			if v.Type().Elem().Kind() == reflect.Struct {
				// Each field set by one benefit or another.
				for i := range v.Type().Elem().NumField() {
					f := v.Type().Elem().Field(i)
					set := f.Name == "ID"
					for j := range v.Len() {
						set = set || !v.Index(j).Field(i).IsZero()
					}
					if !set {
						t.Errorf("%s[].%s is set by none", path, f.Name)
					}
				}
			}
		default:
			// PointsAtLeast 0 is set yet zero; an affinity is by category
			// or by brand, never both.
			if v.IsZero() && !strings.HasSuffix(path, "PointsAtLeast") && !strings.HasSuffix(path, "Affinity.Brand") {
				t.Errorf("%s is not set", path)
			}
		}
	}
	unset("Spec", reflect.ValueOf(sp))
}
