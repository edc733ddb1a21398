package web_test

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/catalogue"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

func TestCatalogueAPI_RolesMayReadOrWriteAsTheirPermissionsSay(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	store := `{"stores":[{"id":"S010","name":"Ten","timezone":"Europe/London"}]}`
	for _, tt := range []struct {
		role          auth.Role
		method, path  string
		body          any
		status        int
		wantForbidden bool
	}{
		{auth.RoleReporting, "GET", "/v1/stores", nil, 200, false},
		{auth.RoleReporting, "PUT", "/v1/stores", store, 403, true},
		{auth.RolePOS, "GET", "/v1/products", nil, 403, true},
		{auth.RoleManager, "PUT", "/v1/stores", store, 200, false},
		{auth.RoleAdmin, "DELETE", "/v1/stores/S010", nil, 204, false},
		{auth.RoleAdmin, "DELETE", "/v1/stores/S010", nil, 404, false},
		{auth.RoleReporting, "GET", "/v1/products/unknown", nil, 200, false},
	} {
		t.Run(fmt.Sprint(tt.role, " ", tt.method, " ", tt.path), func(t *testing.T) {
			st, body, _ := e.do(tt.method, tt.path, tt.role, tt.body)
			if st != tt.status {
				t.Fatalf("%d %s, want %d", st, body, tt.status)
			}
			if tt.wantForbidden {
				if code, _ := errorOf(t, body); code != "forbidden" {
					t.Fatalf("code %s", code)
				}
			}
		})
	}
}

func TestCatalogueAPI_Stores(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		st, body, _ := e.do("PUT", "/v1/stores/S010", auth.RoleManager,
			`{"name":"Ten","timezone":"Europe/Paris","region":"Île-de-France","address":"1 rue de Rivoli","closed":true}`)
		if got := decode[catalogue.Store](t, body); st != 200 || got.ID != "S010" || got.Region != "Île-de-France" || !got.Closed {
			t.Fatalf("put: %d %s", st, body)
		}
		for _, tt := range []struct {
			name, path, body string
			field            string
		}{
			{"id differs from the path", "/v1/stores/S010", `{"id":"S011","name":"x","timezone":"UTC"}`, "id"},
			{"bad zone", "/v1/stores/S010", `{"name":"x","timezone":"Nowhere/Else"}`, "timezone"},
			{"bad zone in a list", "/v1/stores", `{"stores":[{"id":"A","name":"x","timezone":"UTC"},{"id":"B","name":"x","timezone":"x"}]}`, "stores[1].timezone"},
		} {
			t.Run(tt.name, func(t *testing.T) {
				st, body, _ := e.do("PUT", tt.path, auth.RoleManager, tt.body)
				if _, field := errorOf(t, body); st != 422 || field != tt.field {
					t.Fatalf("%d %s, want 422 on %s", st, body, tt.field)
				}
			})
		}
		st, body, _ = e.do("GET", "/v1/stores", auth.RoleReporting, nil)
		list := decode[struct{ Stores []catalogue.Store }](t, body)
		var ids []string
		for _, s := range list.Stores {
			ids = append(ids, s.ID)
		}
		if st != 200 || !slices.Equal(ids, []string{"S001", "S002", "S009", "S010", "S1"}) {
			t.Fatalf("list: %d %v", st, ids)
		}
	})
}

func TestCatalogueAPI_ProductsInBulkWithPerItemErrorsAndPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		var products []map[string]any
		for i := range 25 {
			products = append(products, map[string]any{"sku": fmt.Sprintf("P%03d", i), "name": fmt.Sprint("Product ", i),
				"categories": []string{[]string{"drinks/coffee", "drinks/tea", "bakery"}[i%3]}, "barcodes": []string{fmt.Sprint(5000000 + i)}})
		}
		products = append(products, map[string]any{"sku": "BAD", "name": "Bad", "unit": "bushel"}, map[string]any{"sku": "P001", "name": "again"})
		st, body, _ := e.do("PUT", "/v1/products", auth.RoleManager, map[string]any{"products": products})
		res := decode[struct {
			Written int
			Errors  []catalogue.ItemError
		}](t, body)
		if st != 200 || res.Written != 25 || len(res.Errors) != 2 || res.Errors[0].Index != 25 || res.Errors[0].Field != "unit" ||
			res.Errors[1].Code != "sku_duplicate" {
			t.Fatalf("bulk put: %d %s", st, body)
		}
		var got []string
		cursor := ""
		for range 10 {
			st, body, _ := e.do("GET", "/v1/products?category=drinks&limit=7&cursor="+cursor, auth.RoleReporting, nil)
			page := decode[catalogue.ProductPage](t, body)
			if st != 200 {
				t.Fatalf("list: %d %s", st, body)
			}
			for _, p := range page.Products {
				got = append(got, p.SKU)
			}
			if cursor = page.Next; cursor == "" {
				break
			}
		}
		var want []string // coffee and tea are within drinks; bakery is not
		for i := range 25 {
			if i%3 != 2 {
				want = append(want, fmt.Sprintf("P%03d", i))
			}
		}
		if !slices.Equal(got, want) {
			t.Fatalf("drinks: %v, want %v", got, want)
		}
		if st, body, _ := e.do("GET", "/v1/products/P004", auth.RoleReporting, nil); st != 200 ||
			!slices.Equal(decode[catalogue.Product](t, body).Barcodes, []string{"5000004"}) {
			t.Fatalf("get: %d %s", st, body)
		}
		if st, _, _ := e.do("DELETE", "/v1/products/P004", auth.RoleManager, nil); st != 204 {
			t.Fatalf("delete: %d", st)
		}
		if st, body, _ := e.do("GET", "/v1/products/P004", auth.RoleReporting, nil); st != 404 {
			t.Fatalf("get deleted: %d %s", st, body)
		}
	})
}

