package web

import (
	"net/http"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/catalogue"
	"github.com/perk-platform/perk/internal/problem"
)

// maxProductsBody bounds a bulk product write: 10,000 products of a few
// hundred bytes each.
const maxProductsBody = 32 << 20

// registerCatalogue adds the catalogue's routes.
func (s *Server) registerCatalogue(api func(string, auth.Permission, apiHandler)) {
	api("GET /v1/stores", auth.CatalogueRead, s.listStores)
	api("PUT /v1/stores", auth.CatalogueWrite, s.putStores)
	api("GET /v1/stores/{id}", auth.CatalogueRead, s.getStore)
	api("PUT /v1/stores/{id}", auth.CatalogueWrite, s.putStore)
	api("DELETE /v1/stores/{id}", auth.CatalogueWrite, s.deleteStore)
	api("GET /v1/products", auth.CatalogueRead, s.listProducts)
	api("PUT /v1/products", auth.CatalogueWrite, s.putProducts)
	api("GET /v1/products/unknown", auth.CatalogueRead, s.unknownProducts)
	api("GET /v1/products/{sku}", auth.CatalogueRead, s.getProduct)
	api("DELETE /v1/products/{sku}", auth.CatalogueWrite, s.deleteProduct)
}

func (s *Server) listStores(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	snap, err := s.opt.Catalogue.Snapshot(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"stores": snap.Stores()})
	return nil
}

func (s *Server) putStores(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	var body struct {
		Stores []catalogue.Store `json:"stores"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	if len(body.Stores) == 0 {
		return problem.InvalidField("stores", "required", nil, "must list at least one store")
	}
	if err := s.opt.Catalogue.PutStores(r.Context(), body.Stores); err != nil {
		return err
	}
	return s.listStores(w, r, nil)
}

func (s *Server) getStore(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	snap, err := s.opt.Catalogue.Snapshot(r.Context())
	if err != nil {
		return err
	}
	st, ok := snap.Store(r.PathValue("id"))
	if !ok {
		return catalogue.ErrStoreNotFound
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) putStore(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	var st catalogue.Store
	if err := decodeJSON(w, r, &st); err != nil {
		return err
	}
	id := r.PathValue("id")
	if st.ID != "" && st.ID != id {
		return problem.InvalidField("id", "id_mismatch", nil, "is %q but the path names %q", st.ID, id)
	}
	st.ID = id
	if err := s.opt.Catalogue.PutStore(r.Context(), st); err != nil {
		return err
	}
	return s.getStore(w, r, nil)
}

func (s *Server) deleteStore(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	if err := s.opt.Catalogue.DeleteStore(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listProducts(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	limit, err := intParam(r, "limit", 100)
	if err != nil {
		return err
	}
	q := r.URL.Query()
	snap, err := s.opt.Catalogue.Snapshot(r.Context())
	if err != nil {
		return err
	}
	page, err := snap.Products(catalogue.ProductQuery{Query: q.Get("query"), Category: q.Get("category"), Cursor: q.Get("cursor"), Limit: limit})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// putResult is the answer to a bulk product write: how many were written
// and why each of the others was not.
type putResult struct {
	Written int                   `json:"written"`
	Errors  []catalogue.ItemError `json:"errors"`
}

func (s *Server) putProducts(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	var body struct {
		Products []catalogue.Product `json:"products"`
	}
	if err := decodeJSONMax(w, r, &body, maxProductsBody); err != nil {
		return err
	}
	if len(body.Products) == 0 {
		return problem.InvalidField("products", "required", nil, "must list at least one product")
	}
	errs, err := s.opt.Catalogue.PutProducts(r.Context(), body.Products)
	if err != nil {
		return err
	}
	if errs == nil {
		errs = []catalogue.ItemError{}
	}
	writeJSON(w, http.StatusOK, putResult{Written: len(body.Products) - len(errs), Errors: errs})
	return nil
}

func (s *Server) getProduct(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	snap, err := s.opt.Catalogue.Snapshot(r.Context())
	if err != nil {
		return err
	}
	p, ok := snap.Product(r.PathValue("sku"))
	if !ok {
		return catalogue.ErrProductNotFound
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) deleteProduct(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	if err := s.opt.Catalogue.DeleteProduct(r.Context(), r.PathValue("sku")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) unknownProducts(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	limit, err := intParam(r, "limit", 100)
	if err != nil {
		return err
	}
	list, err := s.opt.Catalogue.UnknownSKUs(r.Context(), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"skus": list})
	return nil
}
