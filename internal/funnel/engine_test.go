package funnel

import (
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/event"
)

var t0 = time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)

func at(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }

func e(seq int64, typ string, m int, campaign string) event.Event {
	return event.Event{Seq: seq, Type: typ, Time: at(m), Campaign: campaign, Channel: event.SMS, Properties: []byte(`{}`)}
}

func TestCounter_Rules(t *testing.T) {
	buy := BuyPipeline("c1", time.Hour)
	tests := []struct {
		name   string
		def    Definition
		people [][]event.Event
		want   map[string][]int // counts per step, per breakdown key
		median map[string]int64
	}{
		{
			name:   "the whole pipeline, the till basket meeting both cart-or-basket and purchase",
			def:    buy,
			people: [][]event.Event{{e(1, event.SMSDelivered, 0, "c1"), e(2, event.LinkClicked, 5, "c1"), e(3, event.BasketCommitted, 30, "")}},
			want:   map[string][]int{"": {1, 1, 1, 1}}, median: map[string]int64{"": 30 * 60},
		},
		{
			name:   "a step after the window does not count",
			def:    buy,
			people: [][]event.Event{{e(1, event.SMSDelivered, 0, "c1"), e(2, event.CardViewed, 61, "")}},
			want:   map[string][]int{"": {1, 0, 0, 0}},
		},
		{
			name:   "exactly at the window's end counts",
			def:    buy,
			people: [][]event.Event{{e(1, event.SMSDelivered, 0, "c1"), e(2, event.CardViewed, 60, "")}},
			want:   map[string][]int{"": {1, 1, 0, 0}},
		},
		{
			name: "order matters: a purchase before the click is not the purchase step",
			def:  buy,
			people: [][]event.Event{{e(1, event.SMSDelivered, 0, "c1"), e(2, event.OrderPlaced, 1, ""), e(3, event.LinkClicked, 2, "c1"),
				e(4, event.CartUpdated, 3, "")}},
			want: map[string][]int{"": {1, 1, 1, 0}},
		},
		{
			name: "another campaign's text is not an entry; nor is a text before the range",
			def:  buy,
			people: [][]event.Event{
				{e(1, event.SMSDelivered, 0, "c2"), e(2, event.LinkClicked, 1, "c2")},
				{e(3, event.SMSDelivered, -5, "c1"), e(4, event.LinkClicked, 1, "c1")},
			},
			want: map[string][]int{"": {0, 0, 0, 0}},
		},
		{
			name:   "a person counts once, from their first entry, however many texts",
			def:    buy,
			people: [][]event.Event{{e(1, event.SMSDelivered, 0, "c1"), e(2, event.SMSDelivered, 100, "c1"), e(3, event.LinkClicked, 101, "c1")}},
			want:   map[string][]int{"": {1, 0, 0, 0}},
		},
		{
			name: "breakdown by campaign: one entry per value",
			def: Definition{Name: "b", Window: Duration(time.Hour), Breakdown: "campaign",
				Steps: []Step{{Types: []string{event.SMSDelivered}}, {Types: []string{event.LinkClicked}}}},
			people: [][]event.Event{
				{e(1, event.SMSDelivered, 0, "c1"), e(2, event.SMSDelivered, 1, "c2"), e(3, event.LinkClicked, 2, "c2")},
				{e(4, event.SMSDelivered, 0, "c2")},
			},
			want: map[string][]int{"c1": {1, 1}, "c2": {2, 1}}, median: map[string]int64{"c1": 120, "c2": 60},
		},
		{
			name: "property filters compare as text",
			def: Definition{Name: "p", Window: Duration(time.Hour),
				Steps: []Step{{Types: []string{event.PageViewed}, Where: map[string]string{"properties.path": "/coffee"}},
					{Types: []string{event.OrderPlaced}, Where: map[string]string{"properties.total": "350", "channel": "web"}}}},
			people: [][]event.Event{{
				{Seq: 1, Type: event.PageViewed, Time: at(0), Channel: event.Web, Properties: []byte(`{"path":"/tea"}`)},
				{Seq: 2, Type: event.PageViewed, Time: at(1), Channel: event.Web, Properties: []byte(`{"path":"/coffee"}`)},
				{Seq: 3, Type: event.OrderPlaced, Time: at(2), Channel: event.App, Properties: []byte(`{"total":350}`)},
				{Seq: 4, Type: event.OrderPlaced, Time: at(3), Channel: event.Web, Properties: []byte(`{"total":350}`)},
			}},
			want: map[string][]int{"": {1, 1}}, median: map[string]int64{"": 120},
		},
		{
			name: "median of an even count is the lower middle",
			def: Definition{Name: "m", Window: Duration(time.Hour),
				Steps: []Step{{Types: []string{event.SMSDelivered}}, {Types: []string{event.LinkClicked}}}},
			people: [][]event.Event{
				{e(1, event.SMSDelivered, 0, ""), e(2, event.LinkClicked, 10, "")},
				{e(3, event.SMSDelivered, 0, ""), e(4, event.LinkClicked, 20, "")},
			},
			want: map[string][]int{"": {2, 2}}, median: map[string]int64{"": 600},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.def.Validate(); err != nil {
				t.Fatal(err)
			}
			c := NewCounter(tt.def, t0, at(24*60))
			for _, p := range tt.people {
				c.Add(p)
			}
			r := c.Report()
			if len(r.Groups) != len(tt.want) {
				t.Fatalf("groups %+v, want %v", r.Groups, tt.want)
			}
			for _, g := range r.Groups {
				want := tt.want[g.Key]
				for i, s := range g.Steps {
					if s.Count != want[i] {
						t.Errorf("group %q step %d: %d, want %d (%+v)", g.Key, i, s.Count, want[i], g.Steps)
					}
				}
				m, ok := tt.median[g.Key]
				if ok != (g.MedianSeconds != nil) || (ok && *g.MedianSeconds != m) {
					t.Errorf("group %q median %v, want %v", g.Key, g.MedianSeconds, m)
				}
			}
		})
	}
}

