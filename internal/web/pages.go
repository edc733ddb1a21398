package web

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/barcode"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/links"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/money"
	"github.com/perk-platform/perk/internal/phone"
	"github.com/perk-platform/perk/internal/problem"
)

// templateFuncs are the pages' functions; money is shown in cur.
func templateFuncs(cur money.Currency) template.FuncMap {
	return template.FuncMap{
		// spaced prints a code as "9638 5074": easier to read out and key in.
		"spaced": func(c member.Code) string {
			if len(c) != member.CodeLen {
				return string(c)
			}
			return string(c[:4]) + " " + string(c[4:])
		},
		// lastDay is the last day an offer ending (exclusively) at t can be
		// used, in the shopper's zone: an offer ending at midnight on 1 December
		// runs "until 30 November".
		// money shows an amount in minor units with the programme currency's
		// symbol and decimals ("£12.05", "¥1205").
		"money": cur.Format,
		// moneyf formats a computed amount (an average, an interval end) in
		// minor units, rounded to the nearest minor unit for display only.
		"moneyf": func(v float64) string { return cur.Format(int64(math.Round(v))) },
		// pct and pp show a share and a difference of shares.
		"pct": func(v any) string {
			switch x := v.(type) {
			case float64:
				return fmt.Sprintf("%.1f%%", 100*x)
			case *float64:
				if x != nil {
					return fmt.Sprintf("%.1f%%", 100**x)
				}
			}
			return "–"
		},
		"pp": func(v float64) string { return fmt.Sprintf("%+.1f pts", 100*v) },
		// kinds are the benefit kinds the simple campaign form offers.
		"kinds": func() map[string]string {
			return map[string]string{
				"percent_off": "Percent off", "amount_off": "Amount off", "fixed_price": "Fixed price",
				"buy_x_get_y": "Buy X get Y free", "spend_threshold": "Spend X, get Y off",
				"points_bonus": "Bonus points", "points_per_unit": "Points per unit spent", "points_multiplier": "Points multiplier", "free_content": "Free content from a pool",
			}
		},
		// audiences and periods are the campaign form's choices.
		"audiences": func() map[string]string {
			return map[string]string{"all": "All members", "open": "Everyone, members or not",
				"filter": "Members who match the fields below", "list": "An uploaded list (API)"}
		},
		"periods": func() []string { return []string{"", "day", "week", "month"} },
		"add":     func(a, b int) int { return a + b },
		"lastDay": func(t time.Time, loc *time.Location) string {
			return t.Add(-time.Nanosecond).In(loc).Format("2 January")
		},
	}
}

// page is the data every page template gets.
type page struct {
	Title     string
	Programme string
	Lang      string // <html lang>: the programme's locale (BCP 47)
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, data any) {
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, name, data); err != nil {
		s.log.ErrorContext(r.Context(), "render page", "template", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (s *Server) page(title string) page {
	return page{Title: title, Programme: s.opt.Programme, Lang: s.opt.Locale}
}

func (s *Server) message(w http.ResponseWriter, r *http.Request, status int, title, msg string) {
	s.render(w, r, status, "message", struct {
		page
		Message string
	}{s.page(title), msg})
}

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "home", s.page("Welcome"))
}

// joinForm is what the sign-up form holds, echoed back on errors.
type joinForm struct {
	Phone, FirstName, LastName string
	Campaign                   string // from /join?campaign=..., carried by the form into the consent log
	Ref                        string // from /join?ref=..., a friend's referral code
	Consent                    bool
}

type joinData struct {
	page
	Form    joinForm
	Errors  map[string]string // by field name
	Problem string            // what went wrong with the whole form (too many sign-ups)
	Wording string
	Invite  string // what the page says about the referral code it was opened with
}

func (s *Server) joinForm(w http.ResponseWriter, r *http.Request) {
	data := joinData{page: s.page("Join"), Wording: s.opt.ConsentWording, Form: joinForm{Campaign: r.URL.Query().Get("campaign")}}
	if ref := r.URL.Query().Get("ref"); ref != "" && s.opt.Referrals != nil {
		data.Form.Ref, data.Invite = s.invitation(r.Context(), ref, anonymousID(w, r))
	}
	s.render(w, r, http.StatusOK, "join", data)
}

// joinAgain shows the form again with what the shopper typed and what is
// wrong with it; the title says so first, which is what a screen reader
// announces when the page loads.
func (s *Server) joinAgain(w http.ResponseWriter, r *http.Request, status int, data joinData) {
	data.page = s.page("Error: Join")
	s.render(w, r, status, "join", data)
}

