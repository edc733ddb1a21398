// Package journey is Perk's automation on the event stream: a journey is a
// trigger (an event of a type, with filters) followed by steps (waits, a
// wait for an event with a timeout, branches, an SMS through the contact
// policy, a personal offer, tags, a webhook, exit), a goal that exits and
// counts a conversion, re-entry rules and an optional holdout.
//
// Each shopper's position is a row (journey_enrolments) with the step it is
// at and when it is next due; the runner claims due rows under a lease and
// advances them in one transaction with the step's effects, so a step fires
// once and a restart loses nothing. Triggers, awaited events and goals are
// read from the event stream by its id, with a durable cursor.
//
// It is not for deciding whether a message may be sent (the SMS queue's
// contact policy does, at send time) nor for what an offer is worth (campaign).
package journey

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/funnel"
	"github.com/perk-platform/perk/internal/problem"
)

// Definition is a journey as an operator writes it (YAML, JSON, the API).
type Definition struct {
	Name        string `json:"name" yaml:"name"`
	Description string `json:"description,omitempty" yaml:"description,omitempty"`
	// Trigger enters a member into the journey.
	Trigger Filter `json:"trigger" yaml:"trigger"`
	// Reentry says whether a member may enter again: "never" (the default:
	// once per journey) or "after_exit" (once the previous enrolment has
	// ended and Cooldown has passed since).
	Reentry  string   `json:"reentry,omitempty" yaml:"reentry,omitempty"`
	Cooldown Duration `json:"cooldown,omitempty" yaml:"cooldown,omitempty"`
	// Goal, when set, exits a member who reaches it and counts a
	// conversion, for treated and holdout members alike.
	Goal *Goal `json:"goal,omitempty" yaml:"goal,omitempty"`
	// Holdout is the percentage (0-50) of entering members kept out of
	// the steps as a control group, chosen by member, stable.
	Holdout int    `json:"holdout,omitempty" yaml:"holdout,omitempty"`
	Steps   []Step `json:"steps" yaml:"steps"`
}

// Filter selects events: a type and filters on its fields, written as in
// funnels ("campaign", "channel", "store", "properties.<name>"). As a
// trigger it may instead be a segment.
type Filter struct {
	Event string            `json:"event,omitempty" yaml:"event,omitempty"`
	Where map[string]string `json:"where,omitempty" yaml:"where,omitempty"`
	// Segment, only in a trigger, enters a member when they come to match
	// it, an audience filter as campaigns write it (see Segments); it
	// matches no event.
	Segment *campaign.Filter `json:"segment,omitempty" yaml:"segment,omitempty"`
	// CampaignLaunch, only in a trigger, enters the audience of a campaign
	// (its id or name) when it launches: the treated members it resolved,
	// and for an audience of all members the ones it announced to (see
	// CampaignLaunches); it matches no event.
	CampaignLaunch string `json:"campaign_launch,omitempty" yaml:"campaign_launch,omitempty"`
}

// Matches reports whether e passes f: the funnels' definition of a filter.
func (f Filter) Matches(e *event.Event) bool {
	return f.Segment == nil && f.CampaignLaunch == "" && funnel.Step{Types: []string{f.Event}, Where: f.Where}.Matches(e)
}

// Goal is the event a journey is for. Within bounds the time from entry to
// the goal event that counts (7 days if zero), and is how long a holdout
// member is watched.
type Goal struct {
	Filter `yaml:",inline"`
	Within Duration `json:"within,omitempty" yaml:"within,omitempty"`
}

// DefaultGoalWithin is a goal's window when a journey gives none.
const DefaultGoalWithin = 7 * 24 * time.Hour

