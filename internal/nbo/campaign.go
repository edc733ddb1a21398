package nbo

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/problem"
	"github.com/perk-platform/perk/internal/store"
)

// KindNextBestOffer is the kind of campaign that gives each member of its
// audience their own top k offers of the pool.
const KindNextBestOffer = "next_best_offer"

// CampaignSpec is a next_best_offer campaign. Each member of the audience
// is given, as personal offers, the top K offers of the pool for them; a
// Holdout percent of them (a stable draw by member) get K offers of the
// pool drawn at random instead, so the report can say whether the ranking
// beats chance (report.NextBestOfferUplift).
type CampaignSpec struct {
	Name     string            `json:"name" yaml:"name"`
	Kind     string            `json:"kind" yaml:"kind"` // next_best_offer
	Audience campaign.Audience `json:"audience" yaml:"audience"`
	K        int               `json:"k" yaml:"k"`             // offers per member, 1 to 10
	Holdout  int               `json:"holdout" yaml:"holdout"` // percent given random offers, 0 to 50
	Announce bool              `json:"announce,omitempty" yaml:"announce,omitempty"`
}

// Arms of a next_best_offer campaign.
const (
	ArmRanked = "ranked"
	ArmRandom = "random"
)

// Launched is the outcome of Launch.
type Launched struct {
	Name    string         `json:"name"`
	Members int64          `json:"members"`
	Ranked  int64          `json:"ranked"` // members given their top k
	Random  int64          `json:"random"` // members given k random offers (the holdout)
	Offers  map[string]int `json:"offers"` // members given each pool offer
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
	if c.K < 1 || c.K > 10 {
		return problem.InvalidField("k", "k_invalid", nil, "must be 1 to 10")
	}
	if c.Holdout < 0 || c.Holdout > 50 {
		return problem.InvalidField("holdout", "holdout_invalid", nil, "must be a percentage from 0 to 50")
	}
	if k := c.Audience.Kind; k != campaign.AudienceAll && k != campaign.AudienceFilter {
		return problem.InvalidField("audience.kind", "audience_invalid", nil, "must be all or filter")
	}
	return nil
}

// InHoldout reports whether a member of the named campaign gets random
// offers: the campaigns' stable draw (campaign.InControl) on its own key.
func InHoldout(name, memberID string, percent int) bool {
	return campaign.InControl("nbo:"+name, memberID, percent)
}

// Launch runs a next_best_offer campaign: it ranks the pool for each member
// of the audience (the model read once for all of them), gives each offer
// to the members it fell to through campaign.GivePersonal (one
// personal-offer campaign per pool offer, so the tills, the card and the
// OFFERS reply see it like any other), and records who got what in which
// arm. Members who already hold a pool offer are given it again only in
// name (Assign leaves them as they are).
func (s *Service) Launch(ctx context.Context, spec CampaignSpec) (*Launched, error) {
	if err := spec.validate(); err != nil {
		return nil, err
	}
	s.invalidate()
	l, err := s.current(ctx)
	if err != nil {
		return nil, err
	}
	if len(l.pool) < spec.K {
		return nil, problem.New(problem.Conflict, "pool_too_small", fmt.Sprintf("the pool has %d offers, fewer than k = %d", len(l.pool), spec.K))
	}
	body, _ := json.Marshal(spec)
	now := s.now()
	if _, err := s.db.W.ExecContext(ctx, `INSERT INTO nbo_campaigns (name, spec, launched_at) VALUES ($1, $2, $3)`, spec.Name, string(body), now); err != nil {
		if _, ok := store.UniqueViolation(err); ok {
			return nil, ErrCampaignExists
		}
		return nil, fmt.Errorf("nbo: launch %s: %w", spec.Name, err)
	}
	ids, err := s.audience(ctx, spec)
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
	out := &Launched{Name: spec.Name, Members: int64(len(ids)), Offers: map[string]int{}}
	cands := make([]Candidate, len(l.pool))
	for i, o := range l.pool {
		cands[i] = Candidate{Source: SourcePool, Name: o.Name, Offer: o}
	}
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
		if InHoldout(spec.Name, id, spec.Holdout) {
			out.Random++
			for pos, i := range rnd.Perm(len(l.pool))[:spec.K] {
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
		out.Ranked++
		for pos, r := range ranked[:spec.K] {
			i := index[r.Name]
			byOffer[i] = append(byOffer[i], pick{id, ArmRanked, pos + 1, int64(r.Score)})
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
			g, err := s.campaigns.GivePersonal(ctx, o.Personal(), members, spec.Announce)
			if err != nil {
				return nil, fmt.Errorf("nbo: give %q: %w", o.Name, err)
			}
			cid = g.Campaign.ID
		}
		err := s.db.Tx(ctx, func(tx *sql.Tx) error {
			for _, p := range picks {
				if _, err := tx.ExecContext(ctx, `INSERT INTO nbo_given (run, member_id, offer, campaign_id, arm, position, score, given_at)
					VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, spec.Name, p.member, o.Name, cid, p.arm, p.pos, p.score, now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("nbo: record %q: %w", o.Name, err)
		}
		out.Offers[o.Name] = len(picks)
	}
	s.invalidate()
	s.opt.Log.InfoContext(ctx, "next_best_offer campaign launched", "name", spec.Name, "members", out.Members,
		"ranked", out.Ranked, "random", out.Random)
	return out, nil
}

// audience is the campaign's members, sorted: every member not erased, or
// those the filter chooses now (the campaigns' own audience query).
func (s *Service) audience(ctx context.Context, spec CampaignSpec) ([]string, error) {
	var ids []string
	if spec.Audience.Kind == campaign.AudienceAll {
		err := eachRow(ctx, s.db.R, `SELECT id FROM members WHERE status <> 'erased' ORDER BY id`, nil, func(id string) error {
			ids = append(ids, id)
			return nil
		})
		return ids, err
	}
	probe := &campaign.Campaign{ID: "nbo:" + spec.Name, Spec: campaign.Spec{Name: spec.Name, Audience: spec.Audience}}
	set, err := s.campaigns.Audience(ctx, probe)
	if err != nil {
		return nil, err
	}
	for id := range set {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids, nil
}
