package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/report"
)

// reportHandlers serve the reporting API: a campaign's report and a
// member's contact and reaction history.
type reportHandlers struct {
	s       *Server
	reports *report.Service
}

func newReportHandlers(s *Server, reports *report.Service) *reportHandlers {
	return &reportHandlers{s: s, reports: reports}
}

// register adds the routes with api (Handler's helper that wraps each one in
// authorize).
func (h *reportHandlers) register(api func(pattern string, perm auth.Permission, h apiHandler)) {
	api("GET /v1/campaigns/{id}/report", auth.CampaignsRead, h.campaignReport)
	api("GET /v1/members/{key}/history", auth.MembersRead, h.memberHistory)
}

// campaignReport: GET /v1/campaigns/{id}/report?bucket=hour|day
func (h *reportHandlers) campaignReport(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	var opt report.Options
	switch r.URL.Query().Get("bucket") {
	case "":
	case "hour":
		opt.Bucket = time.Hour
	case "day":
		opt.Bucket = 24 * time.Hour
	default:
		return report.ErrBucket
	}
	rep, err := h.reports.Campaign(r.Context(), r.PathValue("id"), opt)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

// memberHistory: GET /v1/members/{key}/history?limit=&before=
// before is an RFC 3339 time (the next_before of the previous page).
func (h *reportHandlers) memberHistory(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	m, err := h.s.lookup(r)
	if err != nil {
		return err
	}
	var q report.HistoryQuery
	if l := r.URL.Query().Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > report.MaxHistoryLimit {
			return report.ErrHistoryLimit
		}
		q.Limit = n
	}
	if b := r.URL.Query().Get("before"); b != "" {
		t, err := time.Parse(time.RFC3339Nano, b)
		if err != nil {
			return problem.InvalidField("before", "before_invalid", err, "must be an RFC 3339 time")
		}
		q.Before = t
	}
	hist, err := h.reports.MemberHistory(r.Context(), m.ID, q)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, hist)
	return nil
}

// overview: GET /v1/reports/overview, the dashboard's front page as JSON.
func (s *Server) overview(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	o, err := report.ProgrammeOverview(r.Context(), s.db, s.opt.Now(), s.opt.Campaigns.Zone(), 14)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, o)
	return nil
}
