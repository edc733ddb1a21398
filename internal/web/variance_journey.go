package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strconv"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/journey"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/variance"
)

// registerJourneyVariance adds a journey's live variance page, its stream
// and its corrections (stop, launch again).
func (s *Server) registerJourneyVariance(page, form func(string, auth.Permission, pageHandler)) {
	page("GET /manage/journeys/{name}/variance", auth.CampaignsRead, s.manageJourneyVariance)
	page("GET /manage/journeys/{name}/variance/live", auth.CampaignsRead, s.manageJourneyVarianceLive)
	form("POST /manage/journeys/{name}/variance/{action}", auth.CampaignsWrite, s.manageJourneyVarianceAction)
}

// journeyVariancePanel is the journey page's live part.
type journeyVariancePanel struct {
	V       *variance.JourneyView
	Charts  []stageChart
	Version string
}

func (s *Server) journeyVariancePanel(r *http.Request, name string) (*journeyVariancePanel, string, error) {
	v, err := s.opt.Variance.JourneyView(r.Context(), name)
	if err != nil {
		return nil, "", err
	}
	p := &journeyVariancePanel{V: v}
	for _, st := range v.Stages {
		p.Charts = append(p.Charts, stageChart{R: st, Chart: normChart(st)})
	}
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, "journey_variance_panel", p); err != nil {
		return nil, "", err
	}
	// The view's clock is not on the panel, so the digest of the rendering
	// changes only with the figures (as liveVersion does for campaigns).
	sum := sha256.Sum256(buf.Bytes())
	p.Version = hex.EncodeToString(sum[:12])
	return p, buf.String(), nil
}

func (s *Server) manageJourneyVariance(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	return s.showJourneyVariance(w, r, http.StatusOK, "")
}

func (s *Server) showJourneyVariance(w http.ResponseWriter, r *http.Request, status int, notice string) error {
	j, err := s.opt.Journeys.Get(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	p, _, err := s.journeyVariancePanel(r, j.Name)
	if err != nil {
		return err
	}
	s.render(w, r, status, "manage_journey_variance", struct {
		page
		J      *journey.Journey
		Panel  *journeyVariancePanel
		Stages []variance.Stage // the target form's choice
		Notice string
	}{s.page("Journey " + j.Name), j, p, variance.JourneyOrder(j.Definition), notice})
	return nil
}

// manageJourneyVarianceLive streams the panel as the campaign page's
// stream does: every liveRefresh, sent only when its version changed from
// the last sent (or the page's, ?v=).
func (s *Server) manageJourneyVarianceLive(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	name := r.PathValue("name")
	s.streamPanel(w, r, liveRefresh, r.URL.Query().Get("v"), nil, func() (string, func() (string, error), error) {
		p, html, err := s.journeyVariancePanel(r, name)
		if err != nil {
			return "", nil, err
		}
		return p.Version, func() (string, error) { return html, nil }, nil
	})
	return nil
}

// manageJourneyVarianceAction is the page's corrections: stop the journey
// (no one new enters; those inside finish) or launch it again; and the
// operator's target of a stage, for stages history gives no norm: entries
// reaching a total, or every other stage a count per entrant, within
// hours (one point, linear from zero as the API's).
func (s *Server) manageJourneyVarianceAction(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	ctx, name := r.Context(), r.PathValue("name")
	var err error
	notice := ""
	switch r.PathValue("action") {
	case "stop":
		_, err = s.opt.Journeys.Stop(ctx, name)
		notice = "Stopped: no one new enters; those inside finish."
	case "launch":
		_, err = s.opt.Journeys.Launch(ctx, name)
		notice = "Launched again."
	case "target":
		hours, herr := strconv.Atoi(r.PostFormValue("hours"))
		value, verr := strconv.ParseFloat(r.PostFormValue("value"), 64)
		if herr != nil || verr != nil || hours <= 0 {
			return problem.InvalidField("value", "target_invalid", nil, "give a value and a number of hours")
		}
		err = s.opt.Variance.SetJourneyTarget(ctx, name, variance.Stage(r.PostFormValue("stage")), []variance.TargetPoint{{Hour: hours - 1, Cumulative: value}})
		notice = "Target set."
	default:
		return problem.New(problem.NotFound, "no_such_action", "There is no such correction.")
	}
	if err != nil {
		return err // a message page: "Not possible", with why
	}
	return s.showJourneyVariance(w, r, http.StatusOK, notice)
}