// Step is one step; exactly one of its kinds is set. Jumps (Next, a
// branch's Then and Else, a wait's OnEvent and OnTimeout) name a later
// step's ID; without one the journey goes on to the following step, and
// after the last it ends.
type Step struct {
	ID string `json:"id" yaml:"id"`
	// Wait pauses for a duration.
	Wait Duration `json:"wait,omitempty" yaml:"wait,omitempty"`
	// WaitUntil pauses until the next time the member's clock shows
	// "HH:MM" (their zone, else the programme's).
	WaitUntil string `json:"wait_until,omitempty" yaml:"wait_until,omitempty"`
	// WaitFor pauses until the member does something, or a timeout.
	WaitFor *WaitFor `json:"wait_for,omitempty" yaml:"wait_for,omitempty"`
	// Branch goes to Then or Else.
	Branch *Branch `json:"branch,omitempty" yaml:"branch,omitempty"`
	// SMS queues a marketing text (a template, as campaign messages are
	// written), which the contact policy decides at send time.
	SMS string `json:"sms,omitempty" yaml:"sms,omitempty"`
	// Offer gives the member a personal offer.
	Offer *campaign.PersonalOffer `json:"offer,omitempty" yaml:"offer,omitempty"`
	// Tag adds and removes member tags.
	Tag *TagChange `json:"tag,omitempty" yaml:"tag,omitempty"`
	// Webhook delivers a journey.webhook event, named Webhook, to the
	// endpoints subscribed to journey.webhook.
	Webhook string `json:"webhook,omitempty" yaml:"webhook,omitempty"`
	// Exit ends the journey for the member.
	Exit bool `json:"exit,omitempty" yaml:"exit,omitempty"`
	// Next jumps to a later step after this one (not for branches, waits
	// for events and exits, which say where they go).
	Next string `json:"next,omitempty" yaml:"next,omitempty"`
}

// WaitFor waits for an event of the member's.
type WaitFor struct {
	Filter    `yaml:",inline"`
	Timeout   Duration `json:"timeout" yaml:"timeout"`
	OnEvent   string   `json:"on_event,omitempty" yaml:"on_event,omitempty"`
	OnTimeout string   `json:"on_timeout,omitempty" yaml:"on_timeout,omitempty"`
}

// Branch goes to Then when If holds, else to Else.
type Branch struct {
	If   Condition `json:"if" yaml:"if"`
	Then string    `json:"then,omitempty" yaml:"then,omitempty"`
	Else string    `json:"else,omitempty" yaml:"else,omitempty"`
}

// Condition is one test of a member; exactly one of Tag, Attribute or
// EventSeen is set.
type Condition struct {
	// Tag holds when the member has the tag.
	Tag string `json:"tag,omitempty" yaml:"tag,omitempty"`
	// Attribute holds when the member's attribute equals Equals.
	Attribute string `json:"attribute,omitempty" yaml:"attribute,omitempty"`
	Equals    string `json:"equals,omitempty" yaml:"equals,omitempty"`
	// EventSeen holds when the member has an event of that type since
	// entering the journey.
	EventSeen string `json:"event_seen,omitempty" yaml:"event_seen,omitempty"`
}

// TagChange adds and removes tags.
type TagChange struct {
	Add    []string `json:"add,omitempty" yaml:"add,omitempty"`
	Remove []string `json:"remove,omitempty" yaml:"remove,omitempty"`
}

// Step kinds, as counts and logs name them.
const (
	KindWait      = "wait"
	KindWaitUntil = "wait_until"
	KindWaitFor   = "wait_for"
	KindBranch    = "branch"
	KindSMS       = "sms"
	KindOffer     = "offer"
	KindTag       = "tag"
	KindWebhook   = "webhook"
	KindExit      = "exit"
)

// Kind names the step's kind, "" when none or more than one is set.
func (s *Step) Kind() string {
	var kinds []string
	add := func(set bool, k string) {
		if set {
			kinds = append(kinds, k)
		}
	}
	add(s.Wait != 0, KindWait)
	add(s.WaitUntil != "", KindWaitUntil)
	add(s.WaitFor != nil, KindWaitFor)
	add(s.Branch != nil, KindBranch)
	add(s.SMS != "", KindSMS)
	add(s.Offer != nil, KindOffer)
	add(s.Tag != nil, KindTag)
	add(s.Webhook != "", KindWebhook)
	add(s.Exit, KindExit)
	if len(kinds) != 1 {
		return ""
	}
	return kinds[0]
}