func (s *Server) joinSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	if err := r.ParseForm(); err != nil {
		s.message(w, r, http.StatusBadRequest, "Something went wrong", "The form could not be read. Please try again.")
		return
	}
	f := joinForm{
		Phone: strings.TrimSpace(r.PostFormValue("phone")), FirstName: r.PostFormValue("first_name"),
		LastName: r.PostFormValue("last_name"), Consent: r.PostFormValue("consent") == "yes",
		Campaign: strings.TrimSpace(r.PostFormValue("campaign")), Ref: strings.TrimSpace(r.PostFormValue("ref")),
	}
	data := joinData{Form: f, Wording: s.opt.ConsentWording, Errors: map[string]string{}}
	if ok, wait := s.joinRL.allow(clientAddr(r)); !ok {
		// The form comes back as typed: the shopper waits and presses
		// Join again rather than typing it all a second time.
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		data.Problem = "Too many sign-ups from your connection. Please wait a minute and press Join again."
		s.joinAgain(w, r, http.StatusTooManyRequests, data)
		return
	}
	if f.Phone == "" {
		data.Errors["phone"] = "Enter your mobile number."
	} else if _, err := phone.Parse(f.Phone, s.members.Region()); err != nil {
		// Checked here too so that every mistake is shown at once.
		data.Errors["phone"] = phoneMessage(err)
	}
	if !f.Consent {
		data.Errors["consent"] = "Tick the box to agree to receive your card and offers by SMS."
	}
	if len(data.Errors) > 0 {
		s.joinAgain(w, r, http.StatusUnprocessableEntity, data)
		return
	}
	e, err := s.members.Enrol(r.Context(), member.EnrolRequest{
		// The page is in the programme's language: so are the member's texts.
		Profile: member.Profile{Phone: f.Phone, FirstName: f.FirstName, LastName: f.LastName, Locale: s.members.Locale()},
		Channel: member.ChannelWeb, Source: "join form", Consent: true, DoubleOptIn: s.opt.DoubleOptIn,
		SourceAddress: clientAddr(r), Campaign: f.Campaign, Referral: f.Ref,
		// Ties this browser to the member only if the sign-up creates one:
		// typing someone else's number must not take over their timeline.
		AnonymousID: anonymousID(w, r),
	})
	var p *problem.Error
	if errors.As(err, &p) && p.Kind == problem.Invalid {
		data.Errors[p.Field] = fieldMessage(p)
		s.joinAgain(w, r, http.StatusUnprocessableEntity, data)
		return
	}
	if err != nil {
		s.log.ErrorContext(r.Context(), "web sign-up", "err", err)
		s.message(w, r, http.StatusInternalServerError, "Something went wrong", "We could not sign you up just now. Please try again in a moment.")
		return
	}
	outcome := "existing"
	if e.Created {
		outcome = "created" // the welcome text carries the card
	} else if _, err := s.members.SendCard(r.Context(), e.Member.ID); err != nil {
		s.log.ErrorContext(r.Context(), "web sign-up: send card", "err", err)
	}
	s.metrics.enrolments.WithLabelValues(string(member.ChannelWeb), outcome).Inc()
	// Whoever typed the number sees the same page whether it was a member
	// or not, and never the card: the card goes by text to that phone only.
	s.render(w, r, http.StatusOK, "joined", struct {
		page
		Phone       string
		DoubleOptIn bool
		Referral    string
	}{s.page("Check your phone"), phone.Mask(string(e.Member.Phone)), s.opt.DoubleOptIn, joinedReferral(e.Referral)})
}

// fieldMessage words a validation problem for a shopper.
func fieldMessage(p *problem.Error) string {
	if p.Field == "phone" {
		return phoneMessage(p)
	}
	if label, ok := joinLabels[p.Field]; ok {
		return label + " " + p.Message + "."
	}
	return strings.ToUpper(p.Message[:1]) + p.Message[1:] + "."
}

func phoneMessage(err error) string {
	reason := err.Error()
	var p *problem.Error
	if errors.As(err, &p) {
		reason = p.Message
	}
	return "That is not a mobile number we can text (" + reason + "). Check it and try again."
}

// joinConfirm completes a double opt-in from the link in the SMS. Whoever
// opens it holds the phone, so the welcome page may lead to the card.
func (s *Server) joinConfirm(w http.ResponseWriter, r *http.Request) {
	m, err := s.members.ConfirmOptIn(r.Context(), r.PathValue("token"))
	ok := err == nil
	status := http.StatusOK
	if !ok {
		if !errors.Is(err, member.ErrTokenNotFound) {
			s.log.ErrorContext(r.Context(), "confirm opt-in", "err", err)
		}
		status = http.StatusNotFound
	}
	var card string
	if ok {
		if card, err = s.members.CardToken(r.Context(), m.ID); err != nil {
			// Subscribed all the same; the card link is in the welcome text.
			s.log.ErrorContext(r.Context(), "confirm opt-in: card link", "member", m.ID, "err", err)
		}
	}
	s.render(w, r, status, "confirmed", struct {
		page
		OK        bool
		CardToken string
	}{s.page("Confirm"), ok, card})
}

