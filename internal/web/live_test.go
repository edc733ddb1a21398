package web

import (
	"testing"
	"time"
)

func TestLiveWakesWatchersOfTheCampaignAndOfAll(t *testing.T) {
	l := NewLive()
	a, stopA := l.Subscribe("c1")
	b, stopB := l.Subscribe("c2")
	all, stopAll := l.Subscribe("")
	defer stopB()
	defer stopAll()
	woken := func(ch <-chan struct{}) bool {
		select {
		case <-ch:
			return true
		case <-time.After(10 * time.Millisecond):
			return false
		}
	}
	l.Notify("c1")
	l.Notify("c1") // coalesced: a slow page gets one wake-up, never blocks the till
	if !woken(a) || woken(a) || woken(b) || !woken(all) {
		t.Fatal("c1's change reached the wrong pages")
	}
	stopA()
	l.Notify("c1") // nobody left for c1: must not panic or block
	var nilHub *Live
	nilHub.Notify("c1")
}
