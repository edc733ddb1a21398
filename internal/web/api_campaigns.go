package web

import (
	"net/http"
	"strconv"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/problem"
)

func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	cs, err := s.opt.Campaigns.List(r.Context(), campaign.Status(r.URL.Query().Get("status")))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"campaigns": cs})
	return nil
}

func (s *Server) createCampaign(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	var spec campaign.Spec
	if err := decodeJSON(w, r, &spec); err != nil {
		return err
	}
	c, err := s.opt.Campaigns.Create(r.Context(), spec)
	if err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/campaigns/"+c.ID)
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) getCampaign(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	c, err := s.opt.Campaigns.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

// putCampaign replaces a campaign's spec. An If-Match header with the
// version read makes a concurrent change fail instead of being overwritten.
func (s *Server) putCampaign(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	var spec campaign.Spec
	if err := decodeJSON(w, r, &spec); err != nil {
		return err
	}
	var version int64
	if v := r.Header.Get("If-Match"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return problem.InvalidField("If-Match", "version_invalid", err, "must be the campaign's version number")
		}
		version = n
	}
	c, err := s.opt.Campaigns.Update(r.Context(), r.PathValue("id"), spec, version)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) deleteCampaign(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	if err := s.opt.Campaigns.Delete(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) previewCampaign(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	n, err := intParam(r, "sample", 10)
	if err != nil {
		return err
	}
	p, err := s.opt.Campaigns.Preview(r.Context(), r.PathValue("id"), n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) launchCampaign(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	l, err := s.opt.Campaigns.Launch(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l)
	return nil
}

func (s *Server) pauseCampaign(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	c, err := s.opt.Campaigns.Pause(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) resumeCampaign(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	c, err := s.opt.Campaigns.Resume(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) simulateCampaign(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	days, err := intParam(r, "days", 28)
	if err != nil {
		return err
	}
	sim, err := s.opt.Checkout.Simulate(r.Context(), r.PathValue("id"), days)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, sim)
	return nil
}

// putAudienceList loads an uploaded list (one code, phone or member id a
// line) as a draft campaign's audience.
func (s *Server) putAudienceList(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	body := http.MaxBytesReader(w, r.Body, 64<<20)
	res, err := s.opt.Campaigns.SetList(r.Context(), r.PathValue("id"), body, s.resolveMemberID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) addContent(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	var b struct {
		Codes []string `json:"codes"`
	}
	if err := decodeJSON(w, r, &b); err != nil {
		return err
	}
	pool := r.PathValue("pool")
	n, err := s.opt.Campaigns.AddContent(r.Context(), pool, b.Codes)
	if err != nil {
		return err
	}
	left, err := s.opt.Campaigns.ContentLeft(r.Context(), pool)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"pool": pool, "added": n, "available": left})
	return nil
}

func intParam(r *http.Request, name string, def int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return 0, problem.InvalidField(name, "number_invalid", err, "must be a whole number")
	}
	return n, nil
}
