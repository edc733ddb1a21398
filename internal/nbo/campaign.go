package nbo

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
)

// KindNextBestOffer is the kind of campaign that gives each member of its
// audience their own top k offers of the pool (campaign.KindNextBestOffer).
const KindNextBestOffer = campaign.KindNextBestOffer

// CampaignSpec is the body of POST /v1/nbo/campaigns, the shorthand for a
// campaign of kind next_best_offer that starts now: Launch creates that
// campaign (campaign.Spec with Kind next_best_offer) and launches it, so
// both take the one code path (launchCampaign). Each member of the audience
// is given, as personal offers, the top K offers of the pool for them; a
// Holdout percent of them (a stable draw by member) get K offers of the
// pool drawn at random instead, so the report can say whether the ranking
// beats chance.
type CampaignSpec struct {
	Name     string            `json:"name" yaml:"name"`
	Kind     string            `json:"kind" yaml:"kind"` // next_best_offer
	Audience campaign.Audience `json:"audience" yaml:"audience"`
	K        int               `json:"k" yaml:"k"`             // offers per member, 1 to 10
	Holdout  int               `json:"holdout" yaml:"holdout"` // percent given random offers, 0 to 50
	Announce bool              `json:"announce,omitempty" yaml:"announce,omitempty"`
	// End is the campaign's end (its report's window), as in a campaign
	// spec; empty is the latest end of the pool's offers.
	End string `json:"end,omitempty" yaml:"end,omitempty"`
}

// Arms of a next_best_offer campaign.
const (
	ArmRanked = "ranked"
	ArmRandom = "random"
)

// Launched is the outcome of Launch.
type Launched struct {
	Name       string         `json:"name"`
	CampaignID string         `json:"campaign_id"` // the campaign of kind next_best_offer
	Members    int64          `json:"members"`
	Ranked     int64          `json:"ranked"` // members given their top k
	Random     int64          `json:"random"` // members given k random offers (the holdout)
	Offers     map[string]int `json:"offers"` // members given each pool offer
}

// ErrCampaignExists: a next_best_offer campaign gives its offers once.
var ErrCampaignExists = problem.New(problem.Conflict, "nbo_campaign_exists", "a next_best_offer campaign of this name has been launched")

func (c *CampaignSpec) validate() error {
	if !nameOK.MatchString(c.Name) {
		return problem.InvalidField("name", "name_invalid", nil, "must be 1 to 80 letters, digits, spaces or punctuation")
	}
	if c.Kind != KindNextBestOffer {
		return problem.InvalidField("kind", "kind_invalid", nil, "must be %s", KindNextBestOffer)
	}
	if c.K < 1 || c.K > campaign.MaxNBOK {
		return problem.InvalidField("k", "k_invalid", nil, "must be 1 to %d", campaign.MaxNBOK)
	}
	if c.Holdout < 0 || c.Holdout > campaign.MaxNBOHoldout {
		return problem.InvalidField("holdout", "holdout_invalid", nil, "must be a percentage from 0 to %d", campaign.MaxNBOHoldout)
	}
	if k := c.Audience.Kind; k != campaign.AudienceAll && k != campaign.AudienceFilter {
		return problem.InvalidField("audience.kind", "audience_invalid", nil, "must be all or filter")
	}
	return nil
}

// InHoldout reports whether a member of the run (a next_best_offer
// campaign's id; the name for runs launched before they were campaigns)
// gets random offers: the campaigns' stable draw (campaign.InControl) on
// its own key.
func InHoldout(run, memberID string, percent int) bool {
	return campaign.InControl("nbo:"+run, memberID, percent)
}

// Launch is POST /v1/nbo/campaigns: it creates the campaign of kind
// next_best_offer the spec describes, starting now, and launches it
// through the campaigns' Launch, which gives the offers (launchCampaign).
func (s *Service) Launch(ctx context.Context, spec CampaignSpec) (*Launched, error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	now := s.now()
	end := spec.End
	if end == "" {
		l, err := s.current(ctx)
		if err != nil {
			return nil, err
		}
		last := now.Add(24 * time.Hour)
		for _, o := range l.pool {
			ps := o.Personal().Spec()
			if w, err := ps.Window(time.UTC); err == nil && w.End.After(last) {
				last = w.End
			}
		}
		end = last.Format(time.RFC3339)
	}
	c, err := s.campaigns.Create(ctx, campaign.Spec{Name: spec.Name, Kind: KindNextBestOffer, Start: now.Format(time.RFC3339), End: end,
		Audience: spec.Audience, NextBestOffer: &campaign.NextBestOffer{K: spec.K, Holdout: spec.Holdout, Announce: spec.Announce}})
	if errors.Is(err, campaign.ErrNameTaken) {
		return nil, ErrCampaignExists
	}
	if err != nil {
		return nil, err
	}
	if _, err := s.campaigns.Launch(ctx, c.ID); err != nil {
		return nil, err
	}
	return s.launched(ctx, c.ID, spec.Name, &Launched{})
}

