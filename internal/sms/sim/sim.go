// Package sim is the built-in SMS network: messages never leave Perk. It is
// the default gateway, so "perk serve" needs nothing else, and it keeps the
// recent traffic of every number (sent, received, receipts) for the
// simulator page and for tests.
package sim

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/sms/gsm"
)

// Direction of a simulated event.
const (
	MT  = "mt"  // Perk to the phone
	MO  = "mo"  // the phone to Perk
	DLR = "dlr" // delivery receipt for an MT
)

// Event is one thing that happened on the simulated network.
type Event struct {
	Dir       string    `json:"dir"`
	Phone     string    `json:"phone"`
	Text      string    `json:"text,omitempty"`
	GatewayID string    `json:"id,omitempty"`
	State     string    `json:"state,omitempty"`
	Segments  int       `json:"segments,omitempty"`
	At        time.Time `json:"at"`
}

// keep bounds the traffic remembered, so a long-running server's memory does
// not grow with it.
const keep = 2000

// Gateway is the simulator. It delivers every message at once and reports
// the receipt on Receipts.
type Gateway struct {
	now      func() time.Time
	receipts chan sms.Receipt

	mu     sync.Mutex // guards the fields below
	seq    int
	events []Event
	subs   map[chan Event]struct{}
}

// New returns a simulator; now is time.Now if nil.
func New(now func() time.Time) *Gateway {
	if now == nil {
		now = time.Now
	}
	return &Gateway{now: now, receipts: make(chan sms.Receipt, 1024), subs: map[chan Event]struct{}{}}
}

// Name is "sim".
func (g *Gateway) Name() string { return "sim" }

// Send accepts a message for a number and queues its delivery receipt.
func (g *Gateway) Send(ctx context.Context, m sms.Message) (sms.Submitted, error) {
	if m.To == "" {
		return sms.Submitted{}, fmt.Errorf("sim: no destination: %w", sms.ErrPermanent)
	}
	_, segments := gsm.Segments(m.Body)
	g.mu.Lock()
	g.seq++
	id := fmt.Sprintf("sim-%d", g.seq)
	g.mu.Unlock()
	now := g.now().UTC()
	g.record(Event{Dir: MT, Phone: m.To, Text: m.Body, GatewayID: id, Segments: segments, At: now})
	select {
	case g.receipts <- sms.Receipt{GatewayID: id, State: sms.Delivered, At: now}:
	case <-ctx.Done():
		return sms.Submitted{}, fmt.Errorf("sim: %v: %w", ctx.Err(), sms.ErrTemporary)
	}
	g.record(Event{Dir: DLR, Phone: m.To, GatewayID: id, State: sms.Delivered, At: now})
	return sms.Submitted{GatewayID: id, Segments: segments}, nil
}

// Receipts delivers the receipts of sent messages.
func (g *Gateway) Receipts() <-chan sms.Receipt { return g.receipts }

// RecordInbound notes a message typed on a simulated phone.
func (g *Gateway) RecordInbound(in sms.Inbound) {
	g.record(Event{Dir: MO, Phone: in.From, Text: in.Body, At: in.ReceivedAt.UTC()})
}

func (g *Gateway) record(e Event) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.events = append(g.events, e)
	if len(g.events) > keep {
		g.events = append(g.events[:0], g.events[len(g.events)-keep:]...)
	}
	for c := range g.subs {
		select {
		case c <- e:
		default: // a slow watcher misses live events; the history still has them
		}
	}
}

// History returns the remembered events of one number ("" for all), oldest
// first.
func (g *Gateway) History(phone string) []Event {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []Event
	for _, e := range g.events {
		if phone == "" || e.Phone == phone {
			out = append(out, e)
		}
	}
	return out
}

// Subscribe returns a channel of live events and a func to stop them.
func (g *Gateway) Subscribe() (<-chan Event, func()) {
	c := make(chan Event, 64)
	g.mu.Lock()
	g.subs[c] = struct{}{}
	g.mu.Unlock()
	return c, func() {
		g.mu.Lock()
		delete(g.subs, c)
		g.mu.Unlock()
	}
}
