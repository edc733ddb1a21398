package web

import (
	"sync"
)

// Live tells open dashboard pages that a campaign's figures moved (a till
// committed, returned or voided a basket that redeemed it), so they redraw
// within a second instead of polling the database. It is in-process: pages
// served by another instance still catch up through their periodic refresh.
type Live struct {
	mu   sync.Mutex // guards subs
	subs map[string]map[chan struct{}]struct{}
}

// NewLive returns an empty hub.
func NewLive() *Live { return &Live{subs: map[string]map[chan struct{}]struct{}{}} }

// Notify wakes every page watching one of the campaigns ("" wakes the pages
// watching any, such as the overview). It never blocks: a page that has
// not caught up yet keeps one pending wake-up.
func (l *Live) Notify(campaignIDs ...string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	wake := func(id string) {
		for ch := range l.subs[id] {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}
	for _, id := range campaignIDs {
		wake(id)
	}
	wake("")
}

// Subscribe returns a channel woken when the campaign changes ("" for any)
// and a func to stop.
func (l *Live) Subscribe(campaignID string) (<-chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	l.mu.Lock()
	if l.subs[campaignID] == nil {
		l.subs[campaignID] = map[chan struct{}]struct{}{}
	}
	l.subs[campaignID][ch] = struct{}{}
	l.mu.Unlock()
	return ch, func() {
		l.mu.Lock()
		delete(l.subs[campaignID], ch)
		if len(l.subs[campaignID]) == 0 {
			delete(l.subs, campaignID)
		}
		l.mu.Unlock()
	}
}