// launched reads back what a run gave.
func (s *Service) launched(ctx context.Context, run, name string, out *Launched) (*Launched, error) {
	out.Name, out.CampaignID, out.Offers = name, run, map[string]int{}
	rows, err := s.db.R.QueryContext(ctx, `SELECT offer, arm, COUNT(*) FROM nbo_given WHERE run = $1 GROUP BY offer, arm`, run)
	if err != nil {
		return nil, fmt.Errorf("nbo: launched %s: %w", run, err)
	}
	defer rows.Close()
	for rows.Next() {
		var offer, arm string
		var n int
		if err := rows.Scan(&offer, &arm, &n); err != nil {
			return nil, err
		}
		out.Offers[offer] += n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	err = s.db.R.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN control = 0 THEN 1 ELSE 0 END), 0),
		COALESCE(SUM(control), 0) FROM campaign_members WHERE campaign_id = $1`, run).Scan(&out.Members, &out.Ranked, &out.Random)
	if err != nil {
		return nil, fmt.Errorf("nbo: launched %s: %w", run, err)
	}
	return out, nil
}

// launchCampaign is the campaign.KindLauncher of next_best_offer, the one
// code path of every such launch: it ranks the pool for each member of the
// audience (the model read once for all of them), gives each offer to the
// members it fell to through campaign.GivePersonal (one personal-offer
// campaign per pool offer, so the tills, the card and the OFFERS reply see
// it like any other), records who got what in which arm (nbo_given, run =
// the campaign's id) and returns the audience with the random arm as the
// campaign's control group. Members who already hold a pool offer are given
// it again only in name (Assign leaves them as they are).
func (s *Service) launchCampaign(ctx context.Context, c *campaign.Campaign) ([]campaign.LaunchedMember, error) {
	n := c.Spec.NextBestOffer
	if n == nil {
		return nil, problem.InvalidField("next_best_offer", "required", nil, "is required for a campaign of kind next_best_offer")
	}
	s.invalidate()
	l, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	if len(l.pool) < n.K {
		return nil, problem.New(problem.Conflict, "pool_too_small", fmt.Sprintf("the pool has %d offers, fewer than k = %d", len(l.pool), n.K))
	}
	run := c.ID
	body, _ := json.Marshal(c.Spec)
	now := s.now()
	if _, err := s.db.W.ExecContext(ctx, `INSERT INTO nbo_campaigns (name, spec, launched_at) VALUES ($1, $2, $3)`, run, string(body), now); err != nil {
		if _, ok := store.UniqueViolation(err); ok {
			return nil, ErrCampaignExists
		}
		return nil, fmt.Errorf("nbo: launch %s: %w", run, err)
	}
	ids, err := s.audience(ctx, c)
	if err != nil {
		return nil, err
	}
	seed := s.opt.Seed
	if seed == 0 {
		seed = uint64(now.UnixNano())
	}
	rnd := rand.New(rand.NewPCG(seed, 0x6e626f))
	type pick struct {
		member, arm string
		pos         int
		score       int64
	}
	byOffer := map[int][]pick{}
	out := make([]campaign.LaunchedMember, 0, len(ids))
	cands := l.poolCands
	index := map[string]int{}
	for i, o := range l.pool {
		index[o.Name] = i
	}
	for _, id := range ids {
		f, err := s.features(ctx, l, id)
		if err != nil {
			return nil, err
		}
		ranked := l.model.Rank(f, cands, l.groups, 0)
		if InHoldout(run, id, n.Holdout) {
			out = append(out, campaign.LaunchedMember{ID: id, Control: true})
			for pos, i := range rnd.Perm(len(l.pool))[:n.K] {
				var score int64
				for _, r := range ranked {
					if r.Name == l.pool[i].Name {
						score = int64(r.Score)
					}
				}
				byOffer[i] = append(byOffer[i], pick{id, ArmRandom, pos + 1, score})
			}
			continue
		}
		out = append(out, campaign.LaunchedMember{ID: id})
		for pos, r := range ranked[:n.K] {
			i := index[r.Name]
			byOffer[i] = append(byOffer[i], pick{id, ArmRanked, pos + 1, int64(r.Score)})
		}
	}
	random := 0
	for _, m := range out {
		if m.Control {
			random++
		}
	}
	for _, i := range slices.Sorted(maps.Keys(byOffer)) {
		o, picks := l.pool[i], byOffer[i]
		var cid string
		for start := 0; start < len(picks); start += campaign.MaxAssign {
			part := picks[start:min(start+campaign.MaxAssign, len(picks))]
			members := make([]string, len(part))
			for j, p := range part {
				members[j] = p.member
			}
			g, err := s.campaigns.GivePersonal(ctx, o.Personal(), members, n.Announce)
			if err != nil {
				return nil, fmt.Errorf("nbo: give %q: %w", o.Name, err)
			}
			cid = g.Campaign.ID
		}
		err := s.db.Tx(ctx, func(tx *sql.Tx) error {
			for _, p := range picks {
				if _, err := tx.ExecContext(ctx, `INSERT INTO nbo_given (run, member_id, offer, campaign_id, arm, position, score, given_at)
					VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, run, p.member, o.Name, cid, p.arm, p.pos, p.score, now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("nbo: record %q: %w", o.Name, err)
		}
	}
	s.invalidate()
	s.opt.Log.InfoContext(ctx, "next_best_offer campaign launched", "campaign", run, "members", len(out),
		"ranked", len(out)-random, "random", random)
	return out, nil
}

// audience is the campaign's members, sorted: every member not erased, or
// those the filter chooses now (the campaigns' own audience query).
func (s *Service) audience(ctx context.Context, c *campaign.Campaign) ([]string, error) {
	var ids []string
	if c.Spec.Audience.Kind == campaign.AudienceAll {
		err := eachRow(ctx, s.db.R, `SELECT id FROM members WHERE status <> 'erased' ORDER BY id`, nil, func(id string) error {
			ids = append(ids, id)
			return nil
		})
		return ids, err
	}
	set, err := s.campaigns.Audience(ctx, c)
	if err != nil {
		return nil, err
	}
	for id := range set {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}
