package web

import (
	"encoding/json"
	"errors"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/report"
	"github.com/perk-platform/perk/internal/variance"
)

// The campaign manager pages (/manage/...) are the operator's forms over
// the same campaign service as the API and `perk campaigns apply`. Operators
// sign in with email and password (auth.Service.Login) for a 12-hour session
// whose token is in the perk_session cookie; forms are protected from
// cross-site posts by http.CrossOriginProtection.
//
// The cookie is SameSite=Lax, not Strict: a link to a campaign page in an
// e-mail or a chat then opens signed in, and Lax still keeps the cookie off
// every cross-site POST and sub-request. Every page that changes something
// is a POST, which CrossOriginProtection also refuses from another origin,
// so Strict would add nothing but signing in again from such links.
//
// Cookies are Secure when the request came over TLS or the public URL
// (--public-url) is https: behind a proxy that terminates TLS, Perk sees
// plain HTTP, but browsers speak https and must not send the session in
// the clear.
//
// Each sign-in also gives the browser a device token (perk_device, sent to
// the sign-in form only), which lets the operator's own browser sign in
// while strangers' guesses make unknown devices wait (auth.Client.Devices).

const sessionCookie = "perk_session"

// deviceCookie holds the browser's device tokens, one per operator who
// signed in on it; it outlives sessions and sign-outs.
const deviceCookie = "perk_device"

// legacyKeyCookie held an API key before operator accounts; it is cleared on
// sign-in and sign-out.
const legacyKeyCookie = "perk_key"

// managerHome is where a sign-in goes when it was not asked for a page.
const managerHome = "/manage/"

// loginPage is the sign-in form's data.
type loginPage struct {
	page
	Next, Email, Error string
}

// pageHandler is a dashboard page, the pages' apiHandler: it returns an
// error instead of writing one, so every failure goes through pageError. op
// is the signed-in operator.
type pageHandler func(w http.ResponseWriter, r *http.Request, op *auth.Operator) error

// operatorPage runs h for an operator signed in on this browser whose role
// allows perm. If no one is signed in it sends the sign-in page (401); if the
// operator's role lacks perm, a page saying so (403).
func (s *Server) operatorPage(perm auth.Permission, h pageHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op, err := s.signedIn(r)
		switch {
		case err != nil:
			s.pageError(w, r, err)
		case op == nil:
			next := managerPath(r.URL.RequestURI())
			if r.Method != http.MethodGet {
				next = "/manage/campaigns" // a form posted after the session ended is not replayed
			}
			s.render(w, r, http.StatusUnauthorized, "manage_login", loginPage{page: s.page("Sign in"), Next: next})
		case !op.Role.Allows(perm):
			s.render(w, r, http.StatusForbidden, "manage_forbidden", struct {
				page
				Operator *auth.Operator
				Perm     auth.Permission
			}{s.page("Not allowed"), op, perm})
		default:
			if err := h(w, r, op); err != nil {
				s.pageError(w, r, err)
			}
		}
	})
}

// signedIn returns the operator whose session the browser holds, or nil if
// it holds none or one that ended.
func (s *Server) signedIn(r *http.Request) (*auth.Operator, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return nil, nil
	}
	op, err := s.keys.Session(r.Context(), c.Value)
	if err != nil {
		if problem.KindOf(err) == problem.Unauthorized {
			return nil, nil
		}
		return nil, err
	}
	return op, nil
}

// formError is a campaign form that could not be saved: pageError shows the
// form again, as typed, with the error beside its field. id is the
// campaign's ("" for a new one).
type formError struct {
	id   string
	form *campaignForm
	err  error
}

func (e *formError) Error() string { return e.err.Error() }
func (e *formError) Unwrap() error { return e.err }

// actionError is a campaign action (launch, pause ...) that failed:
// pageError shows the campaign's page with the error as its notice.
type actionError struct{ err error }

func (e *actionError) Error() string { return e.err.Error() }
func (e *actionError) Unwrap() error { return e.err }

// pageError answers a dashboard page's failure, with the status the API
// would give it (statusOf): a form's with the form again (formError), a
// campaign action's with the campaign's page (actionError), anything else
// with a message page. Internal errors are logged; the page says only that
// something went wrong.
func (s *Server) pageError(w http.ResponseWriter, r *http.Request, err error) {
	k := problem.KindOf(err)
	var fe *formError
	var ae *actionError
	switch {
	case errors.As(err, &fe):
		s.renderForm(w, r, statusOf(k), fe.id, fe.form, fe.err)
	case errors.As(err, &ae) && k != problem.Internal:
		if err := s.showCampaign(w, r, statusOf(k), ae.err.Error(), nil); err != nil {
			s.pageError(w, r, err)
		}
	case k == problem.Internal:
		s.log.ErrorContext(r.Context(), "manager page", "route", r.Pattern, "err", err)
		s.message(w, r, http.StatusInternalServerError, "Something went wrong", "Please try again.")
	default:
		s.message(w, r, statusOf(k), "Not possible", err.Error())
	}
}

