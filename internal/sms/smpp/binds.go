package smpp

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/perk-platform/perk/internal/sms"
)

// Binds keeps Config.Binds transceiver binds to one SMSC, each a Client
// with its own window, and sends each message on the bound one with the
// most free window: operators give several binds so that a sender can
// have more than one window of messages in flight. Make it with NewBinds.
type Binds struct {
	clients []*Client
}

var _ sms.Gateway = (*Binds)(nil)

// NewBinds returns cfg.Binds clients of cfg (see New). With more than one,
// each client's series carry a bind label ("1", "2", ...).
func NewBinds(cfg Config, onInbound func(context.Context, sms.Inbound) error) *Binds {
	cfg = cfg.withDefaults()
	b := &Binds{}
	for i := range cfg.Binds {
		one := cfg
		if cfg.Binds > 1 && cfg.Registry != nil {
			one.Registry = prometheus.WrapRegistererWith(prometheus.Labels{"bind": strconv.Itoa(i + 1)}, cfg.Registry)
		}
		b.clients = append(b.clients, New(one, onInbound))
	}
	return b
}

// Clients are the binds' clients.
func (b *Binds) Clients() []*Client { return b.clients }

// Window is the most submit_sm awaiting a response over all binds.
func (b *Binds) Window() int { return len(b.clients) * b.clients[0].cfg.Window }

// Name is the gateway's name in logs and the outbox.
func (b *Binds) Name() string { return "smpp" }

// SetReceiptBatchHandler sets every bind's handler (see
// Client.SetReceiptBatchHandler). Call it before Run.
func (b *Binds) SetReceiptBatchHandler(f func(context.Context, []sms.Receipt) error) {
	for _, c := range b.clients {
		c.SetReceiptBatchHandler(f)
	}
}

// Bound reports whether at least one bind is up.
func (b *Binds) Bound() bool {
	for _, c := range b.clients {
		if c.Bound() {
			return true
		}
	}
	return false
}

// Send submits m on the bound client with the most free window; with none
// bound, on the first, which waits for its bind or fails fast as
// Client.Send does.
func (b *Binds) Send(ctx context.Context, m sms.Message) (sms.Submitted, error) {
	best, free := b.clients[0], -1
	for _, c := range b.clients {
		if !c.Bound() {
			continue
		}
		if f := cap(c.window) - len(c.window); f > free {
			best, free = c, f
		}
	}
	return best.Send(ctx, m)
}

// Run runs every bind until ctx ends.
func (b *Binds) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	errs := make([]error, len(b.clients))
	for i, c := range b.clients {
		wg.Go(func() {
			if err := c.Run(ctx); err != nil {
				errs[i] = fmt.Errorf("bind %d: %w", i+1, err)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}
