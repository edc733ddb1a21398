package web

import (
	"context"
	"net/http"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/journey"
)

// registerJourneys adds the journey routes: definitions (applied as files
// are: a change is a new version), life cycle and counts.
func (s *Server) registerJourneys(api func(string, auth.Permission, apiHandler)) {
	api("GET /v1/journeys", auth.CampaignsRead, s.listJourneys)
	api("GET /v1/journeys/{name}", auth.CampaignsRead, s.getJourney)
	api("PUT /v1/journeys/{name}", auth.CampaignsWrite, s.putJourney)
	api("DELETE /v1/journeys/{name}", auth.CampaignsWrite, s.deleteJourney)
	api("POST /v1/journeys/{name}/launch", auth.CampaignsWrite, s.journeyAction(s.opt.Journeys.Launch))
	api("POST /v1/journeys/{name}/stop", auth.CampaignsWrite, s.journeyAction(s.opt.Journeys.Stop))
	api("GET /v1/journeys/{name}/counts", auth.CampaignsRead, s.journeyCounts)
}

func (s *Server) listJourneys(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	list, err := s.opt.Journeys.List(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"journeys": list})
	return nil
}

func (s *Server) getJourney(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	j, err := s.opt.Journeys.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, j)
	return nil
}

func (s *Server) putJourney(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	var def journey.Definition
	if err := decodeJSON(w, r, &def); err != nil {
		return err
	}
	if err := pathName(r, &def.Name); err != nil {
		return err
	}
	a, err := s.opt.Journeys.Apply(r.Context(), def)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) deleteJourney(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	if err := s.opt.Journeys.Delete(r.Context(), r.PathValue("name")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) journeyAction(op func(ctx context.Context, name string) (*journey.Journey, error)) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
		j, err := op(r.Context(), r.PathValue("name"))
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, j)
		return nil
	}
}

func (s *Server) journeyCounts(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	rep, err := s.opt.Journeys.Counts(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}
