package gsm

import (
	"container/list"
	"strings"
	"sync"
	"time"
)

// defaultMaxPending caps the groups a Reassembler holds. A handset sends a
// few concatenated messages at a time, so this is far beyond honest traffic
// and only stops a flood of first parts that never complete.
const defaultMaxPending = 10000

// Reassembler joins the parts of concatenated inbound messages (MO). Feed it
// each part's concatenation info (from ParseUDH) and decoded text; it returns
// the full text once all parts of a message have arrived, in seq order
// whatever the arrival order. A message is identified by its source address,
// reference and part count: the count is part of the key so that a reused
// reference with a different length starts a new message instead of mixing.
// Duplicates of a seq are ignored (SMSCs redeliver when an ack is lost).
//
// Memory is bounded: on each Add, messages whose first part arrived more than
// the TTL ago are discarded, and when too many are pending the oldest goes.
// It is safe for concurrent use.
type Reassembler struct {
	ttl      time.Duration
	now      func() time.Time
	maxGroup int // cap on pending groups; a field so tests can lower it

	mu      sync.Mutex
	pending map[groupKey]*group // guarded by mu
	byAge   *list.List          // guarded by mu; *group, oldest first
}

type groupKey struct {
	source string
	ref    uint16
	total  byte
}

type group struct {
	key   groupKey
	first time.Time     // arrival of the first part, for the TTL
	elem  *list.Element // position in byAge, for O(1) removal
	texts []string      // indexed by seq-1
	got   []bool        // texts may be empty, so presence is tracked apart
	have  int
}

// NewReassembler returns a Reassembler that discards incomplete messages
// older than ttl; ttl <= 0 disables expiry by age (the cap still applies).
// now is the clock, injected for tests; nil means time.Now.
func NewReassembler(ttl time.Duration, now func() time.Time) *Reassembler {
	if now == nil {
		now = time.Now
	}
	return &Reassembler{
		ttl:      ttl,
		now:      now,
		maxGroup: defaultMaxPending,
		pending:  make(map[groupKey]*group),
		byAge:    list.New(),
	}
}

// Add records one part's decoded text; returns (full text, true) when
// complete. Parts with total 0 or seq outside 1..total are ignored. A
// one-part message is returned at once.
func (r *Reassembler) Add(source string, ref uint16, total, seq byte, text string) (string, bool) {
	if total == 0 || seq == 0 || seq > total {
		return "", false
	}
	if total == 1 {
		return text, true
	}
	now := r.now()
	key := groupKey{source, ref, total}

	r.mu.Lock()
	defer r.mu.Unlock()
	r.evictLocked(now)
	g := r.pending[key]
	if g == nil {
		if r.byAge.Len() >= r.maxGroup {
			r.removeLocked(r.byAge.Front().Value.(*group))
		}
		g = &group{key: key, first: now, texts: make([]string, total), got: make([]bool, total)}
		g.elem = r.byAge.PushBack(g)
		r.pending[key] = g
	}
	if g.got[seq-1] {
		return "", false
	}
	g.got[seq-1], g.texts[seq-1] = true, text
	g.have++
	if g.have < len(g.texts) {
		return "", false
	}
	r.removeLocked(g)
	return strings.Join(g.texts, ""), true
}

// evictLocked drops groups whose first part is older than the TTL. Groups
// are appended as they are created, so the expired ones are at the front.
func (r *Reassembler) evictLocked(now time.Time) {
	if r.ttl <= 0 {
		return
	}
	for e := r.byAge.Front(); e != nil; e = r.byAge.Front() {
		g := e.Value.(*group)
		if now.Sub(g.first) <= r.ttl {
			return
		}
		r.removeLocked(g)
	}
}

func (r *Reassembler) removeLocked(g *group) {
	r.byAge.Remove(g.elem)
	delete(r.pending, g.key)
}

// Pending returns the number of incomplete messages held, for metrics.
func (r *Reassembler) Pending() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.pending)
}
