package event

import (
	"context"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

func TestSessionize(t *testing.T) {
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	e := func(seq int64, typ string, m int, ch Channel, campaign string) Event {
		return Event{Seq: seq, EventID: typ, Type: typ, Time: at(m), Channel: ch, Campaign: campaign}
	}
	tests := []struct {
		name string
		evs  []Event
		now  time.Time
		want []Session
	}{
		{"nothing", nil, at(0), nil},
		{
			"a gap of exactly 30 minutes continues, 31 starts anew",
			[]Event{e(1, PageViewed, 0, Web, ""), e(2, PageViewed, 30, Web, ""), e(3, PageViewed, 61, Web, "")},
			at(200),
			[]Session{
				{ID: "ses_1", Start: at(0), End: at(30), Channels: []Channel{Web}, Entry: Entry{Type: PageViewed, Channel: Web, EventID: PageViewed}, Events: 2},
				{ID: "ses_3", Start: at(61), End: at(61), Channels: []Channel{Web}, Entry: Entry{Type: PageViewed, Channel: Web, EventID: PageViewed}, Events: 1},
			},
		},
		{
			"messages sent to the shopper neither open nor extend a session; the click does, across channels to the till",
			[]Event{e(1, SMSSent, 0, SMS, "c1"), e(2, SMSDelivered, 1, SMS, "c1"), e(3, LinkClicked, 50, SMS, "c1"),
				e(4, IdentityMerged, 50, SMS, "c1"), e(5, CartUpdated, 55, Web, ""), e(6, BasketCommitted, 80, POS, "")},
			at(100),
			[]Session{{ID: "ses_3", Start: at(50), End: at(80), Channels: []Channel{SMS, Web, POS},
				Entry: Entry{Type: LinkClicked, Channel: SMS, Campaign: "c1", EventID: LinkClicked}, Events: 3, Converted: true, Open: true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Sessionize(tt.evs, 30*time.Minute, tt.now)
			if len(got) != len(tt.want) {
				t.Fatalf("got %d sessions %+v, want %+v", len(got), got, tt.want)
			}
			for i := range got {
				g, w := got[i], tt.want[i]
				if g.ID != w.ID || !g.Start.Equal(w.Start) || !g.End.Equal(w.End) || g.Entry != w.Entry ||
					g.Events != w.Events || g.Converted != w.Converted || g.Open != w.Open || len(g.Channels) != len(w.Channels) {
					t.Fatalf("session %d = %+v, want %+v", i, g, w)
				}
				for j := range w.Channels {
					if g.Channels[j] != w.Channels[j] {
						t.Fatalf("channels %v, want %v", g.Channels, w.Channels)
					}
				}
			}
		})
	}
}

func TestSessions_FollowTheMergeAndTheConfiguredGap(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		clock := func() time.Time { return t0.Add(3 * time.Hour) }
		s := NewService(db, Options{Now: clock, SessionGap: 10 * time.Minute})
		addMember(t, db, "mem_ann", codeOf(1))
		a := map[string]string{"anonymous_id": "browser"}
		in, rej, _ := Decode(batch(ev("p1", PageViewed, 0, a, `{"url":"/"}`), ev("c1", CartUpdated, 5, a, `{"items":[]}`)), t0)
		s.Ingest(context.Background(), in, rej)
		record(t, db, Event{EventID: "perk:click:1", Type: LinkClicked, Time: t0.Add(30 * time.Minute), Channel: SMS, AnonymousID: "browser", MemberID: "mem_ann"},
			Event{EventID: "perk:basket:1", Type: BasketCommitted, Time: t0.Add(35 * time.Minute), Channel: POS, MemberID: "mem_ann"})
		got, err := s.Sessions(context.Background(), "mem_ann", 10)
		if err != nil {
			t.Fatal(err)
		}
		// With a 10-minute gap the anonymous browsing and the click are two sessions, newest first.
		if len(got) != 2 || got[0].Entry.Type != LinkClicked || !got[0].Converted || got[0].Events != 2 ||
			got[1].Entry.Type != PageViewed || got[1].Converted || got[1].Events != 2 {
			t.Errorf("sessions = %+v", got)
		}
	})
}