// managerPath is next if it is a clean local path under /manage/, with a
// query if any, else managerHome: it must start with /manage/, hold only
// printable ASCII without a backslash or a fragment, and its path, decoded,
// must have no empty, "." or ".." segment, so that no browser can read it
// as another site or resolve it outside /manage/.
func managerPath(next string) string {
	if len(next) > 2048 || !strings.HasPrefix(next, managerHome) {
		return managerHome
	}
	for i := 0; i < len(next); i++ {
		if c := next[i]; c <= ' ' || c >= 0x7f || c == '\\' || c == '#' {
			return managerHome
		}
	}
	p, _, _ := strings.Cut(next, "?")
	dec, err := url.PathUnescape(p)
	if err != nil || !strings.HasPrefix(dec, managerHome) || strings.Contains(dec, "//") ||
		strings.IndexFunc(dec, func(r rune) bool { return r < ' ' || r == 0x7f || r == '\\' }) >= 0 {
		return managerHome
	}
	for _, seg := range strings.Split(dec, "/") {
		if seg == "." || seg == ".." {
			return managerHome
		}
	}
	return next
}

// secureCookies reports whether cookies must be Secure: over TLS, or when
// the public URL is https (TLS ended at a proxy in front).
func (s *Server) secureCookies(r *http.Request) bool {
	return r.TLS != nil || s.members != nil && strings.HasPrefix(strings.ToLower(s.members.PublicURL()), "https://")
}

// sessionCookieOf is the cookie that carries a session token; an empty token
// makes the cookie that deletes it.
func (s *Server) sessionCookieOf(r *http.Request, token string) *http.Cookie {
	c := &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: s.secureCookies(r),
		SameSite: http.SameSiteLaxMode, MaxAge: int(auth.SessionTTL / time.Second)}
	if token == "" {
		c.MaxAge = -1
	}
	return c
}

// deviceCookieOf is the cookie that carries the browser's device tokens,
// sent back only to the sign-in form.
func (s *Server) deviceCookieOf(r *http.Request, devices string) *http.Cookie {
	return &http.Cookie{Name: deviceCookie, Value: devices, Path: "/manage/login", HttpOnly: true, Secure: s.secureCookies(r),
		SameSite: http.SameSiteStrictMode, MaxAge: int(auth.DeviceTTL / time.Second)}
}

func (s *Server) clearLegacyKey(w http.ResponseWriter, r *http.Request) {
	if _, err := r.Cookie(legacyKeyCookie); err == nil {
		http.SetCookie(w, &http.Cookie{Name: legacyKeyCookie, Path: "/manage/", MaxAge: -1, HttpOnly: true, Secure: s.secureCookies(r),
			SameSite: http.SameSiteStrictMode})
	}
}

func (s *Server) manageLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	email := strings.TrimSpace(r.PostFormValue("email"))
	next := managerPath(r.PostFormValue("next"))
	data := loginPage{page: s.page("Sign in"), Next: next, Email: email}
	client := auth.Client{Addr: clientAddr(r), UserAgent: r.UserAgent()}
	if c, err := r.Cookie(deviceCookie); err == nil {
		client.Devices = c.Value
	}
	in, err := s.keys.Login(r.Context(), email, r.PostFormValue("password"), client)
	var throttled *auth.ThrottledError
	switch {
	case errors.As(err, &throttled):
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(throttled.RetryAfter.Seconds()))))
		data.Error = "Too many failed sign-in attempts for this account or from your connection. Please wait " +
			plural(throttled.Minutes(), "minute") + " and try again, or sign in from a browser you have used here before."
		s.log.WarnContext(r.Context(), "sign-in throttled", "addr", clientAddr(r), "device_cookie", client.Devices != "")
		s.render(w, r, http.StatusTooManyRequests, "manage_login", data)
		return
	case problem.KindOf(err) == problem.Unauthorized:
		data.Error = "That email and password do not match an active operator account."
		s.log.InfoContext(r.Context(), "sign-in failed", "addr", clientAddr(r))
		s.render(w, r, http.StatusUnauthorized, "manage_login", data)
		return
	case err != nil:
		s.pageError(w, r, err)
		return
	}
	// A session the browser already had (another operator's) ends here.
	if c, err := r.Cookie(sessionCookie); err == nil {
		s.keys.Logout(r.Context(), c.Value)
	}
	s.log.InfoContext(r.Context(), "operator signed in", "operator", in.Operator.ID, "role", in.Operator.Role)
	s.clearLegacyKey(w, r)
	http.SetCookie(w, s.sessionCookieOf(r, in.Token))
	http.SetCookie(w, s.deviceCookieOf(r, in.Devices))
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

