package web

import (
	"net/http"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/phone"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/profile"
	"github.com/perk-platform/perk/internal/referral"
	"github.com/perk-platform/perk/internal/report"
)

// memberRow is a member as the operator pages show them: phone masked.
type memberRow struct {
	*member.Member
	MaskedPhone string
}

func masked(m *member.Member) memberRow {
	r := memberRow{Member: m}
	if m.Phone != "" {
		r.MaskedPhone = phone.Mask(string(m.Phone))
	}
	return r
}

// manageMembers lists members, searched by code, phone or name.
func (s *Server) manageMembers(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	q := r.URL.Query()
	found, err := s.members.List(r.Context(), member.ListQuery{Query: q.Get("q"), Cursor: q.Get("cursor"), Limit: 50})
	if err != nil {
		return err
	}
	rows := make([]memberRow, len(found.Members))
	for i, m := range found.Members {
		rows[i] = masked(m)
	}
	s.render(w, r, http.StatusOK, "manage_members", struct {
		page
		Query   string
		Members []memberRow
		Next    string
	}{s.page("Members"), q.Get("q"), rows, found.NextCursor})
	return nil
}

// manageMember is one member: profile, consent history, points and the
// contact and reaction history.
func (s *Server) manageMember(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	ctx := r.Context()
	m, err := s.members.Get(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	consents, err := s.members.Consents(ctx, m.ID)
	if err != nil {
		return err
	}
	bal, err := s.opt.Ledger.Balance(ctx, m.ID)
	if err != nil {
		return err
	}
	entries, err := s.opt.Ledger.Entries(ctx, m.ID, ledger.Query{Limit: 20})
	if err != nil {
		return err
	}
	var history *report.History
	if s.opt.Reports != nil {
		var before time.Time
		if b := r.URL.Query().Get("before"); b != "" {
			if before, err = time.Parse(time.RFC3339Nano, b); err != nil {
				return problem.New(problem.BadRequest, "link_broken", "That page link is broken: start again from the member.")
			}
		}
		if history, err = s.opt.Reports.MemberHistory(ctx, m.ID, report.HistoryQuery{Limit: 100, Before: before}); err != nil {
			return err
		}
	}
	stream, err := s.memberStream(ctx, m.ID)
	if err != nil {
		return err
	}
	var refs *referral.Mine
	if s.opt.Referrals != nil && m.Status != member.StatusErased {
		if refs, err = s.opt.Referrals.ForMember(ctx, m.ID); err != nil {
			return err
		}
	}
	var prof *profile.Profile
	if s.opt.Profiles != nil {
		p, err := s.opt.Profiles.Get(ctx, m.ID)
		if err != nil {
			return err
		}
		prof = &p
	}
	s.render(w, r, http.StatusOK, "manage_member", struct {
		page
		M         memberRow
		Consents  []member.Consent
		Balance   ledger.Balance
		Entries   []ledger.Entry
		History   *report.History
		Stream    *memberEvents
		Referrals *referral.Mine
		Profile   *profile.Profile
	}{s.page("Member " + string(m.Code)), masked(m), consents, bal, entries.Entries, history, stream, refs, prof})
	return nil
}

// manageImports lists recent imports with their error files.
func (s *Server) manageImports(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	jobs, err := s.jobs.List(r.Context(), 50)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "manage_imports", struct {
		page
		Jobs []*member.ImportJob
	}{s.page("Imports"), jobs})
	return nil
}

// manageImportErrors downloads an import's rejected rows.
func (s *Server) manageImportErrors(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	id := r.PathValue("id")
	// Found first, so a missing one is answered with a page, not a download.
	if _, err := s.jobs.Get(r.Context(), id); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="import-errors.csv"`)
	return s.jobs.WriteErrors(r.Context(), id, w)
}
