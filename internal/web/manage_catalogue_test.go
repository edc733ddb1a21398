package web_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/store/storetest"
)

func TestManageCatalogue_PagesListProductsStoresAndUnknownSKUs(t *testing.T) {
	e := newEnv(t, storetest.SQLite(t))
	if st, body, _ := e.do("PUT", "/v1/products", auth.RoleManager, `{"products":[
		{"sku":"5000001","name":"Flat white","categories":["drinks/coffee"],"barcodes":["5012345000015"],"price":320},
		{"sku":"5000002","name":"Croissant","categories":["bakery"],"price":185}]}`); st != 200 {
		t.Fatalf("products: %d %s", st, body)
	}
	if st, body, _ := e.do("POST", "/v1/checkout/commit", auth.RolePOS,
		`{"currency":"GBP","transaction_id":"T1","items":[{"line":1,"sku":"MYSTERY","quantity":1,"unit_price":100}]}`); st != 200 {
		t.Fatalf("commit: %d %s", st, body)
	}
	reporting := e.signIn(auth.RoleReporting)
	for _, tt := range []struct {
		path        string
		has, hasNot []string
	}{
		{"/manage/catalogue", []string{"Flat white", "Croissant", "5012345000015", "3.20"}, nil},
		{"/manage/catalogue?category=drinks", []string{"Flat white"}, []string{"Croissant"}},
		{"/manage/catalogue?q=5012345000015", []string{"Flat white"}, []string{"Croissant"}},
		{"/manage/catalogue/stores", []string{"S001", "open"}, nil},
		{"/manage/catalogue/unknown", []string{"MYSTERY"}, nil},
	} {
		t.Run(tt.path, func(t *testing.T) {
			if res, _ := e.get(e.browser(), tt.path); res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("signed out: %d", res.StatusCode)
			}
			res, body := e.get(reporting, tt.path)
			if res.StatusCode != http.StatusOK {
				t.Fatalf("%d\n%s", res.StatusCode, body)
			}
			for _, s := range tt.has {
				if !strings.Contains(body, s) {
					t.Errorf("page lacks %q", s)
				}
			}
			for _, s := range tt.hasNot {
				if strings.Contains(body, s) {
					t.Errorf("page shows %q", s)
				}
			}
		})
	}
}
