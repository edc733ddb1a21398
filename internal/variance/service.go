package variance

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/change"
	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/journey"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
)

// Options configure the service.
type Options struct {
	Now func() time.Time
	Log *slog.Logger
	// Changes receives a change.CampaignVariance event per alert raised
	// (the webhooks); nil for none.
	Changes change.Recorder
	// Journeys, when set, gives journeys their variance view.
	Journeys *journey.Service
}

// Service keeps campaigns' actuals and norms and judges them.
type Service struct {
	db        *store.DB
	campaigns *campaign.Service
	opt       Options
}

// NewService returns a variance service over the campaigns.
func NewService(db *store.DB, campaigns *campaign.Service, opt Options) *Service {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Log == nil {
		opt.Log = slog.Default()
	}
	return &Service{db: db, campaigns: campaigns, opt: opt}
}

func (s *Service) now() time.Time { return s.opt.Now().UTC() }

// Comparable campaigns (docs/variance.md): launched, ended, of the same
// audience size band, benefit kind and channel.

// Band is an audience size's band: its order of magnitude ("1k-10k").
func Band(audience int64) string {
	switch {
	case audience < 1_000:
		return "<1k"
	case audience < 10_000:
		return "1k-10k"
	case audience < 100_000:
		return "10k-100k"
	case audience < 1_000_000:
		return "100k-1M"
	}
	return ">=1M"
}

// Profile is what makes two campaigns comparable.
type Profile struct {
	Band    string `json:"band"`
	Benefit string `json:"benefit"`
	Channel string `json:"channel"`
}

func profile(c *campaign.Campaign) Profile {
	p := Profile{Band: Band(treated(c)), Benefit: "none", Channel: "none"}
	if len(c.Spec.Benefits) > 0 {
		p.Benefit = string(c.Spec.Benefits[0].Kind)
	}
	if c.Spec.Message != "" {
		p.Channel = "sms"
	}
	return p
}

func treated(c *campaign.Campaign) int64 { return max(c.AudienceSize-c.ControlSize, 0) }

// MaxComparables bounds the past campaigns a norm averages: the most
// recent ones.
const MaxComparables = 20

// horizon is the campaign's hours from its launch hour to its end.
func horizon(c *campaign.Campaign) int {
	if c.LaunchedAt == nil {
		return 1
	}
	h := int((epochHour(c.End.Add(-time.Nanosecond)) - epochHour(*c.LaunchedAt)) + 1)
	return min(max(h, 1), MaxHours)
}

func (s *Service) comparables(ctx context.Context, c *campaign.Campaign) ([]*campaign.Campaign, error) {
	all, err := s.campaigns.List(ctx, campaign.Ended)
	if err != nil {
		return nil, err
	}
	p := profile(c)
	var out []*campaign.Campaign
	for _, o := range all {
		if o.ID == c.ID || o.LaunchedAt == nil || profile(o) != p || treated(o) == 0 {
			continue
		}
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b *campaign.Campaign) int { return b.LaunchedAt.Compare(*a.LaunchedAt) })
	if len(out) > MaxComparables {
		out = out[:MaxComparables]
	}
	return out, nil
}

func fingerprint(cs []*campaign.Campaign) string {
	var b strings.Builder
	for _, c := range cs {
		fmt.Fprintf(&b, "%s@%d;", c.ID, c.End.Unix())
	}
	return b.String()
}

