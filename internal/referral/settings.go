package referral

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/problem"
)

// Reward kinds.
const (
	RewardPoints  = "points"  // bonus points (pending through the returns window when the purchase qualifies)
	RewardOffer   = "offer"   // the member joins a launched list campaign: a personal offer
	RewardContent = "content" // a code from a free content pool
)

// Reward is what one side of a referral gets.
type Reward struct {
	Kind   string `json:"kind" yaml:"kind"`
	Points int64  `json:"points,omitempty" yaml:"points,omitempty"` // points: how many
	// Campaign is the offer's campaign, by id or name (saved as its id): a
	// launched campaign with a list audience, such as a personal offer.
	Campaign string `json:"campaign,omitempty" yaml:"campaign,omitempty"`
	Pool     string `json:"pool,omitempty" yaml:"pool,omitempty"` // content: the pool its codes come from
	// Value is what one offer or content code costs the programme, in minor
	// units, for the budget and the report (points cost what the ledger's
	// redemption rate says they are worth).
	Value int64 `json:"value,omitempty" yaml:"value,omitempty"`
}

// Settings are the programme's referral rules.
type Settings struct {
	// Enabled: referral codes are recorded and rewarded. Off, links and
	// codes still sign friends up (never blocked) and are recorded as
	// refused with the reason "referrals are off".
	Enabled bool `json:"enabled" yaml:"enabled"`
	// Qualify is what earns the rewards: "join" (the friend joins) or
	// "purchase" (the friend's first purchase of at least MinPurchase
	// within WithinDays of joining).
	Qualify     string `json:"qualify" yaml:"qualify"`
	MinPurchase int64  `json:"min_purchase" yaml:"min_purchase"` // minor units, after discounts
	WithinDays  int    `json:"within_days" yaml:"within_days"`
	// ReturnsDays is the returns window: the qualifying purchase returned
	// (below MinPurchase) within it takes the rewards back.
	ReturnsDays int     `json:"returns_days" yaml:"returns_days"`
	Referrer    *Reward `json:"referrer,omitempty" yaml:"referrer,omitempty"`
	Friend      *Reward `json:"friend,omitempty" yaml:"friend,omitempty"`
	// CapPerYear is the most rewarded referrals a referrer has in any 365
	// days (0: no cap).
	CapPerYear int `json:"cap_per_year" yaml:"cap_per_year"`
	// Budget is the most the rewards may cost in all, minor units, net of
	// clawbacks (0: no budget).
	Budget int64 `json:"budget" yaml:"budget"`
}

// Defaults are the settings before any are saved: off, and when on, qualifying by a first purchase of any amount
// within 30 days, returnable for 30 days.
func Defaults() Settings {
	return Settings{Qualify: QualifyPurchase, WithinDays: 30, ReturnsDays: 30}
}

// Validate checks the settings with field-precise errors; it does not look
// up the offer's campaign (Save does).
func (st *Settings) Validate() error {
	switch st.Qualify {
	case QualifyJoin, QualifyPurchase:
	default:
		return problem.InvalidField("qualify", "qualify_invalid", nil, "must be %q or %q, not %q", QualifyJoin, QualifyPurchase, st.Qualify)
	}
	if st.MinPurchase < 0 {
		return problem.InvalidField("min_purchase", "amount_invalid", nil, "must be 0 or more (minor units)")
	}
	if st.Qualify == QualifyPurchase && (st.WithinDays < 1 || st.WithinDays > 3660) {
		return problem.InvalidField("within_days", "days_invalid", nil, "must be 1 to 3660 days")
	}
	if st.ReturnsDays < 0 || st.ReturnsDays > 3660 {
		return problem.InvalidField("returns_days", "days_invalid", nil, "must be 0 to 3660 days")
	}
	if st.CapPerYear < 0 {
		return problem.InvalidField("cap_per_year", "cap_invalid", nil, "must be 0 (no cap) or more")
	}
	if st.Budget < 0 {
		return problem.InvalidField("budget", "budget_invalid", nil, "must be 0 (no budget) or more (minor units)")
	}
	if st.Enabled && st.Referrer == nil && st.Friend == nil {
		return problem.InvalidField("referrer", "reward_required", nil, "referrals that are on need a reward for the referrer, the friend or both")
	}
	for _, side := range []struct {
		name string
		r    *Reward
	}{{"referrer", st.Referrer}, {"friend", st.Friend}} {
		if side.r == nil {
			continue
		}
		if err := side.r.validate(side.name); err != nil {
			return err
		}
	}
	return nil
}

func (r *Reward) validate(side string) error {
	f := func(name string) string { return side + "." + name }
	switch r.Kind {
	case RewardPoints:
		if r.Points < 1 || r.Points > ledger.MaxPoints {
			return problem.InvalidField(f("points"), "points_invalid", nil, "must be 1 to %d", ledger.MaxPoints)
		}
		if r.Campaign != "" || r.Pool != "" || r.Value != 0 {
			return problem.InvalidField(f("kind"), "reward_invalid", nil, "a points reward has only points (its cost is the points' value)")
		}
	case RewardOffer:
		if strings.TrimSpace(r.Campaign) == "" {
			return problem.InvalidField(f("campaign"), "required", nil, "an offer reward names its campaign (id or name)")
		}
		if r.Points != 0 || r.Pool != "" {
			return problem.InvalidField(f("kind"), "reward_invalid", nil, "an offer reward has a campaign and a value only")
		}
	case RewardContent:
		if strings.TrimSpace(r.Pool) == "" {
			return problem.InvalidField(f("pool"), "required", nil, "a content reward names its pool")
		}
		if r.Points != 0 || r.Campaign != "" {
			return problem.InvalidField(f("kind"), "reward_invalid", nil, "a content reward has a pool and a value only")
		}
	default:
		return problem.InvalidField(f("kind"), "reward_kind_invalid", nil, "must be %s, %s or %s, not %q", RewardPoints, RewardOffer, RewardContent, r.Kind)
	}
	if r.Value < 0 {
		return problem.InvalidField(f("value"), "amount_invalid", nil, "must be 0 or more (minor units)")
	}
	return nil
}

