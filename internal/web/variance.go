package web

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/variance"
)

// registerVariance adds the variance view's API and the campaign page's
// correction forms.
func (s *Server) registerVariance(api func(string, auth.Permission, apiHandler), form func(string, auth.Permission, pageHandler)) {
	api("GET /v1/campaigns/{id}/variance", auth.CampaignsRead, s.campaignVariance)
	api("PUT /v1/campaigns/{id}/variance/targets/{stage}", auth.CampaignsWrite, s.putVarianceTarget)
	api("GET /v1/journeys/{name}/variance", auth.CampaignsRead, s.journeyVariance)
	api("PUT /v1/journeys/{name}/variance/targets/{stage}", auth.CampaignsWrite, s.putJourneyVarianceTarget)
	if form != nil {
		form("POST /manage/campaigns/{id}/variance/{action}", auth.CampaignsWrite, s.manageVarianceAction)
	}
}

func (s *Server) campaignVariance(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	v, err := s.opt.Variance.View(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) journeyVariance(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	v, err := s.opt.Variance.JourneyView(r.Context(), r.PathValue("name"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) putVarianceTarget(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	return putTarget(w, r, r.PathValue("id"), s.opt.Variance.SetTarget, s.opt.Variance.Targets)
}

func (s *Server) putJourneyVarianceTarget(w http.ResponseWriter, r *http.Request, _ *auth.Key) error {
	return putTarget(w, r, r.PathValue("name"), s.opt.Variance.SetJourneyTarget, s.opt.Variance.JourneyTargets)
}

// putTarget sets the target of one stage of a campaign or a journey (its
// owner) and answers with the stage's points as stored.
func putTarget(w http.ResponseWriter, r *http.Request, owner string,
	set func(context.Context, string, variance.Stage, []variance.TargetPoint) error,
	read func(context.Context, string) (map[variance.Stage][]variance.TargetPoint, error)) error {
	var body struct {
		Points []variance.TargetPoint `json:"points"`
	}
	if err := decodeJSON(w, r, &body); err != nil {
		return err
	}
	st := variance.Stage(r.PathValue("stage"))
	if err := set(r.Context(), owner, st, body.Points); err != nil {
		return err
	}
	targets, err := read(r.Context(), owner)
	if err != nil {
		return err
	}
	pts := targets[st]
	if pts == nil {
		pts = []variance.TargetPoint{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"stage": st, "points": pts})
	return nil
}

// manageVarianceAction runs a correction from the live panel: extend the
// end, raise the budget, resend to those not delivered, or set a target.
// Pause and resume are the campaign page's own actions.
func (s *Server) manageVarianceAction(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	ctx, id := r.Context(), r.PathValue("id")
	var err error
	notice := ""
	switch r.PathValue("action") {
	case "extend":
		hours, perr := strconv.Atoi(r.PostFormValue("hours"))
		if perr != nil || hours <= 0 || hours > 24*90 {
			return &actionError{problem.InvalidField("hours", "hours_invalid", nil, "must be a number of hours from 1 to 2160")}
		}
		c, gerr := s.opt.Campaigns.Get(ctx, id)
		if gerr != nil {
			return gerr
		}
		if _, err = s.opt.Campaigns.ExtendEnd(ctx, id, c.End.Add(time.Duration(hours)*time.Hour)); err == nil {
			notice = fmt.Sprintf("Extended by %d hours.", hours)
		}
	case "budget":
		amount, perr := strconv.ParseInt(r.PostFormValue("budget"), 10, 64)
		if perr != nil {
			return &actionError{problem.InvalidField("budget", "budget_invalid", nil, "must be a whole number of minor units")}
		}
		if _, err = s.opt.Campaigns.RaiseBudget(ctx, id, amount); err == nil {
			notice = "Budget raised."
		}
	case "resend":
		var n int
		if n, err = s.opt.Campaigns.ResendUndelivered(ctx, id); err == nil {
			notice = fmt.Sprintf("Resent to %d members whose message was not delivered.", n)
		}
	case "target":
		hours, herr := strconv.Atoi(r.PostFormValue("hours"))
		total, terr := strconv.ParseFloat(r.PostFormValue("total"), 64)
		if herr != nil || terr != nil || hours <= 0 {
			return &actionError{problem.InvalidField("total", "target_invalid", nil, "give a total and a number of hours")}
		}
		err = s.opt.Variance.SetTarget(ctx, id, variance.Stage(r.PostFormValue("stage")), []variance.TargetPoint{{Hour: hours - 1, Cumulative: total}})
		notice = "Target set."
	default:
		return problem.New(problem.NotFound, "no_such_action", "There is no such correction.")
	}
	if err != nil {
		return &actionError{err}
	}
	return s.showCampaign(w, r, http.StatusOK, notice, nil)
}

// varianceData is the live panel's variance part.
type varianceData struct {
	V      *variance.View
	Charts []stageChart
	Stages []variance.Stage
}

type stageChart struct {
	R     variance.StageResult
	Chart template.HTML
}

func (s *Server) varianceLive(r *http.Request, id string) (*varianceData, error) {
	if !s.varianceUI {
		return nil, nil
	}
	v, err := s.opt.Variance.View(r.Context(), id)
	if err != nil {
		return nil, err
	}
	d := &varianceData{V: v, Stages: variance.Stages}
	for _, st := range v.Stages {
		d.Charts = append(d.Charts, stageChart{R: st, Chart: normChart(st)})
	}
	return d, nil
}

// normChart draws a stage's cumulative actual against its norm, with the
// warning and control bands, as inline SVG: the band red beyond control,
// amber beyond warning; the actual line takes the stage's level's colour.
func normChart(st variance.StageResult) template.HTML {
	const w, h, left, bottom, top = 320.0, 140.0, 40.0, 18.0, 8.0
	peak := 1.0
	for _, p := range st.Points {
		peak = max(peak, p.Actual, p.ControlHigh)
	}
	n := max(len(st.Points)-1, 1)
	x := func(i int) float64 { return left + float64(i)/float64(n)*(w-left-4) }
	y := func(v float64) float64 { return h - bottom - v/peak*(h-bottom-top) }
	band := func(lo, hi func(variance.Point) float64) string {
		var b strings.Builder
		for i, p := range st.Points {
			fmt.Fprintf(&b, "%.1f,%.1f ", x(i), y(hi(p)))
		}
		for i := len(st.Points) - 1; i >= 0; i-- {
			fmt.Fprintf(&b, "%.1f,%.1f ", x(i), y(lo(st.Points[i])))
		}
		return b.String()
	}
	line := func(v func(variance.Point) float64) string {
		var b strings.Builder
		for i, p := range st.Points {
			fmt.Fprintf(&b, "%.1f,%.1f ", x(i), y(v(p)))
		}
		return b.String()
	}
	title := template.HTMLEscapeString(st.Label + ": actual against the norm, cumulative since launch")
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart norm" viewBox="0 0 %.0f %.0f" role="img" aria-label="%s"><title>%s</title>`, w, h, title, title)
	fmt.Fprintf(&b, `<line class="axis" x1="%.0f" y1="%.0f" x2="%.0f" y2="%.0f"/>`, left, h-bottom, w, h-bottom)
	fmt.Fprintf(&b, `<text class="tick" x="%.0f" y="%.0f" text-anchor="end">%.0f</text><text class="tick" x="%.0f" y="%.0f" text-anchor="end">0</text>`,
		left-3, top+8, peak, left-3, h-bottom)
	fmt.Fprintf(&b, `<text class="tick" x="%.0f" y="%.0f" text-anchor="end">%dh</text>`, w-4, h-4, n)
	if len(st.Points) > 0 {
		fmt.Fprintf(&b, `<polygon class="band-control" points="%s"/>`, band(func(p variance.Point) float64 { return p.ControlLow }, func(p variance.Point) float64 { return p.ControlHigh }))
		fmt.Fprintf(&b, `<polygon class="band-warn" points="%s"/>`, band(func(p variance.Point) float64 { return p.WarnLow }, func(p variance.Point) float64 { return p.WarnHigh }))
		fmt.Fprintf(&b, `<polyline class="norm-line" points="%s"/>`, line(func(p variance.Point) float64 { return p.Expected }))
		fmt.Fprintf(&b, `<polyline class="actual-line level-%s" points="%s"/>`, st.Worst, line(func(p variance.Point) float64 { return p.Actual }))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) // only numbers and escaped text
}
