package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/problem"
)

// DefaultIngestPerMinute is how many batches a client address may send per
// minute with a public (ingest) key: /perk.js sends one every few seconds at
// most, so this only stops a script that copied the key and floods.
const DefaultIngestPerMinute = 600

// registerEvents adds the event stream's routes.
func (s *Server) registerEvents(mux *http.ServeMux, api func(string, auth.Permission, apiHandler)) {
	s.handleV1(mux, "POST /v1/events", auth.EventsWrite, s.ingestAuth(s.postEvents))
	s.handleV1(mux, "OPTIONS /v1/events", "", http.HandlerFunc(s.eventsPreflight))
	api("GET /v1/members/{key}/timeline", auth.MembersRead, s.memberTimeline)
	api("GET /v1/members/{key}/sessions", auth.MembersRead, s.memberSessions)
	api("GET /v1/members/{key}/identity-conflicts", auth.MembersRead, s.memberConflicts)
	api("POST /v1/members/{key}/identify-token", auth.EventsWrite, s.mintIdentifyToken)
	mux.HandleFunc("GET /perk.js", s.perkJS)
}

// ingestAuth authenticates POST /v1/events. A bearer key of any role with
// events:write works; a public ingest key may also come as ?write_key=,
// because navigator.sendBeacon cannot set headers, and only an ingest key
// may, since a URL ends up in logs and histories. Ingest keys are rate
// limited per client address.
func (s *Server) ingestAuth(h apiHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		presented, bearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !bearer {
			presented = r.URL.Query().Get("write_key")
		}
		key, ok := s.authenticate(w, r, presented)
		if !ok {
			return
		}
		switch {
		case !key.Role.Allows(auth.EventsWrite):
			writeError(w, r, s.log, auth.ErrForbidden)
			return
		case !bearer && key.Role != auth.RoleIngest:
			writeError(w, r, s.log, problem.New(problem.Forbidden, "key_in_url",
				"only a public ingest key may be passed as write_key; send other keys in the Authorization header, and revoke this one"))
			return
		}
		if key.Role == auth.RoleIngest {
			if ok, wait := s.ingestRL.allow(key.ID + " " + clientAddr(r)); !ok {
				writeError(w, r, s.log, &retryAfter{p: problem.New(problem.RateLimited, "rate_limited", "too many event batches from this address"), wait: wait})
				return
			}
		}
		if err := h(w, r, key); err != nil {
			writeError(w, r, s.log, err)
		}
	})
}

// eventsPreflight lets a page on the retailer's own domain post JSON with
// fetch; sendBeacon's text/plain needs no preflight.
func (s *Server) eventsPreflight(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Access-Control-Allow-Origin", "*")
	h.Set("Access-Control-Allow-Methods", "POST")
	h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	h.Set("Access-Control-Max-Age", "86400")
	w.WriteHeader(http.StatusNoContent)
}

// postEvents answers 200 with what was kept and each rejected event's index
// and reason: a batch is never all-or-nothing, except that with a public
// key an event naming a member without a good identify token refuses the
// batch (403): that is a claim to be someone, not a data mistake.
func (s *Server) postEvents(w http.ResponseWriter, r *http.Request, key *auth.Key) error {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, event.MaxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &problem.Error{Kind: problem.TooLarge, Code: "body_too_large", Message: "a batch is at most 1 MiB"}
	}
	if err != nil {
		return badJSON("", "request body could not be read")
	}
	in, rejected, err := event.Decode(body, s.opt.Events.Now())
	if err != nil {
		return err
	}
	ingest := s.opt.Events.Ingest
	if key.Role == auth.RoleIngest {
		ingest = s.opt.Events.IngestPublic
	}
	res, err := ingest(r.Context(), in, rejected)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) memberTimeline(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	m, err := s.lookup(r)
	if err != nil {
		return err
	}
	limit, err := limitParam(r, 50)
	if err != nil {
		return err
	}
	page, err := s.opt.Events.Timeline(r.Context(), m.ID, r.URL.Query().Get("cursor"), limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, page)
	return nil
}

// errPublicKeyMints refuses an identify token to a public key: the token is
// the proof a public key lacks, so a key anyone can copy must not make one.
var errPublicKeyMints = problem.New(problem.Forbidden, "public_key_cannot_mint",
	"a public ingest key cannot mint identify tokens; call from your backend with a secret key")

