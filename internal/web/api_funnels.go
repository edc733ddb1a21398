package web

import (
	"net/http"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/funnel"
	"github.com/perk-platform/perk/internal/problem"
)

// registerFunnels adds the funnel routes: definitions and reports by API,
// and the dashboard pages.
func (s *Server) registerFunnels(api func(string, auth.Permission, apiHandler), page func(string, auth.Permission, pageHandler)) {
	api("GET /v1/funnels", auth.CampaignsRead, s.listFunnels)
	api("PUT /v1/funnels/{name}", auth.CampaignsWrite, s.putFunnel)
	api("GET /v1/funnels/{name}/report", auth.CampaignsRead, s.funnelReport)
	api("GET /v1/campaigns/{id}/funnel", auth.CampaignsRead, s.campaignFunnel)
	if page != nil {
		page("GET /manage/funnels", auth.CampaignsRead, s.manageFunnels)
		page("GET /manage/funnels/{name}", auth.CampaignsRead, s.manageFunnel)
		page("GET /manage/campaigns/{id}/funnel", auth.CampaignsRead, s.manageCampaignFunnel)
	}
}

func (s *Server) listFunnels(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	defs, err := s.opt.Funnels.List(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"funnels": defs})
	return nil
}

func (s *Server) putFunnel(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	var def funnel.Definition
	if err := decodeJSON(w, r, &def); err != nil {
		return err
	}
	if err := pathName(r, &def.Name); err != nil {
		return err
	}
	changed, err := s.opt.Funnels.Save(r.Context(), def)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"funnel": def, "changed": changed})
	return nil
}

// pathName fills a body's empty name from the path's {name}, and refuses a
// body that names another.
func pathName(r *http.Request, name *string) error {
	if *name == "" {
		*name = r.PathValue("name")
	}
	if *name != r.PathValue("name") {
		return problem.InvalidField("name", "name_mismatch", nil, "the body names %q, the path %q", *name, r.PathValue("name"))
	}
	return nil
}

// reportRange reads from and to (RFC 3339 or YYYY-MM-DD); the last 30 days
// by default.
func (s *Server) reportRange(r *http.Request) (time.Time, time.Time, error) {
	to := s.opt.Now().UTC()
	from := to.Add(-30 * 24 * time.Hour)
	for _, p := range []struct {
		name string
		dst  *time.Time
	}{{"from", &from}, {"to", &to}} {
		v := r.URL.Query().Get(p.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			if t, err = time.Parse(time.DateOnly, v); err != nil {
				return from, to, problem.InvalidField(p.name, "time_invalid", nil, "%s is RFC 3339 or YYYY-MM-DD", p.name)
			}
		}
		*p.dst = t
	}
	if !from.Before(to) {
		return from, to, problem.InvalidField("from", "range_invalid", nil, "from must be before to")
	}
	return from, to, nil
}

func (s *Server) funnelReport(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	rep, err := s.namedFunnelReport(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

func (s *Server) namedFunnelReport(r *http.Request) (funnel.Report, error) {
	def, err := s.opt.Funnels.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		return funnel.Report{}, err
	}
	from, to, err := s.reportRange(r)
	if err != nil {
		return funnel.Report{}, err
	}
	return s.opt.Funnels.Run(r.Context(), def, from, to)
}

// campaignWindow reads ?window= (default funnel.DefaultWindow).
func campaignWindow(r *http.Request) (time.Duration, error) {
	v := r.URL.Query().Get("window")
	if v == "" {
		return funnel.DefaultWindow, nil
	}
	var d funnel.Duration
	if err := d.UnmarshalText([]byte(v)); err != nil || d <= 0 || time.Duration(d) > funnel.MaxWindow {
		return 0, problem.InvalidField("window", "window_invalid", nil, "window is a duration such as 72h or 7d, at most 90d")
	}
	return time.Duration(d), nil
}

// campaignReport is a campaign's buy pipeline with the request's window.
func (s *Server) campaignReport(r *http.Request) (funnel.Report, error) {
	win, err := campaignWindow(r)
	if err != nil {
		return funnel.Report{}, err
	}
	return s.opt.Funnels.Campaign(r.Context(), r.PathValue("id"), win)
}

func (s *Server) campaignFunnel(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	rep, err := s.campaignReport(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

func (s *Server) manageFunnels(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	defs, err := s.opt.Funnels.List(r.Context())
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "manage_funnels", struct {
		page
		Funnels []funnel.Definition
	}{s.page("Funnels"), defs})
	return nil
}

func (s *Server) manageFunnel(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	rep, err := s.namedFunnelReport(r)
	return s.drawFunnel(w, r, "Funnel "+rep.Funnel, rep, err)
}

func (s *Server) manageCampaignFunnel(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	rep, err := s.campaignReport(r)
	return s.drawFunnel(w, r, "Buy pipeline", rep, err)
}

// drawFunnel renders a report, or passes on the error that stopped it.
func (s *Server) drawFunnel(w http.ResponseWriter, r *http.Request, title string, rep funnel.Report, err error) error {
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "manage_funnel", struct {
		page
		R funnel.Report
	}{s.page(title), rep})
	return nil
}
