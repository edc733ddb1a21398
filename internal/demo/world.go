package demo

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"sort"
	"time"

	"github.com/perk-platform/perk/internal/campaign"
	"github.com/perk-platform/perk/internal/checkout"
	"github.com/perk-platform/perk/internal/ledger"
	"github.com/perk-platform/perk/internal/links"
	"github.com/perk-platform/perk/internal/member"
	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/store"
)

// clock is the demo's history clock: every service the demo drives reads
// it, so the rows they write carry the times of the weeks being replayed.
// Only run moves it, between events, when no service is working: the
// goroutines a service starts (the sender's sends) start after a move and
// end before the next, so they read it without a lock.
type clock struct{ t time.Time }

func (c *clock) Now() time.Time { return c.t }

// world is the programme's services wired to the history clock: the same
// constructors perk serve uses, with the server's settings.
type world struct {
	db        *store.DB
	clock     *clock
	log       *slog.Logger
	members   *member.Service
	links     *links.Service
	campaigns *campaign.Service
	ledger    *ledger.Ledger
	checkout  *checkout.Service
	sender    *sms.Sender
	gateway   *gateway
	currency  string // the tills'

	// events is the rest of the history, in time order (seq breaks ties).
	events []event
	seq    int
}

type event struct {
	at  time.Time
	seq int
	fn  func(ctx context.Context) error
}

func newWorld(db *store.DB, opt Options, start time.Time) *world {
	c := &clock{t: start}
	w := &world{db: db, clock: c, log: opt.Log}
	mo := opt.Members
	mo.Now, mo.Log = c.Now, opt.Log
	w.members = member.NewService(db, mo)
	w.links = links.NewService(db, mo.PublicURL, c.Now)
	co := opt.Campaigns
	co.Now, co.Log, co.Links = c.Now, opt.Log, w.links
	if co.PublicURL == "" {
		co.PublicURL = mo.PublicURL
	}
	w.campaigns = campaign.NewService(db, co)
	w.ledger = ledger.New(db, opt.Points, c.Now)
	cho := opt.Checkout
	cho.Now, cho.Log, cho.OnChange, cho.Metrics = c.Now, opt.Log, nil, nil
	w.checkout = checkout.NewService(db, w.members, w.campaigns, w.ledger, cho)
	w.currency = cmp.Or(cho.Currency, "GBP")
	q := sms.NewQueue(db, c.Now, time.Minute, 8)
	w.gateway = &gateway{}
	w.sender = sms.NewSender(q, w.gateway, sms.NewContactPolicy(db, opt.Contact, w.campaigns), opt.Log, c.Now)
	w.sender.Parallel = 1 // one at a time: the gateway's ids follow the queue's order
	return w
}

// at schedules fn at t.
func (w *world) at(t time.Time, fn func(ctx context.Context) error) {
	w.seq++
	w.events = append(w.events, event{at: t.UTC(), seq: w.seq, fn: fn})
}

// run replays the scheduled events in time order, events scheduled by
// events included, and sends the messages each one queued.
func (w *world) run(ctx context.Context) error {
	for len(w.events) > 0 {
		sort.SliceStable(w.events, func(i, j int) bool {
			a, b := w.events[i], w.events[j]
			return a.at.Before(b.at) || a.at.Equal(b.at) && a.seq < b.seq
		})
		e := w.events[0]
		w.events = w.events[1:]
		if e.at.After(w.clock.t) { // history only moves forward
			w.clock.t = e.at
		}
		if err := e.fn(ctx); err != nil {
			return fmt.Errorf("at %s: %w", e.at.Format(time.RFC3339), err)
		}
		if err := w.flushSMS(ctx); err != nil {
			return err
		}
	}
	return nil
}
