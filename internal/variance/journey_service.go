package variance

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/journey"
	"github.com/perk-platform/perk/internal/problem"
)

// JourneyCohortWeeks is how many past weeks of a journey's own entrants
// its norm is learned from: each week is one comparable cohort.
const JourneyCohortWeeks = 4

// MinCohortEntrants is the entrants below which a past week says too
// little to be a cohort.
const MinCohortEntrants = 20

// JourneyView is a journey's variance view: its stages over the window's
// entrants judged against what its past cohorts did.
type JourneyView struct {
	Journey string `json:"journey"`
	Status  string `json:"status"`
	Source  string `json:"source"`
	// Basis names the past weeks the norm was learned from, by the start
	// of the week's entries.
	Basis []string `json:"basis"`
	// Norms says, per stage judged, where its norm comes from: history
	// (learned from past weeks) or target (the operator's, for a stage
	// history gives no norm).
	Norms map[Stage]string `json:"norms"`
	// From is the start of the window (its entrants are judged); AsOf the
	// end of its last complete hour.
	From        time.Time `json:"from"`
	AsOf        time.Time `json:"as_of"`
	GeneratedAt time.Time `json:"generated_at"`
	Result
	Alerts []Alert `json:"alerts"`
}

// journeyQueries count a journey's treated entrants who entered in [$2,
// $3) and what they did, as rows (stage or step, entry hour, event hour,
// count).
func (s *Service) journeyQueries() []string {
	h := func(col string) string { return s.db.Dialect.EpochBucket(col, 3600) }
	in := ` FROM journey_enrolments e WHERE e.journey = $1 AND e.holdout = 0 AND e.entered_at >= $2 AND e.entered_at < $3`
	steps := ` FROM journey_steps l JOIN journey_enrolments e ON e.id = l.enrolment_id
		WHERE e.journey = $1 AND e.holdout = 0 AND e.entered_at >= $2 AND e.entered_at < $3`
	sms := ` FROM journey_steps l JOIN journey_enrolments e ON e.id = l.enrolment_id JOIN sms_outbox o ON o.id = l.message_id
		WHERE e.journey = $1 AND e.holdout = 0 AND e.entered_at >= $2 AND e.entered_at < $3 AND o.status = 'sent'`
	return []string{
		`SELECT '` + string(Entered) + `', ` + h("e.entered_at") + `, ` + h("e.entered_at") + `, COUNT(*)` + in + ` GROUP BY 2, 3`,
		`SELECT '` + string(Conversions) + `', ` + h("e.entered_at") + `, ` + h("e.converted_at") + `, COUNT(*)` + in + ` AND e.converted_at IS NOT NULL GROUP BY 2, 3`,
		`SELECT '` + string(MessagesSent) + `', ` + h("e.entered_at") + `, ` + h("o.sent_at") + `, COUNT(*)` + sms + ` AND o.sent_at IS NOT NULL GROUP BY 2, 3`,
		`SELECT '` + string(MessagesDelivered) + `', ` + h("e.entered_at") + `, ` + h("o.delivered_at") + `, COUNT(*)` + sms +
			` AND o.delivery_state = 'delivered' AND o.delivered_at IS NOT NULL GROUP BY 2, 3`,
		`SELECT 'step:' || l.step, ` + h("e.entered_at") + `, ` + h("l.at") + `, COUNT(*)` + steps + ` GROUP BY l.step, 2, 3`,
	}
}

type journeyRow struct {
	stage        Stage
	entry, event int64
	n            int64
}

