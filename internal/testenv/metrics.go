package testenv

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

// Metrics are Prometheus series by their name and labels as the text format
// writes them, labels sorted: `perk_sms_sent_total{gateway="sim"}`, or the
// bare name for a series without labels. A histogram gives NAME_count and
// NAME_sum.
type Metrics map[string]float64

// Gather collects g's series.
func Gather(t testing.TB, g prometheus.Gatherer) Metrics {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatalf("gather metrics: %v", err)
	}
	return flatten(fams)
}

// ParseMetrics reads series from a /metrics answer in the text format.
func ParseMetrics(t testing.TB, text string) Metrics {
	t.Helper()
	p := expfmt.NewTextParser(model.UTF8Validation)
	byName, err := p.TextToMetricFamilies(strings.NewReader(text))
	if err != nil {
		t.Fatalf("parse metrics: %v\n%s", err, text)
	}
	fams := make([]*dto.MetricFamily, 0, len(byName))
	for _, f := range byName {
		fams = append(fams, f)
	}
	return flatten(fams)
}

func flatten(fams []*dto.MetricFamily) Metrics {
	out := Metrics{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			labels := make([]string, 0, len(m.GetLabel()))
			for _, l := range m.GetLabel() {
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			slices.Sort(labels)
			suffix := ""
			if len(labels) > 0 {
				suffix = "{" + strings.Join(labels, ",") + "}"
			}
			name := f.GetName()
			switch {
			case m.Counter != nil:
				out[name+suffix] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				out[name+suffix] = m.GetGauge().GetValue()
			case m.Untyped != nil:
				out[name+suffix] = m.GetUntyped().GetValue()
			case m.Histogram != nil:
				out[name+"_count"+suffix] = float64(m.GetHistogram().GetSampleCount())
				out[name+"_sum"+suffix] = m.GetHistogram().GetSampleSum()
			case m.Summary != nil:
				out[name+"_count"+suffix] = float64(m.GetSummary().GetSampleCount())
				out[name+"_sum"+suffix] = m.GetSummary().GetSampleSum()
			}
		}
	}
	return out
}

// Has reports whether the series is present, for series whose value the
// test cannot know (a pool's connections).
func (m Metrics) Has(series string) bool {
	_, ok := m[series]
	return ok
}
