package event

import (
	"context"
	"testing"

	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

func TestIngest_ResendIsHarmlessAndBadEventsDoNotCostTheRest(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, _ := newService(t, db)
		addMember(t, db, "mem_ann", codeOf(1))
		body := batch(
			ev("e1", PageViewed, 0, map[string]string{"anonymous_id": "a1"}, `{"url":"/"}`),
			ev("e2", PageViewed, 1, map[string]string{"member": "nobody"}, `{"url":"/"}`),
			ev("e3", ProductViewed, 2, map[string]string{"member": codeOf(1)}, `{"sku":"COF"}`),
			ev("e4", "bad type", 3, map[string]string{"anonymous_id": "a1"}, `{}`),
			ev("e5", PageViewed, 4, map[string]string{"member": "mem_ann"}, `{"url":"/"}`),
			ev("e1", PageViewed, 0, map[string]string{"anonymous_id": "a1"}, `{"url":"/"}`), // repeated in the batch
		)
		res := ingest(t, s, body)
		if res.Accepted != 3 || res.Duplicates != 1 || len(res.Rejected) != 2 {
			t.Fatalf("first send = %+v", res)
		}
		if r := res.Rejected; r[0].Index != 1 || r[0].Code != "member_not_found" || r[1].Index != 3 || r[1].Code != "type_invalid" {
			t.Errorf("rejections = %+v, want index 1 member_not_found and index 3 type_invalid", r)
		}
		res = ingest(t, s, body)
		if res.Accepted != 0 || res.Duplicates != 4 {
			t.Errorf("resend = %+v, want nothing new", res)
		}
		if n := count(t, db, `SELECT COUNT(*) FROM events`); n != 3 {
			t.Errorf("%d rows, want 3", n)
		}
		if got := owners(t, db); got["e3"] != "mem_ann" || got["e5"] != "mem_ann" || got["e1"] != "" {
			t.Errorf("owners = %v: a code and an id both resolve to the member, the anonymous event to nobody", got)
		}
	})
}

func TestTimeline_PagesNewestFirstWithoutGapsOrRepeats(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, _ := newService(t, db)
		addMember(t, db, "mem_ann", codeOf(1))
		var evs []string
		for i := 0; i < 7; i++ {
			// Two events per minute, so pages split events with equal times.
			evs = append(evs, ev(codeOf(100+i), PageViewed, -i/2, map[string]string{"member": "mem_ann"}, `{"url":"/"}`))
		}
		ingest(t, s, batch(evs...))
		var got []string
		cursor := ""
		for pages := 0; pages < 10; pages++ {
			p, err := s.Timeline(context.Background(), "mem_ann", cursor, 3)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range p.Events {
				got = append(got, e.EventID)
			}
			if cursor = p.Next; cursor == "" {
				break
			}
		}
		want := []string{codeOf(101), codeOf(100), codeOf(103), codeOf(102), codeOf(105), codeOf(104), codeOf(106)}
		if len(got) != len(want) {
			t.Fatalf("got %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("got %v, want %v", got, want)
			}
		}
		if _, err := s.Timeline(context.Background(), "mem_ann", "!!", 3); errCode(err) != "cursor_invalid" {
			t.Errorf("bad cursor: %v", err)
		}
	})
}
