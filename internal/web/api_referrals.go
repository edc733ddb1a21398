package web

import (
	"net/http"
	"strconv"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/referral"
)

// registerReferrals adds the referral programme's routes: its settings, the
// referrals, a member's side of them and the report (API), and the
// dashboard page.
func (s *Server) registerReferrals(api func(string, auth.Permission, apiHandler), page, form func(string, auth.Permission, pageHandler)) {
	api("GET /v1/referrals/settings", auth.CampaignsRead, s.referralSettings)
	api("PUT /v1/referrals/settings", auth.CampaignsWrite, s.putReferralSettings)
	api("GET /v1/referrals/report", auth.CampaignsRead, s.referralReport)
	api("GET /v1/referrals", auth.MembersRead, s.listReferrals)
	api("GET /v1/referrals/{id}", auth.MembersRead, s.getReferral)
	api("GET /v1/members/{key}/referrals", auth.MembersRead, s.memberReferrals)
	if page != nil {
		page("GET /manage/referrals", auth.CampaignsRead, s.manageReferrals)
		form("POST /manage/referrals", auth.CampaignsWrite, s.manageReferralsSave)
	}
}

func (s *Server) referralSettings(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	st, err := s.opt.Referrals.Settings(r.Context())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) putReferralSettings(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	st := referral.Defaults()
	if err := decodeJSON(w, r, &st); err != nil {
		return err
	}
	saved, err := s.opt.Referrals.Save(r.Context(), st)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, saved)
	return nil
}

func (s *Server) referralReport(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	from, to, err := s.reportRange(r)
	if err != nil {
		return err
	}
	rep, err := s.opt.Referrals.Report(r.Context(), from, to)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}

func (s *Server) listReferrals(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	q := r.URL.Query()
	status := referral.Status(q.Get("status"))
	switch status {
	case "", referral.StatusPending, referral.StatusRewarded, referral.StatusNotRewarded, referral.StatusRefused, referral.StatusClawedBack:
	default:
		return problem.InvalidField("status", "status_invalid", nil, "unknown referral status %q", status)
	}
	limit := 100
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 500 {
			return problem.InvalidField("limit", "limit_invalid", nil, "must be 1 to 500")
		}
		limit = n
	}
	list, err := s.opt.Referrals.List(r.Context(), status, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"referrals": list})
	return nil
}

func (s *Server) getReferral(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	ref, err := s.opt.Referrals.Get(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ref)
	return nil
}

func (s *Server) memberReferrals(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	m, err := s.lookup(r)
	if err != nil {
		return err
	}
	mine, err := s.opt.Referrals.ForMember(r.Context(), m.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, mine)
	return nil
}
