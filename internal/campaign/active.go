package campaign

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/perk-platform/perk/internal/checkout/engine"
	"github.com/perk-platform/perk/internal/problem"
)

// Live is a launched campaign ready for the tills.
type Live struct {
	*Campaign
	Compiled *engine.Compiled
	Location *time.Location
	// Dynamic audiences (all, open) take in members who join after launch;
	// fixed ones (filter, list) are the campaign_members rows.
	Dynamic bool
	spec    string // the stored spec's text, to know an unchanged row at the next load
}

// LiveSet is the launched, not yet ended campaigns at one moment, in the
// engine's form. It is shared and must not be changed.
type LiveSet struct {
	List   []*Live // in the engine's rank order
	ByID   map[string]*Live
	Loaded time.Time
	// Index narrows List to the campaigns a basket can get; campaigns with
	// a fixed audience are gated: a member's own audience rows let them in.
	Index *engine.Index
	// Pos is each campaign's position in List (and Index).
	Pos map[string]int32
	// AnyFixed: some campaign has a fixed audience (campaign_members rows);
	// AnyLimited: some campaign limits uses per member (offer_uses rows).
	AnyFixed, AnyLimited bool
}

// liveTTL bounds how stale another instance's change can be here; changes
// made through this instance are seen at once.
const liveTTL = 2 * time.Second

type activeCache struct {
	s       *Service
	mu      sync.Mutex // guards set, gen, loading and last
	set     *LiveSet
	gen     uint64
	loading chan struct{} // closed when the load in flight ends; nil if none
	last    *LiveSet      // the latest set loaded, whose compiled campaigns a reload reuses
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
// two seconds, so the checkout's hot path reads no campaign rows. One
// caller reloads at a time: while it does, the others keep the set that
// expired, or, after a change made here, wait for the new one. A reload
// reuses the compiled form of every campaign whose stored spec is
// unchanged, so with a thousand campaigns it costs a read of their rows.
func (s *Service) Live(ctx context.Context) (*LiveSet, error) {
	a := s.active
	for {
		a.mu.Lock()
		set, gen := a.set, a.gen
		if set != nil && s.now().Sub(set.Loaded) < liveTTL {
			a.mu.Unlock()
			return set, nil
		}
		if wait := a.loading; wait != nil {
			a.mu.Unlock()
			if set != nil {
				return set, nil
			}
			select {
			case <-wait:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		done := make(chan struct{})
		a.loading, set = done, a.last
		a.mu.Unlock()

		set, err := s.loadLive(ctx, set)
		a.mu.Lock()
		a.loading = nil
		close(done)
		if err == nil {
			a.last = set
			if a.gen == gen {
				a.set = set
			}
		}
		a.mu.Unlock()
		return set, err
	}
}

// Invalidate drops the cached live set, for callers that change campaign
// rows directly (the checkout ending a campaign whose limit was reached).
func (s *Service) Invalidate() { s.active.invalidate() }

// loadLive reads the live campaigns; prev, if not nil, is the last set
// loaded, whose compiled campaigns are reused for unchanged rows.
func (s *Service) loadLive(ctx context.Context, prev *LiveSet) (*LiveSet, error) {
	now := s.now()
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+campaignCols+` FROM campaigns
		WHERE status IN ('scheduled', 'active', 'paused') AND ends_at > $1 ORDER BY id`, now)
	if err != nil {
		return nil, fmt.Errorf("live campaigns: %w", err)
	}
	defer rows.Close()
	set := &LiveSet{ByID: map[string]*Live{}, Loaded: now}
	for rows.Next() {
		c, spec, err := s.scanRaw(rows)
		if err != nil {
			return nil, err
		}
		var l *Live
		if p := prev.reusable(c, spec); p != nil {
			c.Spec = p.Spec
			l = &Live{Campaign: c, Compiled: p.Compiled, Location: p.Location, Dynamic: p.Dynamic, spec: spec}
		} else {
			if err := json.Unmarshal([]byte(spec), &c.Spec); err != nil {
				s.opt.Log.ErrorContext(ctx, "campaign spec does not decode; left out", "campaign", c.ID, "err", err)
				continue
			}
			if c.Spec.Kind != KindStandard {
				continue // gives no benefit of its own at the tills
			}
			if l, err = s.compile(c); err != nil {
				// A stored campaign that no longer compiles (the engine grew
				// stricter) must not take the tills down with it.
				s.opt.Log.ErrorContext(ctx, "campaign does not compile; left out", "campaign", c.ID, "err", err)
				continue
			}
			l.spec = spec
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
	set.index(prev)
	return set, nil
}

// reusable returns the campaign of the set that c, read with stored spec
// text spec, can take its decoded spec and compiled form from: same spec,
// same window. Nil if none.
func (set *LiveSet) reusable(c *Campaign, spec string) *Live {
	if set == nil {
		return nil
	}
	p := set.ByID[c.ID]
	if p == nil || p.spec != spec || !p.Start.Equal(c.Start) || !p.End.Equal(c.End) {
		return nil
	}
	return p
}

// index builds the set's index and positions, or takes prev's when every
// campaign and its place are unchanged.
func (set *LiveSet) index(prev *LiveSet) {
	set.Pos = make(map[string]int32, len(set.List))
	same := prev != nil && len(prev.List) == len(set.List)
	compiled := make([]*engine.Compiled, len(set.List))
	for i, l := range set.List {
		set.Pos[l.ID] = int32(i)
		compiled[i] = l.Compiled
		same = same && prev.List[i].Compiled == l.Compiled && prev.List[i].Dynamic == l.Dynamic
		set.AnyFixed = set.AnyFixed || !l.Dynamic
		set.AnyLimited = set.AnyLimited || l.Spec.Limits.PerMember > 0 || l.Spec.Limits.PerPeriod > 0
	}
	if same {
		set.Index = prev.Index
		return
	}
	set.Index = engine.NewIndex(compiled, func(i int) bool { return !set.List[i].Dynamic })
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
// the simulation of a draft). A campaign of another kind has no benefits
// for the engine.
func (s *Service) Compile(c *Campaign) (*Live, error) {
	if c.Spec.Kind != KindStandard {
		return nil, problem.InvalidField("kind", "kind_not_simulated", nil,
			"a %s campaign has no benefits of its own to simulate: the offers it gives are personal-offer campaigns", c.Spec.Kind)
	}
	return s.compile(c)
}
