package journey

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/event"
)

// DryRunOptions bound a dry run.
type DryRunOptions struct {
	// Version is the version to try; 0 is the current one (a draft too).
	Version int
	// Since and Until bound the member's recorded events read (occurred_at);
	// zero Since is their first event, zero Until is now. Steps due after
	// Until are shown as due and not run.
	Since, Until time.Time
}

// DryRun is what a journey would have done with one member's recorded
// timeline: each time they would have entered, and the steps they would
// have run, with when and the texts they would have been sent.
type DryRun struct {
	Journey  string     `json:"journey"`
	Version  int        `json:"version"`
	MemberID string     `json:"member_id"`
	Since    *time.Time `json:"since,omitempty"`
	Until    time.Time  `json:"until"`
	Events   int        `json:"events"` // the member's events read
	Entries  []DryEntry `json:"entries"`
}

// DryEntry is one simulated enrolment.
type DryEntry struct {
	EnteredAt time.Time `json:"entered_at"`
	Trigger   int64     `json:"trigger_event"` // events.id of the trigger
	Holdout   bool      `json:"holdout"`
	Steps     []DryStep `json:"steps"`
	// ExitReason is how the enrolment ends (completed, exit, goal,
	// holdout); "" when it would still be inside at Until.
	ExitReason  string     `json:"exit_reason"`
	EndedAt     *time.Time `json:"ended_at,omitempty"`
	ConvertedAt *time.Time `json:"converted_at,omitempty"`
}

// DryStep is one step the member would have run, at At; Outcome is as the
// step log writes it ("waited", "then", "queued" ...) or "due" for a step
// still to come at Until. Text is an SMS step's text.
type DryStep struct {
	At      time.Time `json:"at"`
	Step    string    `json:"step"`
	Kind    string    `json:"kind"`
	Outcome string    `json:"outcome"`
	Text    string    `json:"text,omitempty"`
	Event   int64     `json:"event,omitempty"` // the events.id a wait_for saw
}

// maxDryEvents bounds the events a dry run reads.
const maxDryEvents = 10000

// DryRun tries the journey against a member's recorded timeline on a
// simulated clock: their events in the order they occurred enter them (the
// trigger, the re-entry rules), wake their waits and end them at the goal,
// and waits move the simulated clock. It has no side effects: it only
// reads (nothing is sent, queued, tagged or written; a card link is the
// member's current one, {{link}} addresses are left unshortened). Tags
// and attributes are the member's today (tag steps change them within
// the run), since their history is not recorded. The holdout is the real
// one: a member in it runs no step.
func (s *Service) DryRun(ctx context.Context, name, memberID string, o DryRunOptions) (*DryRun, error) {
	j, err := s.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	if o.Version == 0 {
		o.Version = j.Version
	}
	if o.Version < 1 || o.Version > j.Version {
		return nil, invalid("version", "version %d does not exist (the journey is at version %d)", o.Version, j.Version)
	}
	def, err := s.version(ctx, s.db.R, name, o.Version)
	if err != nil {
		return nil, err
	}
	if o.Until.IsZero() {
		o.Until = s.now()
	}
	o.Until = o.Until.UTC()
	out := &DryRun{Journey: name, Version: o.Version, MemberID: memberID, Until: o.Until, Entries: []DryEntry{}}
	if !o.Since.IsZero() {
		since := o.Since.UTC()
		out.Since = &since
	}
	who, err := readShopper(ctx, s.db.R, memberID)
	if err != nil {
		return nil, err
	}
	var token string
	err = s.db.R.QueryRowContext(ctx, `SELECT token FROM card_tokens WHERE member_id = $1 AND revoked_at IS NULL
		ORDER BY created_at DESC LIMIT 1`, memberID).Scan(&token)
	if errors.Is(err, sql.ErrNoRows) {
		token = "(issued-when-sent)"
	} else if err != nil {
		return nil, fmt.Errorf("journey: dry run: card token: %w", err)
	}
	evs, err := readEvents(s.db.R.QueryContext(ctx, `SELECT `+eventCols+` FROM events WHERE member_id = $1
		AND occurred_at >= $2 AND occurred_at <= $3 ORDER BY occurred_at, id LIMIT $4`,
		memberID, o.Since.UTC(), o.Until, maxDryEvents))
	if err != nil {
		return nil, fmt.Errorf("journey: dry run: events: %w", err)
	}
	out.Events = len(evs)
	sim := &dry{s: s, def: &def, name: name, memberID: memberID, who: who, token: token, evs: evs, until: o.Until,
		tags: slices.Clone(who.tags)}
	var lastEnd *time.Time
	for i := 0; i < len(evs); i++ {
		e := &evs[i]
		if !def.Trigger.Matches(e) {
			continue
		}
		if len(out.Entries) > 0 {
			if def.Reentry != ReentryAfterExit || lastEnd == nil {
				break // once per journey, or still inside at the end
			}
			if e.Time.Before(*lastEnd) || e.Time.Sub(*lastEnd) < time.Duration(def.Cooldown) {
				continue // inside then, or cooling down: a trigger enrols nobody
			}
		}
		entry, err := sim.enter(ctx, i)
		if err != nil {
			return nil, err
		}
		out.Entries = append(out.Entries, *entry)
		lastEnd = entry.EndedAt
	}
	return out, nil
}

