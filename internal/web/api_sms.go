package web

import (
	"net/http"
	"strconv"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/phone"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/sms"
)

// smsFilter reads the common query parameters of the SMS lists.
func (s *Server) smsFilter(r *http.Request) (sms.Filter, error) {
	q := r.URL.Query()
	f := sms.Filter{MemberID: q.Get("member_id"), Status: q.Get("status"), Before: q.Get("before"), Limit: 50,
		Unrecognised: q.Get("unrecognised") == "true"}
	if p := q.Get("phone"); p != "" {
		n, err := phone.Parse(p, s.members.Region())
		if err != nil {
			return f, member.InvalidPhone("phone", err)
		}
		f.Phone = string(n)
	}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			return f, problem.InvalidField("limit", "limit_invalid", nil, "must be between 1 and 500")
		}
		f.Limit = n
	}
	return f, nil
}

// listOutbox: GET /v1/sms/outbox?phone=&member_id=&status=&before=&limit=
func (s *Server) listOutbox(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	f, err := s.smsFilter(r)
	if err != nil {
		return err
	}
	msgs, err := sms.ListOutbox(r.Context(), s.db, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": msgs})
	return nil
}

// listInbox: GET /v1/sms/inbox?phone=&member_id=&unrecognised=true&before=&limit=
func (s *Server) listInbox(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	f, err := s.smsFilter(r)
	if err != nil {
		return err
	}
	msgs, err := sms.ListInbox(r.Context(), s.db, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"messages": msgs})
	return nil
}
