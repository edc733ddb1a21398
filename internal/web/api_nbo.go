package web

import (
	"net/http"
	"strconv"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/nbo"
	"github.com/perk-platform/perk/internal/problem"
)

// registerNBO adds the next-best-offer routes: the offer pool, the
// association rules, a member's ranked offers and next_best_offer campaigns
// with their report.
func (s *Server) registerNBO(api func(string, auth.Permission, apiHandler)) {
	api("GET /v1/nbo/pool", auth.CampaignsRead, s.nboPool)
	api("PUT /v1/nbo/pool", auth.CampaignsWrite, s.putNBOPool)
	api("GET /v1/nbo/rules", auth.CampaignsRead, s.nboRules)
	api("POST /v1/nbo/rules/refresh", auth.CampaignsWrite, s.refreshNBORules)
	api("POST /v1/nbo/campaigns", auth.CampaignsWrite, s.launchNBOCampaign)
	if s.opt.Reports != nil {
		api("GET /v1/nbo/campaigns/{name}/report", auth.CampaignsRead, s.nboCampaignReport)
	}
	api("GET /v1/members/{key}/next-best-offers", auth.MembersRead, s.nextBestOffers)
}

func (s *Server) nboPool(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	pool, err := s.opt.NBO.Pool(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"offers": pool})
	return nil
}

// putNBOPool replaces the pool with the body's offers (by name: unchanged
// offers are left alone, so sending the same pool twice changes nothing).
func (s *Server) putNBOPool(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	var body struct {
		Offers []nbo.Offer `json:"offers"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	if body.Offers == nil {
		return problem.InvalidField("offers", "required", nil, "is required (an empty list empties the pool)")
	}
	applied, err := s.opt.NBO.PutPool(r.Context(), body.Offers, true)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, applied)
	return nil
}

func (s *Server) nboRules(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	level := r.URL.Query().Get("level")
	if level != "" && level != nbo.LevelCategory && level != nbo.LevelSKU {
		return problem.InvalidField("level", "level_invalid", nil, "must be category or sku")
	}
	rules, err := s.opt.NBO.Rules(r.Context(), level)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"rules": rules})
	return nil
}

func (s *Server) refreshNBORules(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	th := nbo.DefaultThresholds
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &th); err != nil {
			return err
		}
	}
	if th.MinSupport < 0 || th.MinSupport > 1 || th.MinConfidence < 0 || th.MinConfidence > 1 || th.MinBaskets < 0 {
		return problem.InvalidField("min_support", "threshold_invalid", nil, "support and confidence are 0 to 1, min_baskets 0 or more")
	}
	mined, err := s.opt.NBO.MineRules(r.Context(), th)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, mined)
	return nil
}

func (s *Server) launchNBOCampaign(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	var spec nbo.CampaignSpec
	if err := decodeJSON(w, r, &spec); err != nil {
		return err
	}
	out, err := s.opt.NBO.Launch(r.Context(), spec)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (s *Server) nboCampaignReport(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	rep, err := s.opt.Reports.NextBestOffer(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

func (s *Server) nextBestOffers(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	k := 5
	if v := r.URL.Query().Get("k"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > nbo.MaxK {
			return problem.InvalidField("k", "k_invalid", nil, "must be 1 to %d", nbo.MaxK)
		}
		k = n
	}
	m, err := s.lookup(r)
	if err != nil {
		return err
	}
	offers, err := s.opt.NBO.Rank(r.Context(), m, k)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"member_id": m.ID, "offers": offers})
	return nil
}
