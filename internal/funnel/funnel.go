// Package funnel defines funnels (ordered steps of event types with property
// filters, a conversion window, a breakdown) and computes their reports
// from the event stream: counts per step, step and overall conversion,
// drop-off and the median time to convert, for treated and control groups
// of a campaign. The matching itself (engine.go) is a pure function over
// each person's events, table-tested and benchmarked on its own; the
// service reads the stream and stores definitions.
package funnel

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/problem"
)

// Step is one stage of a funnel: an event of one of Types whose fields match
// every filter of Where. Keys of Where are "campaign", "channel", "store" or
// "properties.<name>" (a top-level property, compared as text).
type Step struct {
	Name  string            `json:"name" yaml:"name"`
	Types []string          `json:"types" yaml:"types"`
	Where map[string]string `json:"where,omitempty" yaml:"where,omitempty"`
}

// Definition is a funnel. Window bounds the time from a person's entry
// (their first event matching step 1 in the report's range) to each later
// step. Breakdown splits the report by the entry event's "campaign",
// "channel" or "store" ("" for none).
type Definition struct {
	Name      string   `json:"name" yaml:"name"`
	Steps     []Step   `json:"steps" yaml:"steps"`
	Window    Duration `json:"window" yaml:"window"`
	Breakdown string   `json:"breakdown,omitempty" yaml:"breakdown,omitempty"`
}

// Duration is a time.Duration written as "72h" or "30m" in JSON and YAML.
type Duration time.Duration

// MarshalText writes d as Go writes durations.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText reads "72h", "90m", or days as "7d".
func (d *Duration) UnmarshalText(b []byte) error {
	s := string(b)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		var n int
		if _, err := fmt.Sscanf(days, "%d", &n); err != nil || fmt.Sprint(n) != days {
			return fmt.Errorf("window %q: want a duration such as 72h, 30m or 7d", s)
		}
		*d = Duration(time.Duration(n) * 24 * time.Hour)
		return nil
	}
	v, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("window %q: want a duration such as 72h, 30m or 7d", s)
	}
	*d = Duration(v)
	return nil
}

// Limits of a definition.
const (
	MaxSteps  = 10
	MaxWindow = 90 * 24 * time.Hour
)

var nameRule = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)

func invalid(field, format string, args ...any) error {
	return problem.InvalidField(field, "funnel_invalid", nil, format, args...)
}

// Validate checks d, naming the offending field.
func (d *Definition) Validate() error {
	if !nameRule.MatchString(d.Name) {
		return invalid("name", "name is 1-64 lower-case letters, digits, - or _")
	}
	if len(d.Steps) < 2 || len(d.Steps) > MaxSteps {
		return invalid("steps", "a funnel has 2 to %d steps", MaxSteps)
	}
	w := time.Duration(d.Window)
	if w <= 0 || w > MaxWindow {
		return invalid("window", "window must be more than 0 and at most %s", MaxWindow)
	}
	switch d.Breakdown {
	case "", "campaign", "channel", "store":
	default:
		return invalid("breakdown", "breakdown is campaign, channel, store or empty")
	}
	for i, s := range d.Steps {
		f := fmt.Sprintf("steps[%d]", i)
		if len(s.Types) == 0 {
			return invalid(f+".types", "a step needs at least one event type")
		}
		for _, t := range s.Types {
			if t == "" || len(t) > 64 {
				return invalid(f+".types", "event types are 1-64 characters")
			}
		}
		if err := CheckWhere(f+".where", s.Where); err != nil {
			return err
		}
		if s.Name == "" {
			d.Steps[i].Name = strings.Join(s.Types, " or ")
		}
	}
	return nil
}

// CheckWhere checks the keys of an event filter (a step's Where, a
// journey's trigger), naming field in the error.
func CheckWhere(field string, where map[string]string) error {
	for k := range where {
		switch {
		case k == "campaign", k == "channel", k == "store":
		case strings.HasPrefix(k, "properties.") && len(k) > len("properties."):
		default:
			return invalid(field, "filter %q: use campaign, channel, store or properties.<name>", k)
		}
	}
	return nil
}

// Types lists every event type the funnel's steps name, for the query that
// reads the stream.
func (d *Definition) Types() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range d.Steps {
		for _, t := range s.Types {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	return out
}

// BuyPipeline is the built-in funnel of a campaign: its text delivered, then
// its link clicked or the card page viewed, then a web cart or a till basket,
// then a purchase online or at a till; within window.
func BuyPipeline(campaignID string, window time.Duration) Definition {
	return Definition{
		Name: "buy-pipeline", Window: Duration(window),
		Steps: []Step{
			{Name: "SMS delivered", Types: []string{event.SMSDelivered}, Where: map[string]string{"campaign": campaignID}},
			{Name: "link clicked or card viewed", Types: []string{event.LinkClicked, event.CardViewed}},
			{Name: "cart or basket", Types: []string{event.CartUpdated, event.CheckoutStarted, event.BasketCommitted}},
			{Name: "purchase", Types: []string{event.OrderPlaced, event.BasketCommitted}},
		},
	}
}
