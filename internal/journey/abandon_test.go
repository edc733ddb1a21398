package journey

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/event"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/store"
	"github.com/perk-platform/perk/internal/store/storetest"
)

func TestAbandon_ACartWithoutAPurchaseRaisesAbandonedThenRecovered(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		// A journey on the raised event: it sees what Abandon writes.
		f.apply(Definition{Name: "win-back", Trigger: Filter{Event: CartAbandoned}, Steps: []Step{{ID: "text", SMS: "Your basket misses you"}}})
		ann, bob, cy := f.member(1, member.Profile{}), f.member(2, member.Profile{}), f.member(3, member.Profile{})
		raised := func(typ, who string) int {
			return f.count(`SELECT COUNT(*) FROM events WHERE type = $1 AND (member_id = $2 OR anonymous_id = $2)`, typ, who)
		}
		f.event(ann, event.CartUpdated, "")
		f.event(bob, event.CartUpdated, "")
		f.event(cy, event.CartUpdated, "")
		anon := event.Event{EventID: "anon-cart", Type: event.CartUpdated, Time: f.clock.Now(), Channel: event.Web,
			Source: event.SourceAPI, AnonymousID: "browser-1", Properties: []byte(`{}`)}
		if err := db.Tx(context.Background(), func(tx *sql.Tx) error { return event.Record(context.Background(), tx, db.Dialect, anon) }); err != nil {
			t.Fatal(err)
		}
		f.poll()
		f.clock.Advance(time.Hour)
		f.event(bob, event.OrderPlaced, "") // Bob buys online within the two hours
		f.event(cy, event.CartUpdated, "")  // Cy changes her cart: her two hours start again
		f.advance(time.Hour - time.Second)  // 1:59:59 after the first carts
		if n := raised(CartAbandoned, ann); n != 0 {
			t.Fatalf("abandoned before two hours: %d", n)
		}
		f.advance(time.Second)
		for who, want := range map[string]int{ann: 1, bob: 0, cy: 0, "browser-1": 1} {
			if n := raised(CartAbandoned, who); n != want {
				t.Errorf("%s: %d cart_abandoned at two hours, want %d", who, n, want)
			}
		}
		if got := f.texts(ann); len(got) != 1 {
			t.Errorf("the win-back journey did not see Ann's abandonment: %q", got)
		}
		f.advance(time.Hour)
		if n := raised(CartAbandoned, cy); n != 1 {
			t.Errorf("Cy: %d cart_abandoned two hours after her last cart, want 1", n)
		}
		f.advance(5 * time.Hour) // ticks raise nothing twice
		if n := raised(CartAbandoned, ann); n != 1 {
			t.Errorf("Ann: %d cart_abandoned after more ticks", n)
		}
		f.event(ann, event.BasketCommitted, "") // Ann buys at the till
		f.event(bob, event.BasketCommitted, "") // Bob had nothing abandoned
		f.poll()
		for who, want := range map[string]int{ann: 1, bob: 0} {
			if n := raised(CartRecovered, who); n != want {
				t.Errorf("%s: %d cart_recovered, want %d", who, n, want)
			}
		}
		f.event(ann, event.BasketCommitted, "") // a second purchase recovers nothing more
		f.poll()
		if n := raised(CartRecovered, ann); n != 1 {
			t.Errorf("Ann: %d cart_recovered after a second purchase", n)
		}
	})
}

// A purchase already in the stream but not yet read still prevents the
// abandonment: the reader may lag behind the timer.
func TestAbandon_APurchaseTheReaderHasNotReachedStillCounts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		f := newFixture(t, db)
		f.poll()
		ann := f.member(1, member.Profile{})
		f.event(ann, event.CartUpdated, "")
		if _, err := f.journeys.ReadEvents(context.Background()); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(time.Hour)
		f.event(ann, event.OrderPlaced, "")
		f.clock.Advance(2 * time.Hour)
		if _, err := f.journeys.Abandon(context.Background()); err != nil { // before the reader reaches the order
			t.Fatal(err)
		}
		f.poll()
		if n := f.count(`SELECT COUNT(*) FROM events WHERE type = $1`, CartAbandoned); n != 0 {
			t.Fatalf("%d cart_abandoned for a cart that was bought", n)
		}
	})
}

// A visitor's cart, put together before they were identified, belongs to
// the member they turn out to be: their purchase as the member ends it (no
// false abandonment), and without a purchase the abandonment is raised for
// the member, whose journeys then see it.
func TestAbandon_AnAnonymousCartIsEndedByThePurchaseOfTheMemberItIdentifiesAs(t *testing.T) {
	cases := []struct {
		name string
		// buy records the purchase of the identified member, or nothing.
		buy          string
		readBetween  bool // the reader reads the purchase before the timer looks
		wantAbandon  int
		wantMemberAb int // cart_abandoned events carrying the member
	}{
		{name: "bought at the till, read before the timer", buy: event.BasketCommitted, readBetween: true},
		{name: "bought online, the reader lagging behind the timer", buy: event.OrderPlaced},
		{name: "no purchase: abandoned, as the member", wantAbandon: 1, wantMemberAb: 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				f := newFixture(t, db)
				f.apply(Definition{Name: "win-back", Trigger: Filter{Event: CartAbandoned}, Steps: []Step{{ID: "text", SMS: "Your basket misses you"}}})
				ann := f.member(1, member.Profile{FirstName: "Ann"})
				record := func(e event.Event) {
					t.Helper()
					f.seq++
					e.EventID, e.Time, e.Channel, e.Source = fmt.Sprintf("anon-%d", f.seq), f.clock.Now(), event.Web, event.SourceAPI
					if err := db.Tx(context.Background(), func(tx *sql.Tx) error { return event.Record(context.Background(), tx, db.Dialect, e) }); err != nil {
						t.Fatal(err)
					}
				}
				record(event.Event{Type: event.CartUpdated, AnonymousID: "browser-9"})
				f.poll() // the cart is watched under the anonymous id
				f.clock.Advance(10 * time.Minute)
				record(event.Event{Type: event.Identified, AnonymousID: "browser-9", MemberID: ann})
				f.poll()
				f.clock.Advance(30 * time.Minute)
				if c.buy != "" {
					f.event(ann, c.buy, "") // as the member only: no anonymous id on it
					if c.readBetween {
						f.poll()
					}
				}
				f.clock.Advance(2 * time.Hour)
				if _, err := f.journeys.Abandon(context.Background()); err != nil {
					t.Fatal(err)
				}
				f.poll()
				if n := f.count(`SELECT COUNT(*) FROM events WHERE type = $1`, CartAbandoned); n != c.wantAbandon {
					t.Errorf("cart_abandoned: %d, want %d", n, c.wantAbandon)
				}
				if n := f.count(`SELECT COUNT(*) FROM events WHERE type = $1 AND member_id = $2`, CartAbandoned, ann); n != c.wantMemberAb {
					t.Errorf("cart_abandoned of Ann: %d, want %d", n, c.wantMemberAb)
				}
				if got := len(f.texts(ann)); got != c.wantMemberAb {
					t.Errorf("win-back texts to Ann: %d, want %d", got, c.wantMemberAb)
				}
				if n := f.count(`SELECT COUNT(*) FROM cart_watch WHERE abandoned = 0`); n != 0 {
					t.Errorf("%d carts still watched", n)
				}
			})
		})
	}
}
