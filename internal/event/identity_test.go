package event

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

// Each identity rule of docs/events.md, on both databases.
func TestIdentity_Rules(t *testing.T) {
	anon := func(minutes int, id string) string {
		return ev(id, PageViewed, minutes, map[string]string{"anonymous_id": "browser"}, `{"url":"/"}`)
	}
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	tests := []struct {
		name string
		// run sends the story; want is each event's owner afterwards.
		run       func(t *testing.T, db *store.DB, s *Service)
		want      map[string]string
		merges    int
		conflicts int
	}{
		{
			name: "a tracked SMS link identifies the browser and its earlier events move to the member",
			run: func(t *testing.T, db *store.DB, s *Service) {
				ingest(t, s, batch(anon(0, "p1"), anon(1, "p2")))
				record(t, db, Event{EventID: "perk:click:1", Type: LinkClicked, Time: at(5), Channel: SMS, AnonymousID: "browser", MemberID: "mem_ann"})
				ingest(t, s, batch(anon(6, "p3")))
			},
			want:   map[string]string{"p1": "mem_ann", "p2": "mem_ann", "perk:click:1": "mem_ann", "p3": "mem_ann", "perk:merge:browser": "mem_ann"},
			merges: 1,
		},
		{
			name: "the card page identifies too",
			run: func(t *testing.T, db *store.DB, s *Service) {
				ingest(t, s, batch(anon(0, "p1")))
				record(t, db, Event{EventID: "perk:card:1", Type: CardViewed, Time: at(1), Channel: Card, AnonymousID: "browser", MemberID: "mem_ann"})
			},
			want:   map[string]string{"p1": "mem_ann", "perk:card:1": "mem_ann", "perk:merge:browser": "mem_ann"},
			merges: 1,
		},
		{
			name: "an app's identify call with a member code",
			run: func(t *testing.T, db *store.DB, s *Service) {
				ingest(t, s, batch(anon(0, "p1"), ev("id1", Identified, 1, map[string]string{"anonymous_id": "browser", "member": codeOf(1)}, "")))
			},
			want:   map[string]string{"p1": "mem_ann", "id1": "mem_ann", "perk:merge:browser": "mem_ann"},
			merges: 1,
		},
		{
			name: "the member wins: an event naming a member belongs to it even if its anonymous id is someone else's",
			run: func(t *testing.T, db *store.DB, s *Service) {
				ingest(t, s, batch(ev("id1", Identified, 0, map[string]string{"anonymous_id": "browser", "member": "mem_ann"}, "")))
				ingest(t, s, batch(ev("b1", PageViewed, 1, map[string]string{"anonymous_id": "browser", "member": "mem_bob"}, `{"url":"/"}`), anon(2, "p2")))
			},
			want:      map[string]string{"id1": "mem_ann", "b1": "mem_bob", "p2": "mem_ann", "perk:merge:browser": "mem_ann"},
			merges:    1,
			conflicts: 1,
		},
		{
			name: "two known members are never merged, whatever the order",
			run: func(t *testing.T, db *store.DB, s *Service) {
				ingest(t, s, batch(anon(0, "p1")))
				record(t, db, Event{EventID: "perk:click:bob", Type: LinkClicked, Time: at(1), Channel: SMS, AnonymousID: "browser", MemberID: "mem_bob"})
				record(t, db, Event{EventID: "perk:click:ann", Type: LinkClicked, Time: at(2), Channel: SMS, AnonymousID: "browser", MemberID: "mem_ann"})
				record(t, db, Event{EventID: "perk:click:ann2", Type: LinkClicked, Time: at(3), Channel: SMS, AnonymousID: "browser", MemberID: "mem_ann"})
			},
			want:      map[string]string{"p1": "mem_bob", "perk:click:bob": "mem_bob", "perk:click:ann": "mem_ann", "perk:click:ann2": "mem_ann", "perk:merge:browser": "mem_bob"},
			merges:    1,
			conflicts: 1, // recorded once per pair
		},
		{
			name: "a till basket naming an online order seen earlier ties the order's browser",
			run: func(t *testing.T, db *store.DB, s *Service) {
				ingest(t, s, batch(anon(0, "p1"), ev("o1", OrderPlaced, 1, map[string]string{"anonymous_id": "browser"}, `{"order_id":"W-7","total":350}`)))
				record(t, db, Event{EventID: "perk:basket:1", Type: BasketCommitted, Time: at(60), Channel: POS, MemberID: "mem_ann", OrderID: "W-7"})
			},
			want:   map[string]string{"p1": "mem_ann", "o1": "mem_ann", "perk:basket:1": "mem_ann", "perk:merge:browser": "mem_ann"},
			merges: 1,
		},
		{
			name: "an event that names nobody known stays anonymous",
			run: func(t *testing.T, db *store.DB, s *Service) {
				ingest(t, s, batch(anon(0, "p1")))
			},
			want: map[string]string{"p1": ""},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				s, _ := newService(t, db)
				addMember(t, db, "mem_ann", codeOf(1))
				addMember(t, db, "mem_bob", codeOf(2))
				tt.run(t, db, s)
				got := owners(t, db)
				if len(got) != len(tt.want) {
					t.Errorf("events %v, want %v", got, tt.want)
				}
				for id, m := range tt.want {
					if got[id] != m {
						t.Errorf("%s belongs to %q, want %q (all: %v)", id, got[id], m, got)
					}
				}
				if n := count(t, db, `SELECT COUNT(*) FROM events WHERE type = $1`, IdentityMerged); n != tt.merges {
					t.Errorf("%d merge events, want %d", n, tt.merges)
				}
				if n := count(t, db, `SELECT COUNT(*) FROM identity_conflicts`); n != tt.conflicts {
					t.Errorf("%d conflicts, want %d", n, tt.conflicts)
				}
			})
		})
	}
}