// ParseSettings reads settings from YAML or JSON (JSON is YAML), refusing
// unknown fields, with defaults for the fields left out.
func ParseSettings(b []byte) (Settings, error) {
	st := Defaults()
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&st); err != nil && !errors.Is(err, io.EOF) {
		return Settings{}, problem.InvalidField("", "settings_invalid", err, "%s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return st, st.Validate()
}

// Settings returns the settings in force. They are cached, and re-read at
// most every 2 s, so another Perk process's change is seen within that.
func (s *Service) Settings(ctx context.Context) (Settings, error) {
	s.mu.Lock()
	if s.settings != nil && s.opt.Now().Sub(s.loadedAt) < 2*time.Second && s.opt.Now().Sub(s.loadedAt) >= 0 {
		st := *s.settings
		s.mu.Unlock()
		return st, nil
	}
	s.mu.Unlock()
	st, err := readSettings(ctx, s.db.R)
	if err != nil {
		return Settings{}, err
	}
	s.mu.Lock()
	s.settings, s.loadedAt = &st, s.opt.Now()
	s.mu.Unlock()
	return st, nil
}

func readSettings(ctx context.Context, q queryer) (Settings, error) {
	var spec string
	err := q.QueryRowContext(ctx, `SELECT spec FROM referral_settings WHERE id = 1`).Scan(&spec)
	if errors.Is(err, sql.ErrNoRows) {
		return Defaults(), nil
	}
	if err != nil {
		return Settings{}, fmt.Errorf("referral settings: %w", err)
	}
	st := Defaults()
	if err := json.Unmarshal([]byte(spec), &st); err != nil {
		return Settings{}, fmt.Errorf("referral settings: %w", err)
	}
	return st, nil
}

// Save validates and stores the settings; an offer reward's campaign is
// looked up (by id or name) and saved as its id. It returns what it saved.
func (s *Service) Save(ctx context.Context, st Settings) (Settings, error) {
	if err := st.Validate(); err != nil {
		return Settings{}, err
	}
	for _, side := range []struct {
		name string
		r    *Reward
	}{{"referrer", st.Referrer}, {"friend", st.Friend}} {
		if side.r == nil || side.r.Kind != RewardOffer {
			continue
		}
		id, err := s.offerCampaign(ctx, side.r.Campaign)
		if err != nil {
			return Settings{}, problem.InvalidField(side.name+".campaign", "campaign_invalid", nil, "%s", err.Error())
		}
		side.r.Campaign = id
	}
	b, _ := json.Marshal(st) // plain data
	now := s.now()
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE referral_settings SET spec = $1, updated_at = $2 WHERE id = 1`, string(b), now)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			_, err = tx.ExecContext(ctx, `INSERT INTO referral_settings (id, spec, updated_at) VALUES (1, $1, $2)`, string(b), now)
		}
		return err
	})
	if err != nil {
		return Settings{}, fmt.Errorf("save referral settings: %w", err)
	}
	s.mu.Lock()
	s.settings, s.loadedAt = &st, s.opt.Now()
	s.mu.Unlock()
	s.opt.Log.InfoContext(ctx, "referral settings saved", "enabled", st.Enabled, "qualify", st.Qualify)
	return st, nil
}

// offerCampaign resolves an offer reward's campaign: launched, not ended,
// with a list audience (members are added to it one by one).
func (s *Service) offerCampaign(ctx context.Context, key string) (string, error) {
	if s.campaigns == nil {
		return "", errors.New("campaigns are not available")
	}
	c, err := s.campaigns.Get(ctx, key)
	if errors.Is(err, campaign.ErrNotFound) {
		c, err = s.campaigns.ByName(ctx, key)
	}
	if errors.Is(err, campaign.ErrNotFound) {
		return "", fmt.Errorf("no campaign has the id or name %q", key)
	}
	if err != nil {
		return "", err
	}
	if c.Spec.Audience.Kind != campaign.AudienceList {
		return "", fmt.Errorf("campaign %q has a %s audience; an offer reward needs a list audience", key, c.Spec.Audience.Kind)
	}
	if !c.Launched() {
		return "", fmt.Errorf("campaign %q is a draft; launch it first", key)
	}
	return c.ID, nil
}

// Describe words a reward for shoppers ("500 points").
func (r *Reward) Describe() string {
	if r == nil {
		return ""
	}
	switch r.Kind {
	case RewardPoints:
		return fmt.Sprintf("%d points", r.Points)
	case RewardOffer:
		return "an offer"
	case RewardContent:
		return "a free gift"
	}
	return ""
}
