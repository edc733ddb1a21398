// Package smpp is an SMPP 3.4 ESME client: it keeps one transceiver bind to
// an SMSC, submits messages (sms.Gateway), and passes on delivery receipts
// (sms.ReceiptSource) and messages from phones (MO). It has its own PDU
// codec for the handful of commands an ESME needs.
package smpp

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/perk-platform/perk/internal/sms"
	"github.com/perk-platform/perk/internal/sms/gsm"
)

// Client keeps one transceiver bind up (reconnecting with exponential
// back-off from 1 s to 60 s), sends with a window of outstanding submit_sm
// and a token-bucket TPS limit, and delivers MO and receipts. Make it with
// New and start Run; Send may be called from any goroutine.
type Client struct {
	cfg       Config
	log       *slog.Logger
	onInbound func(context.Context, sms.Inbound) error

	receipts   chan sms.Receipt
	onReceipt  func(context.Context, sms.Receipt) error   // if set, receipts go here instead of the channel
	onReceipts func(context.Context, []sms.Receipt) error // if set, receipts go here, many at a time
	window     chan struct{}                              // a slot per outstanding submit_sm
	tps        *rate.Limiter                              // submit_sm per second (Config.TPS)
	reasm      *gsm.Reassembler
	seq        atomic.Uint32
	ref        atomic.Uint32 // concatenation references

	minBackoff, maxBackoff time.Duration // fields so tests can shorten them
	now                    func() time.Time

	submitTime prometheus.Histogram // submit_sm to its response
	binds      prometheus.Counter   // binds that succeeded

	mu      sync.Mutex
	sess    *session      // guarded by mu; the bound session, or nil
	state   connState     // guarded by mu
	changed chan struct{} // guarded by mu; closed and replaced on each state change
}

type connState int

const (
	connecting connState = iota // first attempt, or reconnecting right after a drop
	bound
	down // the last attempt failed: Send fails fast until a bind succeeds
)

// New returns a client for cfg (zero fields take the defaults documented on
// Config). onInbound receives each complete MO message; the SMSC is only
// acknowledged once it returns nil, so it must be idempotent enough to see
// a message twice if the acknowledgement is lost. It may be nil to ignore
// MO (they are then acknowledged and dropped).
func New(cfg Config, onInbound func(context.Context, sms.Inbound) error) *Client {
	cfg = cfg.withDefaults()
	c := &Client{
		cfg:       cfg,
		log:       cfg.Log.With("gateway", "smpp", "smsc", cfg.Addr),
		onInbound: onInbound,
		// Buffered so a burst of receipts does not stall the connection
		// while the sender records them.
		receipts:   make(chan sms.Receipt, 256),
		window:     make(chan struct{}, cfg.Window),
		tps:        newTPSLimit(cfg.TPS),
		reasm:      gsm.NewReassembler(time.Hour, nil),
		minBackoff: time.Second,
		maxBackoff: time.Minute,
		now:        time.Now,
		changed:    make(chan struct{}),
	}
	c.register(cfg.Registry)
	return c
}

// Name is the gateway's name in logs and the outbox.
func (c *Client) Name() string { return "smpp" }

// Receipts delivers the SMSC's delivery receipts, with GatewayID in the
// form Send returns (see IDMatch).
func (c *Client) Receipts() <-chan sms.Receipt { return c.receipts }

// SetReceiptHandler makes the client hand each delivery receipt to f and
// acknowledge the deliver_sm only once f has stored it (a failure is
// answered ESME_RX_T_APPN, so the SMSC delivers it again). Receipts then no
// longer appear on Receipts. Call it before Run.
func (c *Client) SetReceiptHandler(f func(context.Context, sms.Receipt) error) { c.onReceipt = f }

// SetReceiptBatchHandler is SetReceiptHandler for many receipts at once:
// every receipt waiting on the connection is handed to f in one call, and
// all are acknowledged once f returns nil (all answered ESME_RX_T_APPN if
// it fails). f may be called from several binds' goroutines at once. Call
// it before Run.
func (c *Client) SetReceiptBatchHandler(f func(context.Context, []sms.Receipt) error) {
	c.onReceipts = f
}

var (
	_ sms.Gateway       = (*Client)(nil)
	_ sms.ReceiptSource = (*Client)(nil)
)

// Bound reports whether the client holds a bound session now. /readyz
// reports it; sends fail over to retries while it is false.
func (c *Client) Bound() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.state == bound && c.sess != nil
}

func (c *Client) setState(st connState, s *session) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.state, c.sess = st, s
	close(c.changed)
	c.changed = make(chan struct{})
}

// nextSeq returns a sequence number unique on the connection: 1 to
// 0x7FFFFFFF, wrapping (section 5.1.4).
func (c *Client) nextSeq() uint32 {
	for {
		if s := c.seq.Add(1) & 0x7FFFFFFF; s != 0 {
			return s
		}
	}
}

// Run connects, binds, keeps the bind alive with enquire_link and
// reconnects after any failure, until ctx ends; then it unbinds politely
// and returns nil.
func (c *Client) Run(ctx context.Context) error {
	backoff := c.minBackoff
	for {
		wasBound, err := c.connect(ctx)
		if ctx.Err() != nil {
			c.setState(down, nil)
			return nil
		}
		if wasBound {
			backoff = c.minBackoff // a working bind that dropped: retry soon
			c.setState(connecting, nil)
		} else {
			c.setState(down, nil)
		}
		c.log.WarnContext(ctx, "smpp connection lost, reconnecting", "err", err, "in", backoff)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		backoff = min(2*backoff, c.maxBackoff)
	}
}
