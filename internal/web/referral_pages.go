package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/referral"
)

// invitation reads the code /join was opened with: the code to carry in the
// form (normalised, so a code in the wrong case works) and what the page
// says about it. A bad code is said to be bad and leaves the form as it is:
// the friend can still join. An opening is counted for the report.
func (s *Server) invitation(ctx context.Context, ref, anon string) (string, string) {
	referrerID, err := s.opt.Referrals.Owner(ctx, ref)
	var p *problem.Error
	if errors.As(err, &p) && p.Kind == problem.Invalid {
		return "", "The invitation code in your link is not valid (" + p.Message + "). You can still join below."
	}
	if err != nil {
		s.log.ErrorContext(ctx, "join: referral code", "err", err)
		return "", ""
	}
	if err := s.opt.Referrals.Note(ctx, referral.ActivityOpened, referrerID, anon); err != nil {
		s.log.ErrorContext(ctx, "join: referral opened", "err", err)
	}
	code, _ := referral.NormalizeCode(ref)
	st, err := s.opt.Referrals.Settings(ctx)
	if err != nil || !st.Enabled {
		return code, "A friend invited you to join."
	}
	return code, "A friend invited you to join. " + s.rewardsText(st, false)
}

// rewardsText words the programme's referral rewards for a shopper, from
// the friend's side or (referrer) the member's.
func (s *Server) rewardsText(st referral.Settings, referrer bool) string {
	you, them := st.Friend, st.Referrer
	if referrer {
		you, them = st.Referrer, st.Friend
	}
	var gets []string
	if you != nil {
		gets = append(gets, "you get "+you.Describe())
	}
	if them != nil {
		who := "your friend"
		if !referrer {
			who = "the friend who invited you"
		}
		gets = append(gets, who+" gets "+them.Describe())
	}
	if len(gets) == 0 {
		return ""
	}
	when := "when "
	switch {
	case st.Qualify == referral.QualifyJoin && referrer:
		when += "your friend joins"
	case st.Qualify == referral.QualifyJoin:
		when += "you join"
	case referrer:
		when += fmt.Sprintf("your friend first spends %s within %d days of joining", s.opt.Currency.Format(max(st.MinPurchase, 1)), st.WithinDays)
	default:
		when += fmt.Sprintf("you first spend %s within %d days of joining", s.opt.Currency.Format(max(st.MinPurchase, 1)), st.WithinDays)
	}
	text := strings.Join(gets, " and ")
	return strings.ToUpper(text[:1]) + text[1:] + " " + when + "."
}

// joinedReferral is what the after-join page says about a referral code.
// That page is the same whether the number was a member or not (whoever
// typed it must not learn that), so once a code is known the page says
// only that it was noted: the card, reached through the text to that phone,
// shows the referral's status and reason.
func joinedReferral(n *member.ReferralNote) string {
	switch {
	case n == nil:
		return ""
	case n.Status == "":
		return "About your invitation: " + n.Reason + "."
	}
	return "Your friend's invitation is noted: your card shows what it brings you."
}

// cardReferral is the card page's referral panel.
type cardReferral struct {
	Offer, Link, Code, Text, CountURL string
	Made                              []referral.Referral
	ReferredBy                        *referral.Referral
}

func (s *Server) cardReferral(ctx context.Context, m *member.Member, token string) (*cardReferral, error) {
	st, err := s.opt.Referrals.Settings(ctx)
	if err != nil {
		return nil, err
	}
	mine, err := s.opt.Referrals.ForMember(ctx, m.ID)
	if err != nil {
		return nil, err
	}
	if !st.Enabled && len(mine.Made) == 0 && mine.ReferredBy == nil {
		return nil, nil
	}
	out := &cardReferral{Link: mine.Link, Code: mine.Code, CountURL: "/c/" + token + "/shared", Made: mine.Made, ReferredBy: mine.ReferredBy,
		Text: "Join " + s.opt.Programme + " with my invitation"}
	if st.Enabled {
		out.Offer = "Share your own link with a friend. " + s.rewardsText(st, true)
	} else {
		out.Offer = "Invitations are paused for now."
	}
	return out, nil
}

// cardShared counts a press of the card page's share button for the
// report; who the link went to is never known.
func (s *Server) cardShared(w http.ResponseWriter, r *http.Request) {
	m, err := s.members.ByCardToken(r.Context(), r.PathValue("token"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if err := s.opt.Referrals.Note(r.Context(), referral.ActivityShared, m.ID, anonymousID(w, r)); err != nil {
		s.log.ErrorContext(r.Context(), "card shared", "member", m.ID, "err", err)
		w.WriteHeader(http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// manageReferrals shows the referral report and the settings as YAML to edit.
func (s *Server) manageReferrals(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	st, err := s.opt.Referrals.Settings(r.Context())
	if err != nil {
		return err
	}
	b, _ := yaml.Marshal(st) // plain data
	return s.renderReferrals(w, r, http.StatusOK, string(b), "", "")
}

func (s *Server) renderReferrals(w http.ResponseWriter, r *http.Request, status int, spec, problemText, saved string) error {
	from, to, err := s.reportRange(r)
	if err != nil {
		return err
	}
	rep, err := s.opt.Referrals.Report(r.Context(), from, to)
	if err != nil {
		return err
	}
	list, err := s.opt.Referrals.List(r.Context(), "", 50)
	if err != nil {
		return err
	}
	title := "Referrals"
	if problemText != "" {
		title = "Error: Referrals"
	}
	s.render(w, r, status, "manage_referrals", struct {
		page
		Report         *referral.Report
		Referrals      []referral.Referral
		Spec           string
		Problem, Saved string
	}{s.page(title), rep, list, spec, problemText, saved})
	return nil
}

// manageReferralsSave saves the settings typed as YAML; a mistake comes back
// with the text as typed and what is wrong with it.
func (s *Server) manageReferralsSave(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		return problem.New(problem.BadRequest, "form_unreadable", "The form could not be read.")
	}
	spec := r.PostFormValue("spec")
	st, err := referral.ParseSettings([]byte(spec))
	if err == nil {
		st, err = s.opt.Referrals.Save(r.Context(), st)
	}
	var p *problem.Error
	if errors.As(err, &p) && p.Kind == problem.Invalid {
		msg := p.Message
		if p.Field != "" {
			msg = p.Field + ": " + msg
		}
		return s.renderReferrals(w, r, http.StatusUnprocessableEntity, spec, msg, "")
	}
	if err != nil {
		return err
	}
	b, _ := yaml.Marshal(st)
	return s.renderReferrals(w, r, http.StatusOK, string(b), "", "Saved.")
}
