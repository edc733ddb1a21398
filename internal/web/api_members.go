package web

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/barcode"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/problem"
)

// enrolBody is the body of POST /v1/members.
type enrolBody struct {
	Phone       string            `json:"phone"`
	FirstName   string            `json:"first_name"`
	LastName    string            `json:"last_name"`
	Email       string            `json:"email"`
	Birthday    string            `json:"birthday"`
	Store       string            `json:"store"`
	ExternalID  string            `json:"external_id"`
	TimeZone    string            `json:"timezone"`
	Locale      string            `json:"locale"`
	Attributes  map[string]string `json:"attributes"`
	Tags        []string          `json:"tags"`
	DoubleOptIn bool              `json:"double_opt_in"`
	// ReferralCode is a friend's referral code; a bad one never stops the
	// enrolment (the answer's referral says what became of it).
	ReferralCode string `json:"referral_code"`
	Consent      struct {
		SMS            bool   `json:"sms"`
		Source         string `json:"source"`
		Campaign       string `json:"campaign"`
		WordingVersion string `json:"wording_version"`
	} `json:"consent"`
}

// memberView is a member as the API shows it, with the card link.
type memberView struct {
	*member.Member
	CardURL string `json:"card_url,omitempty"`
	// Referral is what became of an enrolment's referral code.
	Referral *member.ReferralNote `json:"referral,omitempty"`
}

func (s *Server) view(m *member.Member, token string) memberView {
	v := memberView{Member: m}
	if token != "" {
		v.CardURL = s.members.CardURL(token)
	}
	return v
}

func (s *Server) enrolMember(w http.ResponseWriter, r *http.Request, key *auth.Key) error {
	var b enrolBody
	if err := decodeJSON(w, r, &b); err != nil {
		return err
	}
	ch := member.ChannelAPI
	if key.Role == auth.RolePOS {
		// A till enrols into its own store.
		ch = member.ChannelPOS
		if b.Store != "" && b.Store != key.Store {
			return &problem.Error{Kind: problem.Forbidden, Code: "store_mismatch", Field: "store",
				Message: "this till's key is bound to store " + key.Store}
		}
		b.Store = key.Store
	}
	var e *member.Enrolment
	// Enrolling a number answers with its member when there is one: for a
	// till that is a look-up like any other.
	err := s.limitLookups(key, func() (err error) {
		e, err = s.members.Enrol(r.Context(), member.EnrolRequest{
			Profile: member.Profile{Phone: b.Phone, FirstName: b.FirstName, LastName: b.LastName, Email: b.Email,
				Birthday: b.Birthday, HomeStore: b.Store, ExternalID: b.ExternalID, TimeZone: b.TimeZone, Locale: b.Locale,
				Attributes: b.Attributes, Tags: b.Tags},
			Channel: ch, Source: b.Consent.Source, Consent: b.Consent.SMS, ConsentVersion: b.Consent.WordingVersion,
			DoubleOptIn: b.DoubleOptIn, Campaign: b.Consent.Campaign, SourceAddress: "api key " + key.ID,
			Referral: b.ReferralCode,
		})
		return err
	})
	if err != nil {
		return storeField(err)
	}
	status, outcome := http.StatusOK, "existing"
	if e.Created {
		status, outcome = http.StatusCreated, "created"
		w.Header().Set("Location", "/v1/members/"+e.Member.ID)
	}
	s.metrics.enrolments.WithLabelValues(string(ch), outcome).Inc()
	if key.Role == auth.RolePOS {
		// A till has no right to read members: it learns what a till needs,
		// as in a checkout answer, not the profile or the card link (a
		// bearer link to the member's card).
		v, err := s.tillView(r.Context(), e.Member)
		if err != nil {
			return err
		}
		writeJSON(w, status, v)
		return nil
	}
	v := s.view(e.Member, e.CardToken)
	v.Referral = e.Referral
	writeJSON(w, status, v)
	return nil
}

// storeField names the body's field, store, in an error the member service
// gives about the member's home_store.
func storeField(err error) error {
	var p *problem.Error
	if errors.As(err, &p) && p.Field == "home_store" {
		q := *p
		q.Field = "store"
		return &q
	}
	return err
}

// tillView is a member as a till sees it, whatever the path: id, code and
// points.
func (s *Server) tillView(ctx context.Context, m *member.Member) (*checkout.MemberInfo, error) {
	v := &checkout.MemberInfo{ID: m.ID, Code: string(m.Code)}
	if s.opt.Ledger != nil {
		b, err := s.opt.Ledger.Balance(ctx, m.ID)
		if err != nil {
			return nil, err
		}
		v.PointsBalance, v.PointsPending = b.Available, b.Pending
	}
	return v, nil
}

// lookup resolves the {key} path value: id, code or phone.
func (s *Server) lookup(r *http.Request) (*member.Member, error) {
	return s.members.Lookup(r.Context(), r.PathValue("key"))
}