func (s *Server) cardPage(w http.ResponseWriter, r *http.Request) {
	m, err := s.members.ByCardToken(r.Context(), r.PathValue("token"))
	if err != nil {
		if !errors.Is(err, member.ErrNotFound) {
			s.log.ErrorContext(r.Context(), "card page", "err", err)
		}
		s.message(w, r, http.StatusNotFound, "Card not found", "This card link is not valid. It may have been replaced by a newer one: text CARD to get yours.")
		return
	}
	// The barcode is an <img> of the SVG inlined as a data: URL: one image
	// with alt text naming the code for screen readers, and no second
	// request to fail on a weak signal at the till.
	var svg bytes.Buffer
	if err := barcode.SVG(&svg, string(m.Code), s.opt.Symbology); err != nil {
		s.log.ErrorContext(r.Context(), "card barcode", "member", m.ID, "err", err)
	}
	img := template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(svg.Bytes()))
	if err := s.members.RecordCardVisit(r.Context(), m.ID, anonymousID(w, r)); err != nil {
		// The shopper at the till matters more than the history line.
		s.log.ErrorContext(r.Context(), "card visit", "member", m.ID, "err", err)
	}
	var wallet *checkout.Wallet
	if s.opt.Checkout != nil {
		// The card still shows without points and offers if they fail: the
		// barcode is what the shopper needs at the till.
		wallets := walletSource(s.opt.Checkout)
		if s.opt.NBO != nil {
			wallets = s.opt.NBO // the same offers, best first
		}
		if wallet, err = wallets.Wallet(r.Context(), m); err != nil {
			s.log.ErrorContext(r.Context(), "card wallet", "member", m.ID, "err", err)
		}
	}
	var share *cardReferral
	if s.opt.Referrals != nil && m.Status != member.StatusErased {
		// Like the wallet: the card shows without it if it fails.
		if share, err = s.cardReferral(r.Context(), m, r.PathValue("token")); err != nil {
			s.log.ErrorContext(r.Context(), "card referral", "member", m.ID, "err", err)
		}
	}
	w.Header().Set("Cache-Control", "private, no-store")
	s.render(w, r, http.StatusOK, "card", struct {
		page
		Member        *member.Member
		Barcode       template.URL // a data: URL of the SVG package barcode made
		Wallet        *checkout.Wallet
		Zone          *time.Location
		IdentifyToken string // for /perk.js on the page, if a retailer's page embeds it
		Referral      *cardReferral
	}{s.page("Your card"), m, img, wallet, memberZone(m), s.identifyToken(r, m.ID), share})
}

// walletSource gives a member's wallet: the checkout's, or the next best
// offer's, which orders the same offers by its ranking.
type walletSource interface {
	Wallet(ctx context.Context, m *member.Member) (*checkout.Wallet, error)
}

// memberZone is the member's time zone for dates on their pages.
func memberZone(m *member.Member) *time.Location {
	if m.TimeZone != "" {
		if loc, err := time.LoadLocation(m.TimeZone); err == nil {
			return loc
		}
	}
	return time.UTC
}

// cardBarcode serves the card's barcode on its own, for wallets and printing.
func (s *Server) cardBarcode(w http.ResponseWriter, r *http.Request) {
	m, err := s.members.ByCardToken(r.Context(), r.PathValue("token"))
	if err != nil {
		http.NotFound(w, r)
		return
	}
	if err := writeBarcode(w, string(m.Code), s.opt.Symbology, "svg"); err != nil {
		s.log.ErrorContext(r.Context(), "card barcode", "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
	}
}

// followLink records the click on a tracked link and sends the shopper on.
func (s *Server) followLink(w http.ResponseWriter, r *http.Request) {
	target, memberID, err := s.opt.Links.Follow(r.Context(), r.PathValue("code"), anonymousID(w, r))
	if err != nil {
		if !errors.Is(err, links.ErrNotFound) {
			s.log.ErrorContext(r.Context(), "follow link", "err", err)
		}
		s.message(w, r, http.StatusNotFound, "Link not found", "This link is not valid. It may have been mistyped.")
		return
	}
	w.Header().Set("Cache-Control", "no-store") // every click must reach us to be counted
	http.Redirect(w, r, withIdentifyToken(target, s.identifyToken(r, memberID)), http.StatusFound)
}

// identifyToken is a token that lets /perk.js identify this browser as
// member through a public key (event.IdentifyToken); "" without an event
// stream or a member.
func (s *Server) identifyToken(r *http.Request, memberID string) string {
	if s.opt.Events == nil || memberID == "" {
		return ""
	}
	t, err := s.opt.Events.IdentifyToken(r.Context(), memberID)
	if err != nil {
		s.log.ErrorContext(r.Context(), "identify token", "member", memberID, "err", err)
		return ""
	}
	return t
}

// withIdentifyToken adds token to target's query as perk_it, which /perk.js
// on the page the link opens reads and sends with perk.identify: the shop's
// site then knows the shopper as the member the text went to.
func withIdentifyToken(target, token string) string {
	if token == "" {
		return target
	}
	u, err := url.Parse(target)
	if err != nil {
		return target
	}
	q := u.Query()
	q.Set("perk_it", token)
	u.RawQuery = q.Encode()
	return u.String()
}