// Limits of a definition.
const (
	MaxSteps   = 50
	MaxWait    = 90 * 24 * time.Hour
	MaxHoldout = 50
)

// Re-entry rules.
const (
	ReentryNever     = "never"
	ReentryAfterExit = "after_exit"
)

var (
	nameRule  = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	clockRule = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)
	hookRule  = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,63}$`)
)

func invalid(field, format string, args ...any) error {
	return problem.InvalidField(field, "journey_invalid", nil, format, args...)
}

// Validate checks d and fills its defaults; an error names the offending
// field by its path ("steps[2].wait_for.timeout").
func (d *Definition) Validate() error {
	if !nameRule.MatchString(d.Name) {
		return invalid("name", "name is 1-64 lower-case letters, digits, - or _")
	}
	if c := d.Trigger.CampaignLaunch; c != "" {
		if d.Trigger.Event != "" || len(d.Trigger.Where) > 0 || d.Trigger.Segment != nil {
			return invalid("trigger", "a trigger is one of an event, a segment or a campaign launch")
		}
		if len(c) > 200 || strings.TrimSpace(c) != c {
			return invalid("trigger.campaign_launch", "a campaign's id or name: 1-200 characters, no surrounding spaces")
		}
	} else if d.Trigger.Segment != nil {
		if d.Trigger.Event != "" || len(d.Trigger.Where) > 0 {
			return invalid("trigger", "a trigger is an event or a segment, not both")
		}
		if err := campaign.CheckFilter("trigger.segment", d.Trigger.Segment); err != nil {
			return err
		}
	} else if err := checkFilter("trigger", d.Trigger); err != nil {
		return err
	}
	switch d.Reentry {
	case "":
		d.Reentry = ReentryNever
	case ReentryNever, ReentryAfterExit:
	default:
		return invalid("reentry", "reentry is never or after_exit")
	}
	if d.Cooldown < 0 || time.Duration(d.Cooldown) > MaxWait {
		return invalid("cooldown", "cooldown is 0 to %s", MaxWait)
	}
	if d.Cooldown != 0 && d.Reentry != ReentryAfterExit {
		return invalid("cooldown", "a cooldown needs reentry: after_exit")
	}
	if d.Goal != nil {
		if err := checkFilter("goal", d.Goal.Filter); err != nil {
			return err
		}
		if d.Goal.Within < 0 || time.Duration(d.Goal.Within) > MaxWait {
			return invalid("goal.within", "within is 0 (7 days) to %s", MaxWait)
		}
		if d.Goal.Within == 0 {
			d.Goal.Within = Duration(DefaultGoalWithin)
		}
	}
	if d.Holdout < 0 || d.Holdout > MaxHoldout {
		return invalid("holdout", "holdout is a percentage from 0 to %d", MaxHoldout)
	}
	if d.Holdout > 0 && d.Goal == nil {
		return invalid("holdout", "a holdout needs a goal to compare against")
	}
	if len(d.Steps) == 0 || len(d.Steps) > MaxSteps {
		return invalid("steps", "a journey has 1 to %d steps", MaxSteps)
	}
	index := map[string]int{}
	for i, s := range d.Steps {
		f := fmt.Sprintf("steps[%d]", i)
		if !nameRule.MatchString(s.ID) {
			return invalid(f+".id", "a step's id is 1-64 lower-case letters, digits, - or _")
		}
		if _, dup := index[s.ID]; dup {
			return invalid(f+".id", "step id %q is used twice", s.ID)
		}
		index[s.ID] = i
	}
	for i := range d.Steps {
		if err := d.checkStep(i, index); err != nil {
			return err
		}
	}
	return nil
}

func checkFilter(field string, f Filter) error {
	if f.Segment != nil {
		return invalid(field+".segment", "only a trigger may be a segment")
	}
	if f.CampaignLaunch != "" {
		return invalid(field+".campaign_launch", "only a trigger may be a campaign launch")
	}
	if f.Event == "" || len(f.Event) > 64 {
		return invalid(field+".event", "an event type of 1-64 characters is required")
	}
	return funnel.CheckWhere(field+".where", f.Where)
}

// checkStep checks step i; jumps must name a later step, so a journey
// cannot loop and every member reaches its end.
func (d *Definition) checkStep(i int, index map[string]int) error {
	s := &d.Steps[i]
	f := fmt.Sprintf("steps[%d]", i)
	jump := func(field, to string) error {
		if to == "" {
			return nil
		}
		j, ok := index[to]
		if !ok {
			return invalid(f+"."+field, "no step has id %q", to)
		}
		if j <= i {
			return invalid(f+"."+field, "jumps go forward: %q is not after %q", to, s.ID)
		}
		return nil
	}
	kind := s.Kind()
	if kind == "" {
		return invalid(f, "a step is exactly one of wait, wait_until, wait_for, branch, sms, offer, tag, webhook or exit")
	}
	if s.Next != "" && (kind == KindBranch || kind == KindWaitFor || kind == KindExit) {
		return invalid(f+".next", "a %s step says where it goes itself", kind)
	}
	if err := jump("next", s.Next); err != nil {
		return err
	}
	switch kind {
	case KindWait:
		if s.Wait < 0 || time.Duration(s.Wait) > MaxWait {
			return invalid(f+".wait", "a wait is more than 0 and at most %s", MaxWait)
		}
	case KindWaitUntil:
		if !clockRule.MatchString(s.WaitUntil) {
			return invalid(f+".wait_until", "a local time is HH:MM, 00:00 to 23:59")
		}
	case KindWaitFor:
		w := s.WaitFor
		if err := checkFilter(f+".wait_for", w.Filter); err != nil {
			return err
		}
		if w.Timeout <= 0 || time.Duration(w.Timeout) > MaxWait {
			return invalid(f+".wait_for.timeout", "a timeout is more than 0 and at most %s", MaxWait)
		}
		if err := jump("wait_for.on_event", w.OnEvent); err != nil {
			return err
		}
		return jump("wait_for.on_timeout", w.OnTimeout)
	case KindBranch:
		c := s.Branch.If
		n := 0
		for _, set := range []bool{c.Tag != "", c.Attribute != "", c.EventSeen != ""} {
			if set {
				n++
			}
		}
		if n != 1 {
			return invalid(f+".branch.if", "a condition is exactly one of tag, attribute (with equals) or event_seen")
		}
		if c.Equals != "" && c.Attribute == "" {
			return invalid(f+".branch.if.equals", "equals goes with attribute")
		}
		if err := jump("branch.then", s.Branch.Then); err != nil {
			return err
		}
		return jump("branch.else", s.Branch.Else)
	case KindSMS:
		if _, err := parseTemplate(s.ID, s.SMS); err != nil {
			return invalid(f+".sms", "%v", err)
		}
	case KindOffer:
		if strings.TrimSpace(s.Offer.Description) == "" {
			return invalid(f+".offer.description", "a personal offer needs the description its members are shown")
		}
		sp := s.Offer.Spec()
		if _, _, err := sp.Validate(time.UTC); err != nil {
			var p *problem.Error
			if errors.As(err, &p) && p.Field != "" {
				return invalid(f+".offer."+p.Field, "%s", p.Message)
			}
			return invalid(f+".offer", "%v", err)
		}
	case KindTag:
		if len(s.Tag.Add)+len(s.Tag.Remove) == 0 {
			return invalid(f+".tag", "a tag step adds or removes at least one tag")
		}
	case KindWebhook:
		if !hookRule.MatchString(s.Webhook) {
			return invalid(f+".webhook", "a webhook name is 1-64 lower-case letters, digits, '.', - or _")
		}
	}
	return nil
}
