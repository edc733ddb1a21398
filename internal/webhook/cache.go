package webhook

import (
	"context"
	"sync"
	"time"
)

// refresh bounds how long a change to endpoints made by another Perk
// process goes unseen here (this process's changes invalidate at once). It
// is measured on the process's own monotonic clock: it is not a business
// rule, and a test's stopped clock must not freeze it.
const refresh = 2 * time.Second

// cache holds the endpoints in memory, so that recording an event nobody
// subscribed to costs no query in the till's transaction, and the
// dispatcher finds URLs and secrets without a join.
type cache struct {
	s    *Service
	mu   sync.Mutex // guards the fields below
	at   time.Time  // when loaded; zero when invalid
	byID map[string]*Endpoint
	subs map[string][]*Endpoint // event type -> endpoints subscribed
}

func newCache(s *Service) *cache { return &cache{s: s} }

func (c *cache) invalidate() {
	c.mu.Lock()
	c.at = time.Time{}
	c.mu.Unlock()
}

// get returns the maps, reloading them when stale (or when force is set, for
// an endpoint id not known yet) through q: inside a transaction, its own,
// since on PostgreSQL a transaction waiting for a second connection of a
// full pool could wait for ever.
func (c *cache) get(ctx context.Context, q querier, force bool) (map[string]*Endpoint, map[string][]*Endpoint, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !force && !c.at.IsZero() && time.Since(c.at) < refresh {
		return c.byID, c.subs, nil
	}
	list, err := c.s.list(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	byID := make(map[string]*Endpoint, len(list))
	subs := map[string][]*Endpoint{}
	for _, e := range list {
		e.decodeKeys()
		byID[e.ID] = e
		for _, t := range e.EventTypes {
			subs[t] = append(subs[t], e)
		}
	}
	c.byID, c.subs, c.at = byID, subs, time.Now()
	return byID, subs, nil
}

// wants is true unless the fresh cache shows nobody subscribed to t.
func (c *cache) wants(t string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() || time.Since(c.at) >= refresh {
		return true
	}
	return len(c.subs[t]) > 0
}

// endpoint returns one endpoint, reloading once if it is not known.
func (c *cache) endpoint(ctx context.Context, endpointID string) (*Endpoint, error) {
	byID, _, err := c.get(ctx, c.s.db.R, false)
	if err != nil {
		return nil, err
	}
	if e, ok := byID[endpointID]; ok {
		return e, nil
	}
	byID, _, err = c.get(ctx, c.s.db.R, true)
	if err != nil {
		return nil, err
	}
	if e, ok := byID[endpointID]; ok {
		return e, nil
	}
	return nil, ErrNotFound
}