// manageLogout ends the session (POST only, behind CrossOriginProtection,
// so another site cannot sign an operator out).
func (s *Server) manageLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		if err := s.keys.Logout(r.Context(), c.Value); err != nil {
			s.pageError(w, r, err)
			return
		}
	}
	s.clearLegacyKey(w, r)
	http.SetCookie(w, s.sessionCookieOf(r, ""))
	http.Redirect(w, r, "/manage/campaigns", http.StatusSeeOther)
}

func (s *Server) manageCampaign(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	return s.showCampaign(w, r, http.StatusOK, "", nil)
}

// showCampaign renders the campaign page of the path's id with a notice
// (an action's outcome) and a simulation, if any.
func (s *Server) showCampaign(w http.ResponseWriter, r *http.Request, status int, notice string, sim *checkout.Simulation) error {
	ctx := r.Context()
	c, err := s.opt.Campaigns.Get(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	pv, err := s.opt.Campaigns.Preview(ctx, c.ID, 10)
	if err != nil {
		return err
	}
	var live *liveData
	if c.Launched() && s.opt.Reports != nil {
		if live, err = s.campaignLive(r, c.ID); err != nil {
			return err
		}
	}
	js, _ := json.MarshalIndent(c.Spec, "", "  ")
	s.render(w, r, status, "manage_campaign", struct {
		page
		C       *campaign.Campaign
		Preview *campaign.Preview
		Sim     *checkout.Simulation
		Spec    string
		Notice  string
		Live    *liveData
	}{s.page(c.Spec.Name), c, pv, sim, string(js), notice, live})
	return nil
}

// manageAction runs launch, pause, resume, simulate or delete from the
// campaign page's buttons.
func (s *Server) manageAction(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	ctx, id := r.Context(), r.PathValue("id")
	var err error
	notice := ""
	switch r.PathValue("action") {
	case "launch":
		var l *campaign.Launched
		if l, err = s.opt.Campaigns.Launch(ctx, id); err == nil {
			notice = "Launched: " + strconv.FormatInt(l.Audience, 10) + " members, " + strconv.FormatInt(l.Control, 10) +
				" held back, " + strconv.FormatInt(l.Announced, 10) + " announcements queued."
		}
	case "pause":
		_, err = s.opt.Campaigns.Pause(ctx, id)
		notice = "Paused: the tills no longer apply it."
	case "resume":
		_, err = s.opt.Campaigns.Resume(ctx, id)
		notice = "Resumed."
	case "simulate":
		days, _ := strconv.Atoi(r.PostFormValue("days"))
		if days == 0 {
			days = 28
		}
		var sim *checkout.Simulation
		if sim, err = s.opt.Checkout.Simulate(ctx, id, days); err == nil {
			return s.showCampaign(w, r, http.StatusOK, "", sim)
		}
	case "delete":
		if err = s.opt.Campaigns.Delete(ctx, id); err == nil {
			http.Redirect(w, r, "/manage/campaigns", http.StatusSeeOther)
			return nil
		}
	default:
		return problem.New(problem.NotFound, "no_such_action", "There is no such thing to do with a campaign.")
	}
	if err != nil {
		return &actionError{err}
	}
	return s.showCampaign(w, r, http.StatusOK, notice, nil)
}

// manageOverview is the dashboard's front page.
func (s *Server) manageOverview(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	o, err := report.ProgrammeOverview(r.Context(), s.db, s.opt.Now(), s.opt.Campaigns.Zone(), 14)
	if err != nil {
		return err
	}
	labels := make([]string, len(o.NewByDay))
	totals := make([]int64, len(o.NewByDay))
	for i, d := range o.NewByDay {
		labels[i], totals[i] = d.Day[8:], d.Total
	}
	var alerts []variance.Alert
	if s.varianceUI {
		if alerts, err = s.opt.Variance.AllOpenAlerts(r.Context()); err != nil {
			return err
		}
	}
	s.render(w, r, http.StatusOK, "manage_overview", struct {
		page
		O      *report.Overview
		Alerts []variance.Alert
		Chart  template.HTML
	}{s.page("Overview"), o, alerts, barChart("New members per day, last 14 days", labels, Series{Name: "new members", Values: totals, Class: "s1"})})
	return nil
}
