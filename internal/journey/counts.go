package journey

import (
	"context"
	"fmt"
	"strconv"

	"github.com/perk-platform/perk/internal/report"
)

// StepCount is how many members are at a step of one version and how many
// have passed it, with what came of it. For an SMS step, Messages counts the
// queued messages by their state in the queue now ("queued", "sent",
// "held: quiet_hours" ...), so a message the contact policy holds shows
// here with its reason.
type StepCount struct {
	Version  int            `json:"version"`
	Step     string         `json:"step"`
	Kind     string         `json:"kind"`
	At       int64          `json:"at"`
	Passed   int64          `json:"passed"`
	Outcomes map[string]int `json:"outcomes"`
	Messages map[string]int `json:"messages,omitempty"`
	// Summary is the step as Step.Describe says it: what it does and
	// where it goes.
	Summary string `json:"summary"`
}

// Group is one side of the goal comparison.
type Group struct {
	Entered   int64   `json:"entered"`
	Converted int64   `json:"converted"`
	Rate      float64 `json:"rate"`
}

// VersionCount is how many members entered a version of a journey and how
// many of them are still inside it. Treated members only count: the
// holdout runs no step of any version.
type VersionCount struct {
	Version   int   `json:"version"`
	Entered   int64 `json:"entered"`
	Active    int64 `json:"active"`
	Converted int64 `json:"converted"`
}

// Report is a journey's counts: members in and out, per step, and the goal
// for treated members against the holdout, with the uplift's interval.
type Report struct {
	Journey string           `json:"journey"`
	Status  string           `json:"status"`
	Version int              `json:"version"` // the current version, which members entering now follow
	Entered int64            `json:"entered"`
	Active  int64            `json:"active"`
	Ended   map[string]int64 `json:"ended"` // by reason: completed, exit, goal, holdout, failed
	Steps   []StepCount      `json:"steps"`
	// Versions are the treated members per version entered, in order.
	Versions []VersionCount `json:"versions"`
	Treated  Group          `json:"treated"`
	Holdout  Group          `json:"holdout"`
	// Uplift is the treated conversion rate less the holdout's; nil
	// without a goal.
	Uplift *report.Estimate `json:"uplift"`
}

// Counts computes the journey's report from its enrolments and step log.
func (s *Service) Counts(ctx context.Context, name string) (*Report, error) {
	j, err := s.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	r := &Report{Journey: name, Status: j.Status, Version: j.Version, Ended: map[string]int64{}, Steps: []StepCount{},
		Versions: []VersionCount{}}
	rows, err := s.db.R.QueryContext(ctx, `SELECT version, holdout, state, exit_reason, COUNT(*),
		SUM(CASE WHEN converted_at IS NOT NULL THEN 1 ELSE 0 END)
		FROM journey_enrolments WHERE journey = $1 GROUP BY version, holdout, state, exit_reason ORDER BY version`, name)
	if err != nil {
		return nil, fmt.Errorf("journey: counts: %w", err)
	}
	for rows.Next() {
		var v, hold int
		var state, reason string
		var n, conv int64
		if err := rows.Scan(&v, &hold, &state, &reason, &n, &conv); err != nil {
			rows.Close()
			return nil, fmt.Errorf("journey: counts: %w", err)
		}
		r.Entered += n
		g := &r.Treated
		if hold == 1 {
			g = &r.Holdout
		}
		g.Entered += n
		g.Converted += conv
		if state == stateActive {
			r.Active += n
		} else {
			r.Ended[reason] += n
		}
		if hold == 1 {
			continue
		}
		if k := len(r.Versions); k == 0 || r.Versions[k-1].Version != v {
			r.Versions = append(r.Versions, VersionCount{Version: v})
		}
		vc := &r.Versions[len(r.Versions)-1]
		vc.Entered += n
		vc.Converted += conv
		if state == stateActive {
			vc.Active += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("journey: counts: %w", err)
	}
	for _, g := range []*Group{&r.Treated, &r.Holdout} {
		if g.Entered > 0 {
			g.Rate = float64(g.Converted) / float64(g.Entered)
		}
	}
	if j.Definition.Goal != nil {
		u := report.ConversionUplift(r.Treated.Entered, r.Treated.Converted, r.Holdout.Entered, r.Holdout.Converted)
		r.Uplift = &u
	}
	if err := s.stepCounts(ctx, j, r); err != nil {
		return nil, err
	}
	return r, nil
}

// stepCounts fills r.Steps for every version members have entered (and the
// current one), in step order.
func (s *Service) stepCounts(ctx context.Context, j *Journey, r *Report) error {
	type key struct {
		version int
		step    string
	}
	counts := map[key]*StepCount{}
	versions := map[int]bool{j.Version: true}
	get := func(v int, step string) *StepCount {
		k := key{v, step}
		if counts[k] == nil {
			counts[k] = &StepCount{Version: v, Step: step, Outcomes: map[string]int{}}
		}
		versions[v] = true
		return counts[k]
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT version, step, COUNT(*) FROM journey_enrolments
		WHERE journey = $1 AND state = 'active' AND holdout = 0 GROUP BY version, step`, j.Name)
	if err != nil {
		return fmt.Errorf("journey: step counts: %w", err)
	}
	at := map[key]int64{}
	for rows.Next() {
		var v, idx int
		var n int64
		if err := rows.Scan(&v, &idx, &n); err != nil {
			rows.Close()
			return err
		}
		at[key{v, strconv.Itoa(idx)}] = n
		versions[v] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	rows, err = s.db.R.QueryContext(ctx, `SELECT l.version, l.step, l.outcome, COALESCE(o.status, ''), COALESCE(o.held_reason, ''), COUNT(*)
		FROM journey_steps l LEFT JOIN sms_outbox o ON o.id = l.message_id
		WHERE l.journey = $1 GROUP BY l.version, l.step, l.outcome, o.status, o.held_reason`, j.Name)
	if err != nil {
		return fmt.Errorf("journey: step counts: %w", err)
	}
	for rows.Next() {
		var v, n int
		var step, outcome, status, held string
		if err := rows.Scan(&v, &step, &outcome, &status, &held, &n); err != nil {
			rows.Close()
			return err
		}
		c := get(v, step)
		c.Passed += int64(n)
		c.Outcomes[outcome] += n
		if status != "" {
			if c.Messages == nil {
				c.Messages = map[string]int{}
			}
			if held != "" {
				status += ": " + held
			}
			c.Messages[status] += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for v := 1; v <= j.Version; v++ {
		if !versions[v] {
			continue
		}
		d, err := s.version(ctx, s.db.R, j.Name, v)
		if err != nil {
			return err
		}
		for i, st := range d.Steps {
			c := get(v, st.ID)
			c.Kind = st.Kind()
			c.Summary = st.Describe()
			c.At = at[key{v, strconv.Itoa(i)}]
			r.Steps = append(r.Steps, *c)
		}
	}
	return nil
}
