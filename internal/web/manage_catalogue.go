package web

import (
	"net/http"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/catalogue"
)

// registerCataloguePages adds the dashboard's catalogue pages.
func (s *Server) registerCataloguePages(page func(string, auth.Permission, pageHandler)) {
	page("GET /manage/catalogue", auth.CatalogueRead, s.manageProducts)
	page("GET /manage/catalogue/stores", auth.CatalogueRead, s.manageStores)
	page("GET /manage/catalogue/unknown", auth.CatalogueRead, s.manageUnknown)
}

// manageProducts lists and searches the products, 50 a page.
func (s *Server) manageProducts(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	q := r.URL.Query()
	snap, err := s.opt.Catalogue.Snapshot(r.Context())
	if err != nil {
		return err
	}
	found, err := snap.Products(catalogue.ProductQuery{Query: q.Get("q"), Category: q.Get("category"), Cursor: q.Get("cursor"), Limit: 50})
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "manage_products", struct {
		page
		Query, Category string
		Total           int
		Products        []*catalogue.Product
		Next            string
	}{s.page("Products"), q.Get("q"), q.Get("category"), snap.Len(), found.Products, found.Next})
	return nil
}

func (s *Server) manageStores(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	snap, err := s.opt.Catalogue.Snapshot(r.Context())
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "manage_stores", struct {
		page
		Stores []*catalogue.Store
	}{s.page("Stores"), snap.Stores()})
	return nil
}

func (s *Server) manageUnknown(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	list, err := s.opt.Catalogue.UnknownSKUs(r.Context(), 200)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "manage_unknown", struct {
		page
		SKUs []catalogue.UnknownSKU
	}{s.page("Unknown SKUs"), list})
	return nil
}