// dry is one dry run's state.
type dry struct {
	s              *Service
	def            *Definition
	name, memberID string
	who            *shopper
	token          string
	evs            []event.Event
	until          time.Time
	tags           []string
}

// enter simulates the enrolment the trigger evs[at] starts.
func (d *dry) enter(ctx context.Context, at int) (*DryEntry, error) {
	trig := &d.evs[at]
	t := trig.Time
	en := &DryEntry{EnteredAt: t, Trigger: trig.Seq, Holdout: InHoldout(d.name, d.memberID, d.def.Holdout), Steps: []DryStep{}}
	var goalAt *time.Time
	if g := d.def.Goal; g != nil {
		for i := at + 1; i < len(d.evs); i++ {
			e := &d.evs[i]
			if e.Time.Sub(t) > time.Duration(g.Within) {
				break
			}
			if g.Matches(e) {
				goalAt = &e.Time
				en.ConvertedAt = &e.Time
				break
			}
		}
	}
	end := func(reason string, when time.Time) (*DryEntry, error) {
		en.ExitReason, en.EndedAt = reason, &when
		return en, nil
	}
	// reached is whether the goal ended the enrolment before when.
	reached := func(when time.Time) bool { return goalAt != nil && !goalAt.After(when) }
	// due is a step that would run after the dry run's end.
	due := func(st *Step, when time.Time) (*DryEntry, error) {
		en.Steps = append(en.Steps, DryStep{At: when, Step: st.ID, Kind: st.Kind(), Outcome: "due"})
		return en, nil
	}
	if en.Holdout {
		over := t.Add(time.Duration(d.def.Goal.Within))
		switch {
		case reached(over):
			return end(ExitGoal, *goalAt)
		case over.After(d.until):
			return en, nil
		}
		return end(ExitHoldout, over)
	}
	step := 0
	for range maxStepsPerRun {
		if reached(t) {
			return end(ExitGoal, *goalAt)
		}
		if step >= len(d.def.Steps) {
			return end(ExitCompleted, t)
		}
		st := &d.def.Steps[step]
		next := d.index(st.Next, step+1)
		log := func(outcome, text string, ev int64) {
			en.Steps = append(en.Steps, DryStep{At: t, Step: st.ID, Kind: st.Kind(), Outcome: outcome, Text: text, Event: ev})
		}
		switch st.Kind() {
		case KindWait, KindWaitUntil:
			when := t.Add(time.Duration(st.Wait))
			if st.Wait == 0 {
				when = NextLocal(t, d.s.zone(d.who), st.WaitUntil)
			}
			if reached(when) {
				return end(ExitGoal, *goalAt)
			}
			if when.After(d.until) {
				return due(st, when)
			}
			t = when
			log("waited", "", 0)
		case KindWaitFor:
			w := st.WaitFor
			limit := t.Add(time.Duration(w.Timeout))
			var seen *event.Event
			for i := range d.evs {
				e := &d.evs[i]
				if e.Seq != trig.Seq && e.Time.After(t) && !e.Time.After(limit) && w.Matches(e) {
					seen = e
					break
				}
			}
			switch {
			case seen != nil && reached(seen.Time), seen == nil && reached(limit):
				return end(ExitGoal, *goalAt)
			case seen != nil:
				t, next = seen.Time, d.index(w.OnEvent, step+1)
				log("event", "", seen.Seq)
			case limit.After(d.until):
				return due(st, limit)
			default:
				t, next = limit, d.index(w.OnTimeout, step+1)
				log("timeout", "", 0)
			}
		case KindBranch:
			if d.holds(st.Branch.If, at, t) {
				next = d.index(st.Branch.Then, step+1)
				log("then", "", 0)
			} else {
				next = d.index(st.Branch.Else, step+1)
				log("else", "", 0)
			}
		case KindSMS:
			outcome, text, err := d.text(ctx, st)
			if err != nil {
				return nil, err
			}
			log(outcome, text, 0)
		case KindOffer:
			log("given", st.Offer.Description, 0)
		case KindTag:
			before := len(d.tags)
			changed := false
			for _, tg := range st.Tag.Add {
				if tg = strings.ToLower(tg); !slices.Contains(d.tags, tg) {
					d.tags, changed = append(d.tags, tg), true
				}
			}
			d.tags = slices.DeleteFunc(d.tags, func(tg string) bool {
				return slices.ContainsFunc(st.Tag.Remove, func(r string) bool { return strings.EqualFold(r, tg) })
			})
			changed = changed || len(d.tags) != before
			log(map[bool]string{true: "changed", false: "unchanged"}[changed], "", 0)
		case KindWebhook:
			log("recorded", st.Webhook, 0)
		case KindExit:
			log("exit", "", 0)
			return end(ExitStep, t)
		}
		step = next
	}
	return en, nil
}