func TestReport_ConversionAndDropOff(t *testing.T) {
	def := Definition{Name: "x", Window: Duration(time.Hour), Steps: []Step{{Types: []string{"a"}}, {Types: []string{"b"}}, {Types: []string{"c"}}}}
	if err := def.Validate(); err != nil {
		t.Fatal(err)
	}
	c := NewCounter(def, t0, at(100))
	for i := 0; i < 4; i++ {
		p := []event.Event{e(1, "a", 0, "")}
		if i < 2 {
			p = append(p, e(2, "b", 1, ""))
		}
		if i < 1 {
			p = append(p, e(3, "c", 2, ""))
		}
		c.Add(p)
	}
	g := c.Report().Groups[0]
	got := []StepResult{g.Steps[0], g.Steps[1], g.Steps[2]}
	want := []StepResult{{Name: "a", Count: 4, Conversion: 1}, {Name: "b", Count: 2, Conversion: 0.5, DropOff: 2}, {Name: "c", Count: 1, Conversion: 0.5, DropOff: 1}}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("step %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if g.Overall != 0.25 {
		t.Errorf("overall %v", g.Overall)
	}
}

func TestDefinition_Validate(t *testing.T) {
	ok := func() Definition {
		return Definition{Name: "ok", Window: Duration(time.Hour), Steps: []Step{{Types: []string{"a"}}, {Types: []string{"b"}}}}
	}
	tests := []struct {
		name   string
		change func(*Definition)
		field  string
	}{
		{"valid", func(*Definition) {}, ""},
		{"bad name", func(d *Definition) { d.Name = "Big Name" }, "name"},
		{"one step", func(d *Definition) { d.Steps = d.Steps[:1] }, "steps"},
		{"no window", func(d *Definition) { d.Window = 0 }, "window"},
		{"window too long", func(d *Definition) { d.Window = Duration(91 * 24 * time.Hour) }, "window"},
		{"bad breakdown", func(d *Definition) { d.Breakdown = "colour" }, "breakdown"},
		{"step without types", func(d *Definition) { d.Steps[1].Types = nil }, "steps[1].types"},
		{"unknown filter", func(d *Definition) { d.Steps[0].Where = map[string]string{"colour": "red"} }, "steps[0].where"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := ok()
			tt.change(&d)
			err := d.Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !containsField(err, tt.field) {
				t.Errorf("err = %v, want field %s", err, tt.field)
			}
		})
	}
}
