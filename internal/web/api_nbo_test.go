package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/nbo"
	"github.com/perk-platform/perk/internal/report"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
	"github.com/perk-platform/perk/internal/web"
)

// withNBO switches the next-best-offer API on, wired as perk serve wires it.
func withNBO(db *store.DB) func(*web.Options) {
	return func(o *web.Options) {
		o.NBO = nbo.NewService(db, o.Campaigns, nbo.Options{Wallet: o.Checkout, Seed: 1})
	}
}

func nboOffer(name, category string, amount, cost int64) map[string]any {
	now := time.Now().UTC()
	return map[string]any{"name": name, "description": name, "cost": cost,
		"benefit": map[string]any{"kind": "amount_off", "amount": amount, "scope": map[string]any{"categories": []string{category}}},
		"start":   now.Add(-time.Hour).Format(time.RFC3339), "end": now.Add(30 * 24 * time.Hour).Format(time.RFC3339)}
}

// TestNBO_API_PoolRankingRulesAndCampaign drives the next-best-offer API
// through the real server: the pool is written idempotently and checked,
// a member who buys bakery gets the bakery offer first with the numbers
// behind it, rules are mined from the baskets, and a next_best_offer
// campaign is launched and reported on.
func TestNBO_API_PoolRankingRulesAndCampaign(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, withNBO(db))
		pool := map[string]any{"offers": []any{nboOffer("Bakery treat", "bakery", 50, 50), nboOffer("Dairy deal", "dairy", 50, 50),
			nboOffer("Drinks deal", "drinks", 50, 50)}}
		st, body, _ := e.do("PUT", "/v1/nbo/pool", auth.RoleManager, pool)
		if a := decode[nbo.Applied](t, body); st != 200 || a.Created != 3 {
			t.Fatalf("put pool: %d %s", st, body)
		}
		st, body, _ = e.do("PUT", "/v1/nbo/pool", auth.RoleManager, pool)
		if a := decode[nbo.Applied](t, body); st != 200 || a.Unchanged != 3 || a.Created+a.Updated+a.Deleted != 0 {
			t.Fatalf("the same pool again: %d %s, want nothing changed", st, body)
		}
		for _, tc := range []struct {
			name  string
			body  any
			field string
		}{
			{"a negative cost", map[string]any{"offers": []any{nboOffer("Bad", "bakery", 50, -1)}}, "offers[0].cost"},
			{"a benefit without its amount", map[string]any{"offers": []any{nboOffer("Bad", "bakery", 0, 1)}}, "offers[0].benefit.amount"},
			{"a name twice", map[string]any{"offers": []any{nboOffer("Twice", "bakery", 5, 1), nboOffer("Twice", "dairy", 5, 1)}}, "offers[1].name"},
		} {
			st, body, _ := e.do("PUT", "/v1/nbo/pool", auth.RoleManager, tc.body)
			if p := decode[struct {
				Error struct{ Code, Message, Field string }
			}](t, body); st != http.StatusUnprocessableEntity || p.Error.Field != tc.field {
				t.Errorf("%s: %d %s, want 422 on %s", tc.name, st, body, tc.field)
			}
		}
		if st, _, _ := e.do("PUT", "/v1/nbo/pool", auth.RoleReporting, pool); st != http.StatusForbidden {
			t.Errorf("reporting key wrote the pool: %d", st)
		}
		st, body, _ = e.do("GET", "/v1/nbo/pool", auth.RoleReporting, nil)
		if p := decode[struct{ Offers []nbo.Offer }](t, body); st != 200 || len(p.Offers) != 3 || p.Offers[0].Name != "Bakery treat" {
			t.Fatalf("get pool: %d %s", st, body)
		}

		m := e.enrol("07700900401")
		other := e.enrol("07700900402")
		for i := range 6 {
			for _, b := range []struct {
				code string
				cats []string
			}{{m.Code, []string{"bakery", "drinks"}}, {other.Code, []string{"dairy"}}} {
				items := []map[string]any{}
				for j, c := range b.cats {
					items = append(items, map[string]any{"line": j + 1, "sku": "SKU-" + c, "categories": []string{c}, "quantity": 1, "unit_price": 300})
				}
				basket := map[string]any{"store": "S001", "terminal": "T1", "member": b.code, "currency": "GBP",
					"transaction_id": fmt.Sprintf("N%s-%d", b.code, i), "items": items}
				if st, body, _ := e.do("POST", "/v1/checkout/commit", auth.RolePOS, basket); st != 200 {
					t.Fatalf("commit: %d %s", st, body)
				}
			}
		}

		st, body, _ = e.do("GET", "/v1/members/"+m.Code+"/next-best-offers?k=2", auth.RoleReporting, nil)
		got := decode[struct {
			MemberID string `json:"member_id"`
			Offers   []nbo.NextOffer
		}](t, body)
		if st != 200 || got.MemberID != m.ID || len(got.Offers) != 2 {
			t.Fatalf("next best offers: %d %s", st, body)
		}
		top := got.Offers[0]
		if top.Name != "Bakery treat" || top.Source != nbo.SourcePool || top.Rank != 1 || top.Reasons.Group != "bakery" || top.Reasons.Affinity <= 0.4 {
			t.Errorf("top offer %+v, want the bakery offer from the pool for a member whose spend is half bakery", top)
		}
		if want := int64(top.Probability*float64(top.Reasons.Margin-top.Reasons.Cost) + 0.5); top.ExpectedValue != want && top.ExpectedValue != want-1 {
			t.Errorf("expected value %d, want probability x (margin - cost) = %d", top.ExpectedValue, want)
		}
		if got.Offers[1].Name != "Drinks deal" {
			t.Errorf("second offer %s, want Drinks deal (the member's other category)", got.Offers[1].Name)
		}
		for _, tc := range []struct {
			path string
			want int
		}{
			{"/v1/members/" + m.Code + "/next-best-offers?k=0", http.StatusUnprocessableEntity},
			{"/v1/members/" + m.Code + "/next-best-offers?k=x", http.StatusUnprocessableEntity},
			{"/v1/members/99999997/next-best-offers", http.StatusUnprocessableEntity}, // a mistyped code fails its check digit
			{"/v1/nbo/rules?level=brand", http.StatusUnprocessableEntity},
			{"/v1/nbo/campaigns/Nothing/report", http.StatusNotFound},
		} {
			if st, body, _ := e.do("GET", tc.path, auth.RoleReporting, nil); st != tc.want {
				t.Errorf("GET %s: %d %s, want %d", tc.path, st, body, tc.want)
			}
		}

		st, body, _ = e.do("POST", "/v1/nbo/rules/refresh", auth.RoleManager, map[string]any{"min_support": 0.1, "min_confidence": 0.5, "min_baskets": 2})
		mined := decode[nbo.Mined](t, body)
		if st != 200 || mined.Baskets != 12 {
			t.Fatalf("refresh rules: %d %s", st, body)
		}
		st, body, _ = e.do("GET", "/v1/nbo/rules?level=category", auth.RoleReporting, nil)
		rules := decode[struct{ Rules []nbo.Rule }](t, body).Rules
		found := false
		for _, r := range rules {
			if r.Antecedent == "bakery" && r.Consequent == "drinks" {
				found = r.Confidence == 1 && r.Baskets == 6 && r.Lift == 2
			}
		}
		if st != 200 || !found {
			t.Errorf("rules: %d %s, want bakery -> drinks in 6 of 12 baskets, confidence 1, lift 2", st, body)
		}

		spec := map[string]any{"name": "Picks", "kind": "next_best_offer", "audience": map[string]any{"kind": "all"}, "k": 1, "holdout": 50}
		st, body, _ = e.do("POST", "/v1/nbo/campaigns", auth.RoleManager, spec)
		if l := decode[nbo.Launched](t, body); st != http.StatusCreated || l.Members != 2 || l.Ranked+l.Random != 2 {
			t.Fatalf("launch: %d %s", st, body)
		}
		if st, body, _ := e.do("POST", "/v1/nbo/campaigns", auth.RoleManager, spec); st != http.StatusConflict {
			t.Errorf("launching twice: %d %s, want 409", st, body)
		}
		st, body, _ = e.do("GET", "/v1/nbo/campaigns/Picks/report", auth.RoleReporting, nil)
		if r := decode[report.NextBestOfferUplift](t, body); st != 200 || r.Ranked.Members+r.Random.Members != 2 || r.Ranked.OffersGiven != r.Ranked.Members {
			t.Errorf("report: %d %s", st, body)
		}
	})
}

