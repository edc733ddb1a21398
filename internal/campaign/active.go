package campaign

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/perk-platform/perk/internal/checkout/engine"
)

// Live is a launched campaign ready for the tills.
type Live struct {
	*Campaign
	Compiled *engine.Compiled
	Location *time.Location
	// Dynamic audiences (all, open) take in members who join after launch;
	// fixed ones (filter, list) are the campaign_members rows.
	Dynamic bool
}

// LiveSet is the launched, not yet ended campaigns at one moment, in the
// engine's form. It is shared and must not be changed.
type LiveSet struct {
	List   []*Live
	ByID   map[string]*Live
	Loaded time.Time
}

// liveTTL bounds how stale another instance's change can be here; changes
// made through this instance are seen at once.
const liveTTL = 2 * time.Second

type activeCache struct {
	s   *Service
	mu  sync.Mutex // guards set and gen
	set *LiveSet
	gen uint64
}

func newActiveCache(s *Service) *activeCache { return &activeCache{s: s} }

func (a *activeCache) invalidate() {
	a.mu.Lock()
	a.set = nil
	a.gen++
	a.mu.Unlock()
}

// Live returns the campaigns the tills see: launched and not ended, paused
// ones included (the engine reports them as paused). The set is cached,
// reloaded when a campaign changes through this service and at least every
// two seconds, so the checkout's hot path reads no campaign rows.
func (s *Service) Live(ctx context.Context) (*LiveSet, error) {
	a := s.active
	a.mu.Lock()
	set, gen := a.set, a.gen
	a.mu.Unlock()
	if set != nil && s.now().Sub(set.Loaded) < liveTTL {
		return set, nil
	}
	set, err := s.loadLive(ctx)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	if a.gen == gen {
		a.set = set
	}
	a.mu.Unlock()
	return set, nil
}

// Invalidate drops the cached live set, for callers that change campaign
// rows directly (the checkout ending a campaign whose limit was reached).
func (s *Service) Invalidate() { s.active.invalidate() }

func (s *Service) loadLive(ctx context.Context) (*LiveSet, error) {
	now := s.now()
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+campaignCols+` FROM campaigns
		WHERE status IN ('scheduled', 'active', 'paused') AND ends_at > $1 ORDER BY id`, now)
	if err != nil {
		return nil, fmt.Errorf("live campaigns: %w", err)
	}
	defer rows.Close()
	set := &LiveSet{ByID: map[string]*Live{}, Loaded: now}
	for rows.Next() {
		c, err := s.scan(rows)
		if err != nil {
			return nil, err
		}
		l, err := s.compile(c)
		if err != nil {
			// A stored campaign that no longer compiles (the engine grew
			// stricter) must not take the tills down with it.
			s.opt.Log.ErrorContext(ctx, "campaign does not compile; left out", "campaign", c.ID, "err", err)
			continue
		}
		set.List = append(set.List, l)
		set.ByID[c.ID] = l
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// The engine ranks candidates on every call; handing them over already
	// in rank order makes that sort nearly free.
	slices.SortStableFunc(set.List, func(a, b *Live) int { return engine.CompareRank(a.Compiled, b.Compiled) })
	return set, nil
}

func (s *Service) compile(c *Campaign) (*Live, error) {
	loc, err := c.Spec.Location(s.opt.Zone)
	if err != nil {
		return nil, err
	}
	ec := c.Spec.engineCampaign(c.ID, Window{Start: c.Start, End: c.End, Location: loc}, s.opt.Currency)
	comp, err := engine.Compile(ec)
	if err != nil {
		return nil, err
	}
	return &Live{Campaign: c, Compiled: comp, Location: loc, Dynamic: c.dynamic()}, nil
}

// Compile prepares any campaign, launched or not, for the engine (used by
// the simulation of a draft).
func (s *Service) Compile(c *Campaign) (*Live, error) { return s.compile(c) }