func (s *Server) getMember(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	m, err := s.lookup(r)
	if err != nil {
		return err
	}
	return s.writeMember(w, r, m)
}

// writeMember answers with the member and its current card link, if any.
func (s *Server) writeMember(w http.ResponseWriter, r *http.Request, m *member.Member) error {
	token, err := s.members.ExistingCardToken(r.Context(), m.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.view(m, token))
	return nil
}

// lookupMember finds one member by exactly one of the query parameters
// code, phone, external_id or card_token: for CRMs that hold their own id and
// for support staff handed a card link.
func (s *Server) lookupMember(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	q := r.URL.Query()
	finders := []struct {
		param string
		find  func(context.Context, string) (*member.Member, error)
	}{
		{"code", s.members.ByCode}, {"phone", s.members.ByPhone},
		{"external_id", s.members.ByExternalID}, {"card_token", s.members.ByCardToken},
	}
	var m *member.Member
	var err error
	given := 0
	for _, f := range finders {
		if v := q.Get(f.param); v != "" {
			given++
			m, err = f.find(r.Context(), v)
		}
	}
	if given != 1 {
		return problem.InvalidField("", "lookup_invalid", nil, "give exactly one of code, phone, external_id, card_token")
	}
	if err != nil {
		return err
	}
	return s.writeMember(w, r, m)
}

func (s *Server) listMembers(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	q := r.URL.Query()
	lq := member.ListQuery{Query: q.Get("query"), Cursor: q.Get("cursor"), Status: member.Status(q.Get("status"))}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil {
			return problem.InvalidField("limit", "limit_invalid", nil, "must be a number")
		}
		lq.Limit = n
	}
	page, err := s.members.List(r.Context(), lq)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

func (s *Server) patchMember(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	var p member.Patch
	if err := decodeJSON(w, r, &p); err != nil {
		return err
	}
	m, err := s.lookup(r)
	if err != nil {
		return err
	}
	m, err = s.members.Update(r.Context(), m.ID, p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.view(m, ""))
	return nil
}

func (s *Server) eraseMember(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	m, err := s.lookup(r)
	if err != nil {
		return err
	}
	if err := s.members.Erase(r.Context(), m.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) memberConsents(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	m, err := s.lookup(r)
	if err != nil {
		return err
	}
	cs, err := s.members.Consents(r.Context(), m.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"member_id": m.ID, "status": m.Status, "consents": cs})
	return nil
}

func (s *Server) optOut(w http.ResponseWriter, r *http.Request, key *auth.Key) error {
	return s.setConsent(w, r, key, false)
}

func (s *Server) optIn(w http.ResponseWriter, r *http.Request, key *auth.Key) error {
	return s.setConsent(w, r, key, true)
}

func (s *Server) setConsent(w http.ResponseWriter, r *http.Request, key *auth.Key, granted bool) error {
	var b struct {
		Source   string `json:"source"`
		Campaign string `json:"campaign"`
	}
	if r.ContentLength != 0 {
		if err := decodeJSON(w, r, &b); err != nil {
			return err
		}
	}
	if b.Source == "" {
		b.Source = "api key " + key.ID
	}
	m, err := s.lookup(r)
	if err != nil {
		return err
	}
	o := member.Origin{Method: member.ChannelAPI, Source: b.Source, Campaign: b.Campaign, Address: "api key " + key.ID}
	if granted {
		m, err = s.members.OptIn(r.Context(), m.ID, o)
	} else {
		m, err = s.members.OptOut(r.Context(), m.ID, o)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.view(m, ""))
	return nil
}

func (s *Server) reissueCard(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	m, err := s.lookup(r)
	if err != nil {
		return err
	}
	token, err := s.members.ReissueCardToken(r.Context(), m.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"member_id": m.ID, "card_url": s.members.CardURL(token)})
	return nil
}

func (s *Server) revokeCard(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	m, err := s.lookup(r)
	if err != nil {
		return err
	}
	if err := s.members.RevokeCardTokens(r.Context(), m.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) memberBarcode(format string) apiHandler {
	return func(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
		m, err := s.lookup(r)
		if err != nil {
			return err
		}
		sym := s.opt.Symbology
		if q := r.URL.Query().Get("symbology"); q != "" {
			if sym, err = barcode.ParseSymbology(q); err != nil {
				return problem.InvalidField("symbology", "symbology_invalid", err, "use code128 or ean8")
			}
		}
		return writeBarcode(w, string(m.Code), sym, format)
	}
}

// writeBarcode renders into a buffer first so a rendering error still gets
// a proper error response.
func writeBarcode(w http.ResponseWriter, code string, sym barcode.Symbology, format string) error {
	var buf bytes.Buffer
	var err error
	ctype := "image/svg+xml"
	if format == "png" {
		ctype = "image/png"
		err = barcode.PNG(&buf, code, sym, 0)
	} else {
		err = barcode.SVG(&buf, code, sym)
	}
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", ctype)
	w.Header().Set("Cache-Control", "private, max-age=86400")
	w.Write(buf.Bytes())
	return nil
}
