package web

import (
	"net/http"

	"github.com/perk-platform/perk/internal/auth"
)

// registerProfiles adds members' refined profiles (GET) and the on-demand
// full refresh.
func (s *Server) registerProfiles(api func(string, auth.Permission, apiHandler)) {
	api("GET /v1/members/{key}/profile", auth.MembersRead, s.memberProfile)
	api("POST /v1/profiles/refresh", auth.MembersWrite, s.refreshProfiles)
}

func (s *Server) memberProfile(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	m, err := s.lookup(r)
	if err != nil {
		return err
	}
	p, err := s.opt.Profiles.Get(r.Context(), m.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// refreshProfiles runs the full refresh in the request: a programme of a
// million members takes tens of seconds (docs/benchmarks.md), within the
// server's write timeout for an operator's on-demand call.
func (s *Server) refreshProfiles(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	res, err := s.opt.Profiles.Refresh(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