func TestCatalogueAPI_TillsSendSKUsBarcodesAndWeights(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := newEnv(t, db)
		if st, body, _ := e.do("PUT", "/v1/products", auth.RoleManager, `{"products":[
			{"sku":"5000001","name":"Flat white","categories":["drinks/coffee"],"barcodes":["5012345000015"]},
			{"sku":"CHEESE","name":"Cheddar","categories":["dairy/cheese"],"unit":"kg"}]}`); st != 200 {
			t.Fatalf("products: %d %s", st, body)
		}
		if st, body, _ := e.do("PUT", "/v1/stores/S003", auth.RoleManager, `{"name":"Shut","timezone":"UTC","closed":true}`); st != 200 {
			t.Fatalf("store: %d %s", st, body)
		}
		spec := map[string]any{"name": "Drinks and dairy", "start": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339), "end": "2099-01-01",
			"audience": map[string]any{"kind": "open"},
			"benefits": []map[string]any{{"kind": "percent_off", "percent": 10, "scope": map[string]any{"categories": []string{"drinks", "dairy"}}}}}
		st, body, _ := e.do("POST", "/v1/campaigns", auth.RoleManager, spec)
		if st != http.StatusCreated {
			t.Fatalf("campaign: %d %s", st, body)
		}
		id := decode[struct{ ID string }](t, body).ID
		if st, body, _ := e.do("POST", "/v1/campaigns/"+id+"/launch", auth.RoleManager, nil); st != 200 {
			t.Fatalf("launch: %d %s", st, body)
		}
		items := `"items":[{"line":1,"barcode":"5012345000015","quantity":2,"unit_price":320},
			{"line":2,"sku":"CHEESE","quantity":"0.750","unit":"kg","unit_price":1899},{"line":3,"sku":"NEWTHING","quantity":1,"unit_price":100}]`
		st, body, _ = e.do("POST", "/v1/checkout/evaluate?explain=true", auth.RolePOS, `{"currency":"GBP",`+items+`}`)
		r := decode[checkout.Response](t, body)
		// 6.40 + 14.24 (0.750 x 18.99, rounded half up) + 1.00; 10% off the first two: 64 + 142.
		if st != 200 || r.Subtotal != 2164 || r.TotalDiscount != 206 || len(r.Items) != 3 || r.Items[0].SKU != "5000001" ||
			r.Items[1].Quantity != "0.750" || r.Items[2].Known {
			t.Fatalf("evaluate: %d %s", st, body)
		}
		st, body, _ = e.do("POST", "/v1/checkout/commit", auth.RolePOS, `{"currency":"GBP","transaction_id":"T-1",`+items+`}`)
		if st != 200 {
			t.Fatalf("commit: %d %s", st, body)
		}
		st, body, _ = e.do("POST", "/v1/checkout/return", auth.RolePOS,
			`{"store":"S001","transaction_id":"T-1","return_id":"R-1","items":[{"line":2,"quantity":"0.250"}]}`)
		if rr := decode[checkout.ReturnResponse](t, body); st != 200 || len(rr.Lines) != 1 || rr.Lines[0].Measure != "0.250" || rr.Lines[0].Gross != 474 {
			t.Fatalf("return: %d %s", st, body)
		}
		st, body, _ = e.do("GET", "/v1/products/unknown", auth.RoleReporting, nil)
		if u := decode[struct{ SKUs []catalogue.UnknownSKU }](t, body); st != 200 || len(u.SKUs) != 1 || u.SKUs[0].SKU != "NEWTHING" {
			t.Fatalf("unknown: %d %s", st, body)
		}
		for _, tt := range []struct{ store, code string }{{"S999", "store_unknown"}, {"S003", "store_closed"}} {
			st, body, _ := e.do("POST", "/v1/checkout/evaluate", auth.RoleAdmin, `{"store":"`+tt.store+`","currency":"GBP",`+items+`}`)
			if code, field := errorOf(t, body); st != 422 || code != tt.code || field != "store" {
				t.Fatalf("store %s: %d %s", tt.store, st, body)
			}
		}
	})
}
