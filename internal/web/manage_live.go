package web

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/auth"
	"github.com/perk-platform/perk/internal/report"
)

// liveData is what the live panel of a campaign page shows.
type liveData struct {
	R     *report.CampaignReport
	Chart template.HTML
	// Variance is the campaign against its norm; nil without the service.
	Variance *varianceData
	// Version names what the panel shows (liveVersion): the page hands it
	// to the stream, which then redraws only what changed since.
	Version string
}

// campaignLive computes the panel's data: the report and its chart.
func (s *Server) campaignLive(r *http.Request, id string) (*liveData, error) {
	rep, err := s.opt.Reports.Campaign(r.Context(), id, report.Options{})
	if err != nil {
		return nil, err
	}
	n := len(rep.Series.Buckets)
	labels := make([]string, n)
	delivered, redemptions := make([]int64, n), make([]int64, n)
	layout := "15h"
	if rep.Series.Bucket == "day" {
		layout = "2 Jan"
	}
	loc := s.opt.Campaigns.Zone()
	for i, b := range rep.Series.Buckets {
		labels[i] = b.Start.In(loc).Format(layout)
		delivered[i], redemptions[i] = b.Delivered, b.Redemptions
	}
	chart := barChart("Messages delivered and redemptions per "+rep.Series.Bucket, labels,
		Series{Name: "delivered", Values: delivered, Class: "s3"}, Series{Name: "redemptions", Values: redemptions, Class: "s1"})
	vd, err := s.varianceLive(r, id)
	if err != nil {
		return nil, err
	}
	d := &liveData{R: rep, Chart: chart, Variance: vd}
	if d.Version, err = s.liveVersion(d); err != nil {
		return nil, err
	}
	return d, nil
}

// liveVersion is a digest of the panel's rendering with the time it was
// computed left out: two computations that show the same figures have the
// same version. Without it every pass of the stream differed from the last
// by its "Updated" clock, so the panel was replaced every ten seconds and
// once right after the page loaded, under the reader's eyes (and under a
// browser test's query, which then read a node no longer in the page).
func (s *Server) liveVersion(d *liveData) (string, error) {
	rep := *d.R
	rep.GeneratedAt = time.Time{}
	dd := *d
	dd.R = &rep
	html, err := s.renderLive(&dd)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256([]byte(html))
	return hex.EncodeToString(sum[:12]), nil
}

// renderLive renders the panel alone, as the SSE stream sends it.
func (s *Server) renderLive(d *liveData) (string, error) {
	var buf bytes.Buffer
	if err := s.pages.ExecuteTemplate(&buf, "campaign_live", d); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// liveRefresh is how often an open campaign page is redrawn when no till
// has said anything: changes through another instance, receipts and
// clicks arrive this way.
const liveRefresh = 10 * time.Second

// manageCampaignLive streams a campaign page's live panel as server-sent
// events: a new rendering whenever a till moves the campaign (within about
// a second, coalesced) or every liveRefresh, sent only when its figures
// changed (liveVersion), starting from the version the page was rendered
// with (?v=). Once the stream has begun, failures are logged and end it.
func (s *Server) manageCampaignLive(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	id := r.PathValue("id")
	var wake <-chan struct{}
	if s.opt.Live != nil {
		ch, stop := s.opt.Live.Subscribe(id)
		defer stop()
		wake = ch
	}
	s.streamPanel(w, r, liveRefresh, r.URL.Query().Get("v"), wake, func() (string, func() (string, error), error) {
		d, err := s.campaignLive(r, id)
		if err != nil {
			return "", nil, err
		}
		return d.Version, func() (string, error) { return s.renderLive(d) }, nil
	})
	return nil
}

// streamPanel serves a page's live panel as server-sent events. Every
// `every`, or when wake fires (coalesced over 200 ms: several tills
// committing at once make one redraw), next gives the panel's version and
// a way to render it; a rendering is sent only when the version differs
// from the last one sent, at first from shown, the one the page was drawn
// with. A redraw that changes nothing would replace the panel under the
// reader's eyes (and under a test's, mid-read) for nothing. Once the
// stream has begun, failures are logged and end it.
func (s *Server) streamPanel(w http.ResponseWriter, r *http.Request, every time.Duration, shown string, wake <-chan struct{},
	next func() (version string, render func() (string, error), err error)) {
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{}) // a stream lives as long as the page
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	last := shown
	for {
		version, render, err := next()
		if err != nil {
			if r.Context().Err() == nil {
				s.log.ErrorContext(r.Context(), "live panel", "path", r.URL.Path, "err", err)
			}
			return
		}
		if version != last {
			html, err := render()
			if err != nil {
				s.log.ErrorContext(r.Context(), "live panel rendering", "path", r.URL.Path, "err", err)
				return
			}
			last = version
			// An SSE data field ends at a newline: one data line per line.
			w.Write([]byte("event: report\ndata: " + strings.ReplaceAll(html, "\n", "\ndata: ") + "\n\n"))
		} else {
			w.Write([]byte(": unchanged\n\n"))
		}
		if rc.Flush() != nil {
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-s.ctx.Done():
			return
		case <-tick.C:
		case <-wake:
			time.Sleep(200 * time.Millisecond)
		}
	}
}
