package web

import (
	"context"
	"net/http"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/journey"
	"github.com/perk-platform/perk/internal/problem"
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
	api("POST /v1/journeys/{name}/move", auth.CampaignsWrite, s.moveJourneyMembers)
	api("POST /v1/journeys/{name}/dry-run", auth.CampaignsRead, s.dryRunJourney)
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

func (s *Server) moveJourneyMembers(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	var m journey.Move
	if err := decodeJSON(w, r, &m); err != nil {
		return err
	}
	out, err := s.opt.Journeys.Move(r.Context(), r.PathValue("name"), m)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// dryRunBody is POST /v1/journeys/{name}/dry-run: the member by any key
// (id, code, phone, ext:CRM id) and the bounds of their timeline.
type dryRunBody struct {
	Member  string    `json:"member"`
	Version int       `json:"version"`
	Since   time.Time `json:"since"`
	Until   time.Time `json:"until"`
}

func (s *Server) dryRunJourney(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	var b dryRunBody
	if err := decodeJSON(w, r, &b); err != nil {
		return err
	}
	if b.Member == "" {
		return problem.InvalidField("member", "member_required", nil, "the member to try the journey on: id, code, phone or ext:CRM id")
	}
	m, err := s.members.Lookup(r.Context(), b.Member)
	if err != nil {
		return err
	}
	out, err := s.opt.Journeys.DryRun(r.Context(), r.PathValue("name"), m.ID, journey.DryRunOptions{Version: b.Version, Since: b.Since, Until: b.Until})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