func (s *Service) journeyRows(ctx context.Context, name string, from, to time.Time) ([]journeyRow, error) {
	var out []journeyRow
	for _, q := range s.journeyQueries() {
		rows, err := s.db.R.QueryContext(ctx, q, name, from, to)
		if err != nil {
			return nil, fmt.Errorf("variance: journey %s: %w", name, err)
		}
		for rows.Next() {
			var r journeyRow
			if err := rows.Scan(&r.stage, &r.entry, &r.event, &r.n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("variance: journey %s: %w", name, err)
			}
			out = append(out, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("variance: journey %s: %w", name, err)
		}
	}
	return out, nil
}

// JourneyOrder is the stages of a journey's definition in order.
func JourneyOrder(d journey.Definition) []Stage {
	order := append([]Stage{}, JourneyStages...)
	for _, st := range d.Steps {
		order = append(order, StepStage(st.ID))
	}
	return order
}

// JourneyView judges a journey's last JourneyWindow complete hours: the
// members who entered in them and what they did since, against the
// journey's own past JourneyCohortWeeks weeks: per entrant for every stage,
// and for the entries themselves the same hours of those weeks. A journey
// with no past week of at least MinCohortEntrants entrants borrows the
// weeks of comparable journeys (the same trigger event) for the stages
// every journey has; with none either it is not judged.
// The queries read only the window's and the cohorts' entrants.
func (s *Service) JourneyView(ctx context.Context, name string) (*JourneyView, error) {
	if s.opt.Journeys == nil {
		return nil, journey.ErrNotFound
	}
	j, err := s.opt.Journeys.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	now := s.now()
	start := epochHour(now) - JourneyWindow
	v := &JourneyView{Journey: name, Status: j.Status, Source: SourceNone, Basis: []string{}, Norms: map[Stage]string{}, From: hourStart(start),
		AsOf: hourStart(start + JourneyWindow), GeneratedAt: now}
	if v.Alerts, err = s.JourneyAlerts(ctx, name); err != nil {
		return nil, err
	}
	order := JourneyOrder(j.Definition)

	// The window: entries by their hour, the rest by the event's.
	rows, err := s.journeyRows(ctx, name, hourStart(start), hourStart(start+JourneyWindow))
	if err != nil {
		return nil, err
	}
	a := Actuals{Hourly: map[Stage][]int64{}, Stores: map[string][]int64{}}
	for _, st := range order {
		a.Hourly[st] = make([]int64, JourneyWindow)
	}
	for _, r := range rows {
		if i := r.event - start; i >= 0 && i < JourneyWindow && a.Hourly[r.stage] != nil {
			a.Hourly[r.stage][i] += r.n
		}
	}

	cohorts, weeks, err := s.cohorts(ctx, name, start, order)
	if err != nil {
		return nil, err
	}
	n := JourneyNorm{Source: SourceHistory, Lag: map[Stage]Curve{}}
	if len(cohorts) > 0 {
		n.Lag = LearnLag(cohorts, order[1:], JourneyWindow)
		n.Entries = learnStages(weeks, []Stage{Entered}, JourneyWindow)[Entered]
	} else {
		// A new journey borrows from comparable ones, those with the same
		// trigger event: per entrant, for the stages every journey has
		// (its steps are its own, and its entries are not theirs).
		others, err := s.opt.Journeys.List(ctx)
		if err != nil {
			return nil, err
		}
		for _, o := range others {
			if o.Name == name || o.Definition.Trigger.Event == "" || o.Definition.Trigger.Event != j.Definition.Trigger.Event {
				continue
			}
			cs, _, err := s.cohorts(ctx, o.Name, start, JourneyStages)
			if err != nil {
				return nil, err
			}
			for i := range cs {
				cs[i].ID = o.Name + "@" + cs[i].ID
			}
			cohorts = append(cohorts, cs...)
		}
		if len(cohorts) > 0 {
			n.Lag = LearnLag(cohorts, JourneyStages[1:], JourneyWindow)
		}
	}
	for _, c := range cohorts {
		v.Basis = append(v.Basis, c.ID)
	}
	n.Basis = v.Basis
	for st := range n.Lag {
		v.Norms[st] = SourceHistory
	}
	if len(n.Entries.Cum) > 0 {
		v.Norms[Entered] = SourceHistory
	}
	// The operator's targets stand in where history gives no norm: every
	// stage of a journey with no past, its entries and steps when it
	// borrows, as a campaign's target stands in when it has no comparable.
	targets, err := s.JourneyTargets(ctx, name)
	if err != nil {
		return nil, err
	}
	for _, st := range order {
		pts, ok := targets[st]
		if !ok || v.Norms[st] != "" {
			continue
		}
		// Entries are absolute counts over the window; every other stage
		// is per entrant, by hours after the entry hour.
		if st == Entered {
			n.Entries = TargetCurve(pts, 1, JourneyWindow)
		} else {
			n.Lag[st] = TargetCurve(pts, 1, JourneyWindow)
		}
		v.Norms[st] = SourceTarget
	}
	switch {
	case len(cohorts) > 0:
		v.Source = SourceHistory
	case len(v.Norms) > 0:
		v.Source = SourceTarget
	default:
		v.Result = Result{Hours: JourneyWindow, Stages: []StageResult{}, Stores: []StoreResult{}, Findings: []Finding{}}
		return v, nil
	}
	n.Source = v.Source
	v.Result = EvaluateJourney(n, a, JourneyWindow, order)
	return v, nil
}

// errJourneyStage refuses a stage a journey does not have, naming those
// it has.
func errJourneyStage(order []Stage) error {
	names := make([]string, len(order))
	for i, st := range order {
		names[i] = string(st)
	}
	return problem.InvalidField("stage", "stage_invalid", nil, "must be one of the journey's stages: %s", strings.Join(names, ", "))
}

// SetJourneyTarget replaces the operator's target of one stage of a
// journey: for entered, points of cumulative entries by the end of hour H
// of the window (JourneyWindow hours); for every other stage, of the
// cumulative count per entrant by the end of hour H after the entry hour.
// No points clear it. A stage's norm learned from history still wins while
// there is history.
func (s *Service) SetJourneyTarget(ctx context.Context, name string, st Stage, points []TargetPoint) error {
	if s.opt.Journeys == nil {
		return journey.ErrNotFound
	}
	j, err := s.opt.Journeys.Get(ctx, name)
	if err != nil {
		return err
	}
	order := JourneyOrder(j.Definition)
	if !slices.Contains(order, st) {
		return errJourneyStage(order)
	}
	if err := checkPoints(points, JourneyWindow); err != nil {
		return err
	}
	return s.writeTarget(ctx, journeyTargets, name, st, points)
}

// JourneyTargets returns the operator's targets of a journey by stage.
func (s *Service) JourneyTargets(ctx context.Context, name string) (map[Stage][]TargetPoint, error) {
	return s.readTargets(ctx, journeyTargets, name)
}

// cohorts are a journey's past JourneyCohortWeeks weeks of entrants, each
// the members who entered in the window's hours of that week, with what
// they did by hours after their entry hour (stages of order), and the
// week's entries by hour. Weeks of fewer than MinCohortEntrants are left
// out.
func (s *Service) cohorts(ctx context.Context, name string, start int64, order []Stage) ([]Cohort, []History, error) {
	var cohorts []Cohort
	var weeks []History
	for k := 1; k <= JourneyCohortWeeks; k++ {
		wStart := start - int64(k*24*7)
		rows, err := s.journeyRows(ctx, name, hourStart(wStart), hourStart(wStart+JourneyWindow))
		if err != nil {
			return nil, nil, err
		}
		c := Cohort{ID: hourStart(wStart).Format(time.RFC3339), Lagged: map[Stage][]int64{}}
		entries := make([]int64, JourneyWindow)
		for _, st := range order {
			c.Lagged[st] = make([]int64, JourneyWindow)
		}
		for _, r := range rows {
			lag := r.event - r.entry
			if c.Lagged[r.stage] == nil || lag < 0 || lag >= JourneyWindow {
				continue
			}
			c.Lagged[r.stage][lag] += r.n
			if r.stage == Entered {
				c.Entrants += float64(r.n)
				entries[r.entry-wStart] += r.n
			}
		}
		if c.Entrants < MinCohortEntrants {
			continue
		}
		cohorts = append(cohorts, c)
		weeks = append(weeks, History{ID: c.ID, Audience: 1, Hourly: map[Stage][]int64{Entered: entries}})
	}
	return cohorts, weeks, nil
}

// JourneyAlerts lists a journey's open alerts, gravest first.
func (s *Service) JourneyAlerts(ctx context.Context, name string) ([]Alert, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT a.id, a.journey, a.stage, a.level, a.kind, a.message, a.raised_at FROM variance_alerts a
		WHERE a.journey = $1 AND a.campaign_id = '' AND a.cleared_at IS NULL ORDER BY a.level DESC, a.raised_at, a.id`, name)
	if err != nil {
		return nil, fmt.Errorf("variance: journey alerts: %w", err)
	}
	defer rows.Close()
	out := []Alert{}
	for rows.Next() {
		var a Alert
		if err := rows.Scan(&a.ID, &a.Journey, &a.Stage, &a.Level, &a.Kind, &a.Message, &a.RaisedAt); err != nil {
			return nil, fmt.Errorf("variance: journey alerts: %w", err)
		}
		a.RaisedAt = a.RaisedAt.UTC()
		out = append(out, a)
	}
	return out, rows.Err()
}

// CheckJourney judges a journey and reconciles its alerts with the view's
// findings as Check does a campaign's: a new or graver finding raises an
// alert with its journey_variance event and journey.variance webhook in
// one transaction; a finding gone clears its alert. It returns the alerts
// raised.
func (s *Service) CheckJourney(ctx context.Context, name string) ([]Alert, error) {
	v, err := s.JourneyView(ctx, name)
	if err != nil {
		return nil, err
	}
	open, err := s.JourneyAlerts(ctx, name)
	if err != nil {
		return nil, err
	}
	byKey := map[Stage]Alert{}
	for _, a := range open {
		byKey[a.Stage] = a
	}
	now := s.now()
	var raised []Alert
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		found := map[Stage]bool{}
		for _, f := range v.Findings {
			found[f.Stage] = true
			cur, ok := byKey[f.Stage]
			if ok && levelRank(cur.Level) >= f.Level {
				continue
			}
			if ok {
				if _, err := tx.ExecContext(ctx, `UPDATE variance_alerts SET cleared_at = $2 WHERE id = $1`, cur.ID, now); err != nil {
					return err
				}
			}
			a := Alert{Journey: name, Stage: f.Stage, Level: f.Level.String(), Kind: f.Kind, Message: f.Message, RaisedAt: now}
			if err := tx.QueryRowContext(ctx, `INSERT INTO variance_alerts (campaign_id, journey, stage, store_id, level, kind, message, raised_at)
				VALUES ('', $1, $2, '', $3, $4, $5, $6) RETURNING id`, name, string(a.Stage), a.Level, a.Kind, a.Message, now).Scan(&a.ID); err != nil {
				return err
			}
			data := map[string]any{"alert_id": a.ID, "journey": name, "stage": string(a.Stage), "level": a.Level, "kind": a.Kind,
				"message": a.Message, "corrections": f.Corrections}
			props, err := json.Marshal(data)
			if err != nil {
				return err
			}
			if err := event.Record(ctx, tx, s.db.Dialect, event.Event{EventID: fmt.Sprintf("perk:variance:journey:%s:%d", name, a.ID),
				Type: event.JourneyVariance, Time: now, Properties: props}); err != nil {
				return err
			}
			if err := change.Record(ctx, s.opt.Changes, tx, change.Event{Type: change.JourneyVariance, Data: data}); err != nil {
				return err
			}
			raised = append(raised, a)
		}
		for st, a := range byKey {
			if !found[st] {
				if _, err := tx.ExecContext(ctx, `UPDATE variance_alerts SET cleared_at = $2 WHERE id = $1`, a.ID, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("variance: journey alerts: %w", err)
	}
	return raised, nil
}

// CheckJourneys runs CheckJourney over every live journey and returns how
// many alerts it raised; nothing without Options.Journeys.
func (s *Service) CheckJourneys(ctx context.Context) (int, error) {
	if s.opt.Journeys == nil {
		return 0, nil
	}
	js, err := s.opt.Journeys.List(ctx)
	if err != nil {
		return 0, err
	}
	raised := 0
	for _, j := range js {
		if j.Status != journey.Live {
			continue
		}
		as, err := s.CheckJourney(ctx, j.Name)
		if err != nil {
			return raised, fmt.Errorf("variance: check journey %s: %w", j.Name, err)
		}
		raised += len(as)
	}
	return raised, nil
}
