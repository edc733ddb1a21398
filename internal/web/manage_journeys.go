package web

import (
	"bytes"
	"fmt"
	"hash/fnv"
	"html/template"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/journey"
)

// registerJourneyPages adds the dashboard's journey pages. Every figure on
// them is journey.Service.Counts, the function GET
// /v1/journeys/{name}/counts and perk journeys counts answer with, so the
// three never disagree.
func (s *Server) registerJourneyPages(page func(string, auth.Permission, pageHandler)) {
	page("GET /manage/journeys", auth.CampaignsRead, s.manageJourneys)
	page("GET /manage/journeys/{name}", auth.CampaignsRead, s.manageJourney)
	page("GET /manage/journeys/{name}/live", auth.CampaignsRead, s.manageJourneyLive)
}

// journeyRow is a journey in the list: its definition and its counts.
type journeyRow struct {
	J *journey.Journey
	R *journey.Report
}

func (s *Server) manageJourneys(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	list, err := s.opt.Journeys.List(r.Context())
	if err != nil {
		return err
	}
	rows := make([]journeyRow, 0, len(list))
	for i := range list {
		rep, err := s.opt.Journeys.Counts(r.Context(), list[i].Name)
		if err != nil {
			return err
		}
		rows = append(rows, journeyRow{&list[i], rep})
	}
	s.render(w, r, http.StatusOK, "manage_journeys", struct {
		page
		Journeys []journeyRow
	}{s.page("Journeys"), rows})
	return nil
}

// journeyPanel is the part of a journey's page that live refresh redraws.
type journeyPanel struct {
	J        *journey.Journey
	R        *journey.Report
	Versions []journeyVersion
	AsOf     time.Time
}

// journeyVersion is one version's steps with their counts, in step order.
type journeyVersion struct {
	journey.VersionCount
	Current bool
	Steps   []journey.StepCount
}

func (s *Server) journeyPanel(r *http.Request) (*journeyPanel, error) {
	j, err := s.opt.Journeys.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		return nil, err
	}
	rep, err := s.opt.Journeys.Counts(r.Context(), j.Name)
	if err != nil {
		return nil, err
	}
	byVersion := map[int]*journeyVersion{}
	var order []int
	at := func(v int) *journeyVersion {
		if byVersion[v] == nil {
			byVersion[v] = &journeyVersion{VersionCount: journey.VersionCount{Version: v}, Current: v == rep.Version}
			order = append(order, v)
		}
		return byVersion[v]
	}
	for _, vc := range rep.Versions {
		at(vc.Version).VersionCount = vc
	}
	for _, st := range rep.Steps {
		v := at(st.Version)
		v.Steps = append(v.Steps, st)
	}
	// The current version first: it is the one members enter now.
	sort.Slice(order, func(a, b int) bool { return order[a] > order[b] })
	p := &journeyPanel{J: j, R: rep, AsOf: s.opt.Now().UTC()}
	for _, v := range order {
		p.Versions = append(p.Versions, *byVersion[v])
	}
	return p, nil
}

func (s *Server) manageJourney(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	p, err := s.journeyPanel(r)
	if err != nil {
		return err
	}
	_, shown, err := s.renderJourneyPanel(p)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "manage_journey", struct {
		page
		P     *journeyPanel
		Shown string
	}{s.page("Journey " + p.J.Name), p, shown})
	return nil
}

// renderJourneyPanel renders the panel and names what it shows: a hash of
// the rendering without its time, so the live feed sends a page only what
// differs from what it has (a redraw as the page opens would replace the
// panel under the operator's eyes, and under a test's, for nothing).
func (s *Server) renderJourneyPanel(p *journeyPanel) (html, shown string, err error) {
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, "journey_panel", p); err != nil {
		return "", "", fmt.Errorf("journey panel: %w", err)
	}
	html = buf.String()
	h := fnv.New64a()
	h.Write([]byte(strings.Replace(html, p.AsOf.Format(journeyAsOf), "", 1)))
	return html, strconv.FormatUint(h.Sum64(), 36), nil
}

// journeyRefresh is how often an open journey page is redrawn: its
// members move on timers and on events, neither of which tells the page.
const journeyRefresh = 5 * time.Second

// manageJourneyLive streams the journey page's panel as server-sent events,
// as the campaign page's live panel is: a rendering every journeyRefresh,
// sent only when it differs from the last one sent, or at first from the
// one the page shows (?shown=, renderJourneyPanel's name for it).
func (s *Server) manageJourneyLive(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	p, err := s.journeyPanel(r)
	if err != nil {
		return err // before the stream begins: an answer of its own
	}
	s.streamPanel(w, r, journeyRefresh, r.URL.Query().Get("shown"), nil, func() (string, func() (string, error), error) {
		if p == nil { // every pass but the first, whose panel is read above
			if p, err = s.journeyPanel(r); err != nil {
				return "", nil, err
			}
		}
		html, key, err := s.renderJourneyPanel(p)
		p = nil
		return key, func() (string, error) { return html, nil }, err
	})
	return nil
}

// journeyAsOf is how the panel writes the time of its figures.
const journeyAsOf = "2 Jan 2006 15:04:05 MST"

// heldLabels say the contact policy's reasons as an operator reads them.
var heldLabels = map[string]string{
	"quiet_hours":     "quiet hours",
	"capped":          "frequency cap",
	"opted_out":       "opted out",
	"priority":        "a campaign of higher priority",
	"campaign_paused": "campaign paused",
	"campaign_ended":  "campaign ended",
	"too_late":        "too late to arrive",
}

// messageState says a step's message state ("queued: quiet_hours") as
// "queued, held for quiet hours". The queue keeps the reason of a hold once
// the message has gone: "sent: quiet_hours" is "sent after a hold for
// quiet hours".
func messageState(k string) string {
	status, reason, ok := strings.Cut(k, ": ")
	if !ok {
		return k
	}
	if l, known := heldLabels[reason]; known {
		reason = l
	}
	switch status {
	case "queued", "sending", "held":
		return status + ", held for " + reason
	}
	return status + " after a hold for " + reason
}

func journeyFuncs() template.FuncMap {
	return template.FuncMap{"messageState": messageState, "journeyAsOf": func(t time.Time) string { return t.Format(journeyAsOf) },
		"inc": func(i int) int { return i + 1 }, "mul100": func(f float64) float64 { return 100 * f }}
}