// Prepare computes and stores a launched campaign's norm (from comparable
// campaigns, else the operator's target, else none) and its stores'
// baseline shares. It is what launch, a change of target and a change in
// history call; it does nothing when the stored norm is up to date.
func (s *Service) Prepare(ctx context.Context, id string, force bool) error {
	c, err := s.campaigns.Get(ctx, id)
	if err != nil {
		return err
	}
	if c.LaunchedAt == nil {
		return campaign.ErrNotLaunched
	}
	comps, err := s.comparables(ctx, c)
	if err != nil {
		return fmt.Errorf("variance: comparables: %w", err)
	}
	fp := fingerprint(comps)
	if !force {
		var stored string
		err := s.db.R.QueryRowContext(ctx, `SELECT fingerprint FROM variance_norm_info WHERE campaign_id = $1`, id).Scan(&stored)
		if err == nil && stored == fp {
			return nil
		}
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("variance: norm info: %w", err)
		}
	}
	hours := horizon(c)
	n := Norm{Source: SourceNone, Basis: []string{}, Curves: map[Stage]Curve{}}
	if len(comps) > 0 {
		var hs []History
		for _, o := range comps {
			// A past campaign's buckets are made complete once, then kept.
			if err := s.ensureFinal(ctx, o); err != nil {
				return err
			}
			a, err := s.readActuals(ctx, o.ID, *o.LaunchedAt, hours)
			if err != nil {
				return err
			}
			hs = append(hs, History{ID: o.ID, Audience: float64(treated(o)), Hourly: a.Hourly})
			n.Basis = append(n.Basis, o.ID)
		}
		n.Source, n.Curves = SourceHistory, Learn(hs, hours)
	} else {
		targets, err := s.Targets(ctx, id)
		if err != nil {
			return err
		}
		for st, pts := range targets {
			n.Curves[st] = TargetCurve(pts, float64(treated(c)), hours)
		}
		if len(n.Curves) > 0 {
			n.Source = SourceTarget
		}
	}
	shares, err := s.baselineShares(ctx, c)
	if err != nil {
		return err
	}
	basis, _ := json.Marshal(n.Basis)
	now := s.now()
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, q := range []string{`DELETE FROM variance_norms WHERE campaign_id = $1`, `DELETE FROM variance_store_shares WHERE campaign_id = $1`,
			`DELETE FROM variance_norm_info WHERE campaign_id = $1`} {
			if _, err := tx.ExecContext(ctx, q, id); err != nil {
				return fmt.Errorf("variance: store norm: %w", err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO variance_norm_info (campaign_id, source, basis, fingerprint, audience, computed_at)
			VALUES ($1, $2, $3, $4, $5, $6)`, id, n.Source, string(basis), fp, treated(c), now); err != nil {
			return fmt.Errorf("variance: store norm: %w", err)
		}
		var args []any
		for st, cv := range n.Curves {
			for i := range cv.Cum {
				args = append(args, id, string(st), i, cv.Cum[i], cv.Spread[i])
			}
		}
		if err := insertRows(ctx, tx, s.db.Dialect, `INSERT INTO variance_norms (campaign_id, stage, hour, per_member, spread) VALUES `, 5, args); err != nil {
			return err
		}
		args = nil
		for sid, p := range shares {
			args = append(args, id, sid, p)
		}
		return insertRows(ctx, tx, s.db.Dialect, `INSERT INTO variance_store_shares (campaign_id, store_id, share) VALUES `, 3, args)
	})
}

func insertRows(ctx context.Context, tx *sql.Tx, d store.Dialect, head string, cols int, args []any) error {
	const batch = 400
	for start := 0; start < len(args); start += batch * cols {
		part := args[start:min(start+batch*cols, len(args))]
		var q strings.Builder
		q.WriteString(head)
		for i := 0; i < len(part)/cols; i++ {
			if i > 0 {
				q.WriteString(", ")
			}
			q.WriteString("(" + d.Placeholders(i*cols+1, cols) + ")")
		}
		if _, err := tx.ExecContext(ctx, q.String(), part...); err != nil {
			return fmt.Errorf("variance: insert: %w", err)
		}
	}
	return nil
}

// ensureFinal rebuilds an ended campaign's buckets once after its end.
func (s *Service) ensureFinal(ctx context.Context, c *campaign.Campaign) error {
	var through int64
	err := s.db.R.QueryRowContext(ctx, `SELECT through FROM variance_marks WHERE campaign_id = $1`, c.ID).Scan(&through)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("variance: mark: %w", err)
	}
	if err == nil && through > epochHour(c.End) {
		return nil
	}
	return s.Rebuild(ctx, c.ID, *c.LaunchedAt)
}

// BaselineDays is how far before its launch a campaign's stores' baseline
// shares of baskets are counted.
const BaselineDays = 28

func (s *Service) baselineShares(ctx context.Context, c *campaign.Campaign) (map[string]float64, error) {
	launch := *c.LaunchedAt
	rows, err := s.db.R.QueryContext(ctx, `SELECT store_id, COUNT(*) FROM baskets
		WHERE created_at >= $1 AND created_at < $2 AND status = 'committed' GROUP BY store_id`, launch.AddDate(0, 0, -BaselineDays), launch)
	if err != nil {
		return nil, fmt.Errorf("variance: baseline: %w", err)
	}
	defer rows.Close()
	counts := map[string]float64{}
	var total float64
	for rows.Next() {
		var id string
		var n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("variance: baseline: %w", err)
		}
		if len(c.Spec.Stores) > 0 && !slices.Contains(c.Spec.Stores, id) {
			continue
		}
		counts[id] = float64(n)
		total += float64(n)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("variance: baseline: %w", err)
	}
	for id := range counts {
		counts[id] /= total
	}
	return counts, nil
}

// ErrStage refuses a stage the norm does not know.
var ErrStage = problem.InvalidField("stage", "stage_invalid", nil, "must be one of delivered, engaged, first_visits, redemptions, revenue")

// SetTarget replaces the operator's target of one stage (points of
// cumulative count by hour since the launch hour) and recomputes the norm.
// A norm learned from history still wins while there is history.
func (s *Service) SetTarget(ctx context.Context, id string, st Stage, points []TargetPoint) error {
	if !validStage(st) {
		return ErrStage
	}
	if err := checkPoints(points, MaxHours); err != nil {
		return err
	}
	if _, err := s.campaigns.Get(ctx, id); err != nil {
		return err
	}
	if err := s.writeTarget(ctx, campaignTargets, id, st, points); err != nil {
		return err
	}
	c, err := s.campaigns.Get(ctx, id)
	if err != nil || c.LaunchedAt == nil {
		return err
	}
	return s.Prepare(ctx, id, true)
}

// Targets returns the operator's targets of a campaign by stage.
func (s *Service) Targets(ctx context.Context, id string) (map[Stage][]TargetPoint, error) {
	return s.readTargets(ctx, campaignTargets, id)
}

// View is a campaign's variance view: its norm's provenance, the stages
// and stores judged at the last complete hour, and its open alerts.
type View struct {
	CampaignID string          `json:"campaign_id"`
	Name       string          `json:"name"`
	Status     campaign.Status `json:"status"`
	LaunchedAt *time.Time      `json:"launched_at"`
	End        time.Time       `json:"end"`
	// Audience is the treated audience the norm is scaled to.
	Audience    int64     `json:"audience"`
	Source      string    `json:"source"`
	Basis       []string  `json:"basis"`
	Profile     Profile   `json:"profile"`
	AsOf        time.Time `json:"as_of"` // the end of the last complete hour judged
	GeneratedAt time.Time `json:"generated_at"`
	Result
	Alerts []Alert `json:"alerts"`
}

// View computes a campaign's variance view from its stored norm and
// buckets: a few small queries whatever the audience's size.
func (s *Service) View(ctx context.Context, id string) (*View, error) {
	c, err := s.campaigns.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	now := s.now()
	v := &View{CampaignID: c.ID, Name: c.Spec.Name, Status: c.Status, LaunchedAt: c.LaunchedAt, End: c.End,
		Audience: treated(c), Source: SourceNone, Basis: []string{}, Profile: profile(c), GeneratedAt: now, Alerts: []Alert{}}
	v.Result = Result{Stages: []StageResult{}, Stores: []StoreResult{}, Findings: []Finding{}}
	if c.LaunchedAt == nil {
		return v, nil
	}
	n, err := s.readNorm(ctx, id)
	if err != nil {
		return nil, err
	}
	v.Source, v.Basis = n.Source, n.Basis
	start := epochHour(*c.LaunchedAt)
	last := min(epochHour(now), epochHour(c.End.Add(-time.Nanosecond))+1)
	hours := int(min(max(last-start, 0), MaxHours))
	v.AsOf = hourStart(start + int64(hours))
	a, err := s.readActuals(ctx, id, *c.LaunchedAt, hours)
	if err != nil {
		return nil, err
	}
	v.Result = Evaluate(n, float64(v.Audience), a, hours)
	if v.Alerts, err = s.OpenAlerts(ctx, id); err != nil {
		return nil, err
	}
	return v, nil
}

func (s *Service) readNorm(ctx context.Context, id string) (Norm, error) {
	n := Norm{Source: SourceNone, Basis: []string{}, Curves: map[Stage]Curve{}, StoreShares: map[string]float64{}}
	var basis string
	err := s.db.R.QueryRowContext(ctx, `SELECT source, basis FROM variance_norm_info WHERE campaign_id = $1`, id).Scan(&n.Source, &basis)
	if errors.Is(err, sql.ErrNoRows) {
		return n, nil
	}
	if err != nil {
		return n, fmt.Errorf("variance: norm: %w", err)
	}
	_ = json.Unmarshal([]byte(basis), &n.Basis) // written by Prepare
	rows, err := s.db.R.QueryContext(ctx, `SELECT stage, hour, per_member, spread FROM variance_norms WHERE campaign_id = $1 ORDER BY stage, hour`, id)
	if err != nil {
		return n, fmt.Errorf("variance: norm: %w", err)
	}
	for rows.Next() {
		var st Stage
		var h int
		var pm, sp float64
		if err := rows.Scan(&st, &h, &pm, &sp); err != nil {
			rows.Close()
			return n, fmt.Errorf("variance: norm: %w", err)
		}
		c := n.Curves[st]
		c.Cum, c.Spread = append(c.Cum, pm), append(c.Spread, sp)
		n.Curves[st] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return n, fmt.Errorf("variance: norm: %w", err)
	}
	rows, err = s.db.R.QueryContext(ctx, `SELECT store_id, share FROM variance_store_shares WHERE campaign_id = $1`, id)
	if err != nil {
		return n, fmt.Errorf("variance: shares: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sid string
		var p float64
		if err := rows.Scan(&sid, &p); err != nil {
			return n, fmt.Errorf("variance: shares: %w", err)
		}
		n.StoreShares[sid] = p
	}
	return n, rows.Err()
}

// Alert is a finding raised: kept open, one per campaign, stage and store,
// until the departure clears.
type Alert struct {
	ID           int64  `json:"id"`
	CampaignID   string `json:"campaign_id"`
	CampaignName string `json:"campaign_name,omitempty"`
	// Journey names the journey of a journey's alert (CampaignID empty).
	Journey   string     `json:"journey,omitempty"`
	Stage     Stage      `json:"stage"`
	StoreID   string     `json:"store_id,omitempty"`
	Level     string     `json:"level"`
	Kind      string     `json:"kind"`
	Message   string     `json:"message"`
	RaisedAt  time.Time  `json:"raised_at"`
	ClearedAt *time.Time `json:"cleared_at,omitempty"`
}

const alertCols = `a.id, a.campaign_id, COALESCE(c.name, ''), a.journey, a.stage, a.store_id, a.level, a.kind, a.message, a.raised_at, a.cleared_at`

func scanAlerts(rows *sql.Rows) ([]Alert, error) {
	defer rows.Close()
	out := []Alert{}
	for rows.Next() {
		var a Alert
		var cleared sql.NullTime
		if err := rows.Scan(&a.ID, &a.CampaignID, &a.CampaignName, &a.Journey, &a.Stage, &a.StoreID, &a.Level, &a.Kind, &a.Message, &a.RaisedAt, &cleared); err != nil {
			return nil, fmt.Errorf("variance: alerts: %w", err)
		}
		a.RaisedAt = a.RaisedAt.UTC()
		if cleared.Valid {
			t := cleared.Time.UTC()
			a.ClearedAt = &t
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// OpenAlerts lists a campaign's open alerts, gravest first.
func (s *Service) OpenAlerts(ctx context.Context, id string) ([]Alert, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+alertCols+` FROM variance_alerts a JOIN campaigns c ON c.id = a.campaign_id
		WHERE a.campaign_id = $1 AND a.cleared_at IS NULL ORDER BY a.level DESC, a.raised_at, a.id`, id)
	if err != nil {
		return nil, fmt.Errorf("variance: alerts: %w", err)
	}
	return scanAlerts(rows)
}

// AllOpenAlerts lists every campaign's and journey's open alerts, for the
// overview.
func (s *Service) AllOpenAlerts(ctx context.Context) ([]Alert, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+alertCols+` FROM variance_alerts a LEFT JOIN campaigns c ON c.id = a.campaign_id
		WHERE a.cleared_at IS NULL ORDER BY a.level DESC, a.raised_at DESC, a.id LIMIT 100`)
	if err != nil {
		return nil, fmt.Errorf("variance: alerts: %w", err)
	}
	return scanAlerts(rows)
}

// Check is one monitoring pass over a campaign: the incremental bucket
// pass, the norm if missing or stale, then the alerts reconciled with the
// view's findings: a new finding (or a graver one) raises an alert, written
// with its event in the stream and its webhook event in one transaction; a
// finding gone clears its alert. It returns the alerts raised.
func (s *Service) Check(ctx context.Context, id string) ([]Alert, error) {
	c, err := s.campaigns.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if c.LaunchedAt == nil {
		return nil, nil
	}
	if err := s.Update(ctx, id, *c.LaunchedAt); err != nil {
		return nil, err
	}
	if err := s.Prepare(ctx, id, false); err != nil {
		return nil, err
	}
	v, err := s.View(ctx, id)
	if err != nil {
		return nil, err
	}
	return s.reconcile(ctx, c, v)
}

func (s *Service) reconcile(ctx context.Context, c *campaign.Campaign, v *View) ([]Alert, error) {
	now := s.now()
	open := map[string]Alert{}
	for _, a := range v.Alerts {
		open[string(a.Stage)+"/"+a.StoreID] = a
	}
	var raised []Alert
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		found := map[string]bool{}
		for _, f := range v.Findings {
			found[f.Key()] = true
			cur, ok := open[f.Key()]
			if ok && levelRank(cur.Level) >= f.Level {
				continue // raised already; de-escalation waits for the clear
			}
			if ok {
				if _, err := tx.ExecContext(ctx, `UPDATE variance_alerts SET cleared_at = $2 WHERE id = $1`, cur.ID, now); err != nil {
					return err
				}
			}
			a := Alert{CampaignID: c.ID, CampaignName: c.Spec.Name, Stage: f.Stage, StoreID: f.StoreID, Level: f.Level.String(),
				Kind: f.Kind, Message: f.Message, RaisedAt: now}
			q := `INSERT INTO variance_alerts (campaign_id, stage, store_id, level, kind, message, raised_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`
			if err := tx.QueryRowContext(ctx, q, a.CampaignID, string(a.Stage), a.StoreID, a.Level, a.Kind, a.Message, now).Scan(&a.ID); err != nil {
				return err
			}
			if err := s.emit(ctx, tx, a, f.Corrections); err != nil {
				return err
			}
			raised = append(raised, a)
		}
		for k, a := range open {
			if !found[k] {
				if _, err := tx.ExecContext(ctx, `UPDATE variance_alerts SET cleared_at = $2 WHERE id = $1`, a.ID, now); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("variance: alerts: %w", err)
	}
	return raised, nil
}

func levelRank(l string) Level {
	switch l {
	case "red":
		return Red
	case "amber":
		return Amber
	}
	return OK
}

// emit writes the alert to the event stream and to the change recorder.
func (s *Service) emit(ctx context.Context, tx *sql.Tx, a Alert, corrections []string) error {
	data := map[string]any{"alert_id": a.ID, "campaign_id": a.CampaignID, "stage": string(a.Stage), "store_id": a.StoreID,
		"level": a.Level, "kind": a.Kind, "message": a.Message, "corrections": corrections}
	props, err := json.Marshal(data)
	if err != nil {
		return err
	}
	err = event.Record(ctx, tx, s.db.Dialect, event.Event{EventID: fmt.Sprintf("perk:variance:%s:%d", a.CampaignID, a.ID),
		Type: event.CampaignVariance, Time: a.RaisedAt, Campaign: a.CampaignID, Store: a.StoreID, Properties: props})
	if err != nil {
		return err
	}
	return change.Record(ctx, s.opt.Changes, tx, change.Event{Type: change.CampaignVariance, Data: data})
}

// CheckLive runs Check over every launched campaign that is live, paused,
// or ended within the last day, and returns how many alerts it raised.
func (s *Service) CheckLive(ctx context.Context) (int, error) {
	cs, err := s.campaigns.List(ctx, "")
	if err != nil {
		return 0, err
	}
	now, raised := s.now(), 0
	for _, c := range cs {
		if c.LaunchedAt == nil || c.Status == campaign.Scheduled || (c.Status == campaign.Ended && now.Sub(c.End) > 24*time.Hour) {
			continue
		}
		as, err := s.Check(ctx, c.ID)
		if err != nil {
			return raised, fmt.Errorf("variance: check %s: %w", c.ID, err)
		}
		raised += len(as)
	}
	return raised, nil
}

// Rebuilt is what a rebuild of the norms did.
type Rebuilt struct {
	// Campaigns counts the live campaigns whose buckets were recounted and
	// whose norm was learned again; Comparables the past campaigns whose
	// buckets were recounted for it.
	Campaigns   int `json:"campaigns"`
	Comparables int `json:"comparables"`
}

// RebuildNorms is the nightly pass (and perk variance rebuild): for every
// campaign CheckLive watches, it recounts the buckets of its comparables
// and its own from their launch, so changes older than the incremental
// pass's Lookback (a return days later, a late receipt) reach the norms,
// then learns its norm again. Each past campaign is recounted once.
func (s *Service) RebuildNorms(ctx context.Context) (*Rebuilt, error) {
	cs, err := s.campaigns.List(ctx, "")
	if err != nil {
		return nil, err
	}
	now, done, out := s.now(), map[string]bool{}, &Rebuilt{}
	for _, c := range cs {
		if c.LaunchedAt == nil || c.Status == campaign.Scheduled || (c.Status == campaign.Ended && now.Sub(c.End) > 24*time.Hour) {
			continue
		}
		comps, err := s.comparables(ctx, c)
		if err != nil {
			return out, fmt.Errorf("variance: rebuild %s: %w", c.ID, err)
		}
		for _, o := range comps {
			if done[o.ID] {
				continue
			}
			if err := s.Rebuild(ctx, o.ID, *o.LaunchedAt); err != nil {
				return out, fmt.Errorf("variance: rebuild %s: %w", o.ID, err)
			}
			done[o.ID] = true
			out.Comparables++
		}
		if err := s.Rebuild(ctx, c.ID, *c.LaunchedAt); err != nil {
			return out, fmt.Errorf("variance: rebuild %s: %w", c.ID, err)
		}
		if err := s.Prepare(ctx, c.ID, true); err != nil {
			return out, fmt.Errorf("variance: rebuild %s: %w", c.ID, err)
		}
		out.Campaigns++
	}
	return out, nil
}

// Run checks the live campaigns every interval until ctx ends; a failed
// pass is logged and the next one tries again. Once a day, at the first
// pass in the hour nightHour (UTC; -1 never), it rebuilds the norms first.
func (s *Service) Run(ctx context.Context, every time.Duration, nightHour int) {
	t := time.NewTicker(every)
	defer t.Stop()
	lastNight := ""
	for {
		now := s.now()
		if day := now.Format(time.DateOnly); nightHour >= 0 && now.Hour() == nightHour && day != lastNight {
			lastNight = day
			if r, err := s.RebuildNorms(ctx); err != nil {
				if ctx.Err() == nil {
					s.opt.Log.ErrorContext(ctx, "variance nightly rebuild", "err", err)
				}
			} else {
				s.opt.Log.InfoContext(ctx, "variance norms rebuilt", "campaigns", r.Campaigns, "comparables", r.Comparables)
			}
		}
		if n, err := s.CheckJourneys(ctx); err != nil {
			if ctx.Err() == nil {
				s.opt.Log.ErrorContext(ctx, "variance journeys pass", "err", err)
			}
		} else if n > 0 {
			s.opt.Log.InfoContext(ctx, "variance journey alerts raised", "alerts", n)
		}
		if n, err := s.CheckLive(ctx); err != nil {
			if ctx.Err() == nil {
				s.opt.Log.ErrorContext(ctx, "variance pass", "err", err)
			}
		} else if n > 0 {
			s.opt.Log.InfoContext(ctx, "variance alerts raised", "alerts", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