// index is the index of the step called to, or def when to is "".
func (d *dry) index(to string, def int) int {
	for i, st := range d.def.Steps {
		if to != "" && st.ID == to {
			return i
		}
	}
	return def
}

// holds evaluates a branch at simulated time t for the enrolment that
// evs[at] triggered.
func (d *dry) holds(c Condition, at int, t time.Time) bool {
	switch {
	case c.EventSeen != "":
		for _, e := range d.evs[at+1:] {
			if e.Time.After(t) {
				break
			}
			if e.Type == c.EventSeen {
				return true
			}
		}
		return false
	case c.Tag != "":
		return slices.Contains(d.tags, strings.ToLower(c.Tag))
	}
	return d.who.attrs[c.Attribute] == c.Equals
}

// text renders an SMS step's text as the runner would, without queueing
// it or shortening its links.
func (d *dry) text(ctx context.Context, st *Step) (outcome, text string, err error) {
	switch {
	case d.who.status == "erased":
		return "skipped_erased", "", nil
	case d.who.phone == "":
		return "skipped_no_phone", "", nil
	}
	tmpl, err := parseTemplate(st.ID, st.SMS)
	if err != nil {
		return "", "", err
	}
	rc := d.who.recipient(d.memberID)
	rc.CardToken = d.token
	o := d.s.textOptions(d.name)
	o.Links = nil
	text, err = campaign.RenderText(ctx, nil, tmpl, rc, o, d.until)
	return "queued", text, err
}