// mintIdentifyToken issues an identify token for a member to a retailer's
// backend (its signed-in shopper), which hands it to its page's
// perk.identify(token) or its app, so the browser can be tied to the member
// with the public key. A secret key with events:write can already name the
// member in events itself, so minting grants it nothing new.
func (s *Server) mintIdentifyToken(w http.ResponseWriter, r *http.Request, key *auth.Key) error {
	if key.Role == auth.RoleIngest {
		return errPublicKeyMints
	}
	m, err := s.lookup(r)
	if err != nil {
		return err
	}
	token, expires, err := s.opt.Events.IssueIdentifyToken(r.Context(), m.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"member_id": m.ID, "identify_token": token, "expires_at": expires})
	return nil
}

func (s *Server) memberSessions(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	m, err := s.lookup(r)
	if err != nil {
		return err
	}
	limit, err := limitParam(r, 20)
	if err != nil {
		return err
	}
	sessions, err := s.opt.Events.Sessions(r.Context(), m.ID, limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": sessions})
	return nil
}

func (s *Server) memberConflicts(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	m, err := s.lookup(r)
	if err != nil {
		return err
	}
	cs, err := s.opt.Events.Conflicts(r.Context(), m.ID)
	if err != nil {
		return err
	}
	if cs == nil {
		cs = []event.Conflict{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"conflicts": cs})
	return nil
}

func limitParam(r *http.Request, def int) (int, error) {
	v := r.URL.Query().Get("limit")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > 500 {
		return 0, problem.InvalidField("limit", "limit_invalid", nil, "limit is a whole number from 1 to 500")
	}
	return n, nil
}

// perkJSMaxAge lets browsers keep the script an hour, like the other assets.
const perkJSMaxAge = time.Hour

// perkJS serves the embedded script at the root, where pages expect it.
func (s *Server) perkJS(w http.ResponseWriter, r *http.Request) {
	js, err := staticFS.ReadFile("static/perk.js")
	if err != nil {
		writeError(w, r, s.log, err)
		return
	}
	w.Header().Set("Content-Type", "text/javascript; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age="+strconv.Itoa(int(perkJSMaxAge.Seconds())))
	w.Write(js)
}

// eventFuncs are the template functions of the event pages (events.html).
func eventFuncs() template.FuncMap {
	return template.FuncMap{
		// mergeText tells an identity merge as a sentence.
		"mergeText": func(e event.Event) string {
			var p struct {
				AnonymousID string `json:"anonymous_id"`
				Via         string `json:"via"`
				Moved       int    `json:"events_moved"`
			}
			json.Unmarshal(e.Properties, &p)
			via := map[string]string{event.ViaSMSLink: "an SMS link", event.ViaCard: "the card page", event.ViaJoin: "signing up",
				event.ViaIdentify: "the app or site identifying them", event.ViaTillOrder: "an online order collected at a till"}[p.Via]
			if via == "" {
				via = p.Via
			}
			short := p.AnonymousID
			if len(short) > 8 {
				short = short[:8] + "…"
			}
			return fmt.Sprintf("Browser %s became this member on %s via %s (%d earlier events moved)", short, e.Time.Format("2 Jan"), via, p.Moved)
		},
		"barWidth": func(n, of int) int {
			if of <= 0 {
				return 0
			}
			return 300 * n / of
		},
		"seconds": func(s *int64) string { return (time.Duration(*s) * time.Second).String() },
	}
}

// memberEvents is the member page's stream section.
type memberEvents struct {
	Timeline  []event.Event
	Sessions  []event.Session
	Conflicts []event.Conflict
}

// memberStream reads the member page's section; nil without an event stream.
func (s *Server) memberStream(ctx context.Context, memberID string) (*memberEvents, error) {
	if s.opt.Events == nil {
		return nil, nil
	}
	page, err := s.opt.Events.Timeline(ctx, memberID, "", 50)
	if err != nil {
		return nil, err
	}
	sessions, err := s.opt.Events.Sessions(ctx, memberID, 10)
	if err != nil {
		return nil, err
	}
	conflicts, err := s.opt.Events.Conflicts(ctx, memberID)
	if err != nil {
		return nil, err
	}
	return &memberEvents{Timeline: page.Events, Sessions: sessions, Conflicts: conflicts}, nil
}