func TestIdentity_MergeEventSaysHowAndHowMany(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, _ := newService(t, db)
		addMember(t, db, "mem_ann", codeOf(1))
		addMember(t, db, "mem_bob", codeOf(2))
		ingest(t, s, batch(ev("p1", PageViewed, 0, map[string]string{"anonymous_id": "browser"}, `{"url":"/"}`)))
		record(t, db, Event{EventID: "perk:click:1", Type: LinkClicked, Time: t0.Add(time.Minute), Channel: SMS,
			AnonymousID: "browser", MemberID: "mem_ann", Campaign: "cmp_1"})
		record(t, db, Event{EventID: "perk:click:2", Type: LinkClicked, Time: t0.Add(2 * time.Minute), Channel: SMS,
			AnonymousID: "browser", MemberID: "mem_bob"})
		p, err := s.Timeline(context.Background(), "mem_ann", "", 10)
		if err != nil {
			t.Fatal(err)
		}
		var merge *Event
		for i := range p.Events {
			if p.Events[i].Type == IdentityMerged {
				merge = &p.Events[i]
			}
		}
		if merge == nil {
			t.Fatalf("no merge event in %+v", p.Events)
		}
		var props struct {
			AnonymousID string `json:"anonymous_id"`
			Via         string `json:"via"`
			Moved       int    `json:"events_moved"`
		}
		json.Unmarshal(merge.Properties, &props)
		if props.AnonymousID != "browser" || props.Via != ViaSMSLink || props.Moved != 1 || merge.Campaign != "cmp_1" || !merge.Time.Equal(t0.Add(time.Minute)) {
			t.Errorf("merge = %+v %s", merge, merge.Properties)
		}
		cs, err := s.Conflicts(context.Background(), "mem_bob")
		if err != nil || len(cs) != 1 || cs[0].MemberID != "mem_ann" || cs[0].OtherMemberID != "mem_bob" || cs[0].Via != ViaSMSLink {
			t.Errorf("conflicts = %+v, %v", cs, err)
		}
	})
}
