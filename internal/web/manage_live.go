package web

import (
	"bytes"
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
	return &liveData{R: rep, Chart: chart, Variance: vd}, nil
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
// a second, coalesced) or every liveRefresh, sent only when it changed.
// Once the stream has begun, failures are logged and end it.
func (s *Server) manageCampaignLive(w http.ResponseWriter, r *http.Request, _ *auth.Operator) error {
	id := r.PathValue("id")
	rc := http.NewResponseController(w)
	rc.SetWriteDeadline(time.Time{}) // a stream lives as long as the page
	var wake <-chan struct{}
	if s.opt.Live != nil {
		ch, stop := s.opt.Live.Subscribe(id)
		defer stop()
		wake = ch
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return nil
	}
	tick := time.NewTicker(liveRefresh)
	defer tick.Stop()
	last := ""
	for {
		d, err := s.campaignLive(r, id)
		if err != nil {
			if r.Context().Err() == nil {
				s.log.ErrorContext(r.Context(), "live campaign report", "campaign", id, "err", err)
			}
			return nil
		}
		html, err := s.renderLive(d)
		if err != nil {
			s.log.ErrorContext(r.Context(), "live campaign panel", "err", err)
			return nil
		}
		if html != last {
			last = html
			// An SSE data field ends at a newline: one data line per line.
			w.Write([]byte("event: report\ndata: " + strings.ReplaceAll(html, "\n", "\ndata: ") + "\n\n"))
		} else {
			w.Write([]byte(": unchanged\n\n"))
		}
		if rc.Flush() != nil {
			return nil
		}
		select {
		case <-r.Context().Done():
			return nil
		case <-s.ctx.Done():
			return nil
		case <-tick.C:
		case <-wake:
			// Several tills committing at once make one redraw.
			time.Sleep(200 * time.Millisecond)
		}
	}
}
