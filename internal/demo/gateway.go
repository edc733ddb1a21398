package demo

import (
	"context"
	"fmt"
	"strings"
	"sync"

	"github.com/perk-platform/perk/internal/sms"
)

// gateway stands in for an SMSC while the history is replayed: it accepts
// every message except those to unreachableSuffix and reports delivery
// receipts, failed for numbers ending in undeliveredSuffix and delivered
// for the rest. Numbers decide, not chance, so the demo is the same every
// time.
type gateway struct {
	mu      sync.Mutex // guards n and pending
	n       int
	pending []sms.Receipt // accepted, receipt not yet applied
}

// The drama-range numbers the demo's phones fail on.
const (
	unreachableSuffix = "900013" // the gateway refuses it for good
	undeliveredSuffix = "7"      // accepted, then the receipt says failed
)

func (g *gateway) Name() string { return "demo" }

func (g *gateway) Send(_ context.Context, m sms.Message) (sms.Submitted, error) {
	if strings.HasSuffix(m.To, unreachableSuffix) {
		return sms.Submitted{}, fmt.Errorf("%w: unknown subscriber", sms.ErrPermanent)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n++
	gid := fmt.Sprintf("demo-%06d", g.n)
	state := sms.Delivered
	if strings.HasSuffix(m.To, undeliveredSuffix) {
		state = sms.Undeliv
	}
	g.pending = append(g.pending, sms.Receipt{GatewayID: gid, State: state})
	return sms.Submitted{GatewayID: gid, Segments: 1}, nil
}

// flushSMS sends every message due now through the real sender (and so the
// real contact policy) and applies the receipts of those accepted.
func (w *world) flushSMS(ctx context.Context) error {
	for {
		n, err := w.sender.Once(ctx)
		if err != nil {
			return fmt.Errorf("send sms: %w", err)
		}
		if n == 0 {
			break
		}
	}
	g := w.gateway
	g.mu.Lock()
	rs := g.pending
	g.pending = nil
	g.mu.Unlock()
	for i := range rs {
		rs[i].At = w.clock.Now()
	}
	if err := w.sender.Queue.DeliveredBatch(ctx, rs); err != nil {
		return fmt.Errorf("sms receipts: %w", err)
	}
	return nil
}