// TestNBO_CampaignKind_APILaunchReportAndPage: a campaign of kind
// next_best_offer goes through the campaigns' own API: created with its
// settings (a bad k is a 422 naming next_best_offer.k), launched with
// POST /v1/campaigns/{id}/launch, which gives the pool's offers; its report
// (validated against docs/openapi.yaml like every response) carries the
// ranked and random arms, and the campaign page shows them.
func TestNBO_CampaignKind_APILaunchReportAndPage(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db, withNBO(db))
		pool := map[string]any{"offers": []any{nboOffer("Bakery treat", "bakery", 50, 50), nboOffer("Dairy deal", "dairy", 50, 50)}}
		if st, body, _ := e.do("PUT", "/v1/nbo/pool", auth.RoleManager, pool); st != 200 {
			t.Fatalf("put pool: %d %s", st, body)
		}
		for i := range 4 {
			e.enrol(fmt.Sprintf("0770090050%d", i))
		}
		now := time.Now().UTC()
		spec := map[string]any{"name": "Picks", "kind": "next_best_offer", "start": now.Format(time.RFC3339),
			"end": now.Add(7 * 24 * time.Hour).Format(time.RFC3339), "audience": map[string]any{"kind": "all"},
			"next_best_offer": map[string]any{"k": 11, "holdout": 50}}
		st, body, _ := e.do("POST", "/v1/campaigns", auth.RoleManager, spec)
		if p := decode[struct {
			Error struct{ Field string }
		}](t, body); st != http.StatusUnprocessableEntity || p.Error.Field != "next_best_offer.k" {
			t.Fatalf("k 11: %d %s, want 422 on next_best_offer.k", st, body)
		}
		spec["next_best_offer"] = map[string]any{"k": 1, "holdout": 50}
		js, _ := json.Marshal(spec)
		c := e.createByAPI(string(js))
		if st, body, _ := e.do("POST", "/v1/campaigns/"+c.ID+"/simulate?days=7", auth.RoleManager, nil); st != http.StatusUnprocessableEntity {
			t.Errorf("simulate: %d %s, want 422 (no benefits of its own)", st, body)
		}
		st, body, _ = e.do("POST", "/v1/campaigns/"+c.ID+"/launch", auth.RoleManager, nil)
		if st != http.StatusOK && st != http.StatusCreated {
			t.Fatalf("launch: %d %s", st, body)
		}
		st, body, _ = e.do("GET", "/v1/campaigns/"+c.ID+"/report", auth.RoleReporting, nil)
		r := decode[report.CampaignReport](t, body)
		if st != 200 || r.NextBestOffer == nil || r.NextBestOffer.Ranked.Members+r.NextBestOffer.Random.Members != 4 ||
			r.TreatedSize != r.NextBestOffer.Ranked.Members || r.ControlSize != r.NextBestOffer.Random.Members {
			t.Fatalf("report: %d %s", st, body)
		}
		res, page := e.get(e.signIn(auth.RoleManager), "/manage/campaigns/"+c.ID)
		if res.StatusCode != 200 || !strings.Contains(page, `id="nbo-arms"`) {
			t.Errorf("campaign page: %d, no ranked/random table", res.StatusCode)
		}
	})
}
