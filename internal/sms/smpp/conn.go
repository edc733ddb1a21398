package smpp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"
)

// connect runs one connection: dial, bind, then serve until it fails or
// ctx ends. It reports whether the bind succeeded.
func (c *Client) connect(ctx context.Context) (bool, error) {
	bctx, cancel := context.WithTimeout(ctx, c.cfg.BindTimeout)
	defer cancel()
	var d interface {
		DialContext(context.Context, string, string) (net.Conn, error)
	} = &net.Dialer{}
	if c.cfg.TLS != nil {
		d = &tls.Dialer{Config: c.cfg.TLS}
	}
	conn, err := d.DialContext(bctx, "tcp", c.cfg.Addr)
	if err != nil {
		return false, fmt.Errorf("smpp dial: %w", err)
	}
	s := newSession(conn, c.cfg.ResponseTimeout)
	defer s.close(errors.New("connection finished"))

	// Requests from the SMSC that may block (deliver_sm runs onInbound and
	// stores receipts) are handled on their own goroutine, all those
	// waiting at a time, so the reader keeps matching submit_sm_resp
	// meanwhile: it never waits for the store, which would stall the
	// submit window. The queue is bounded by the SMSC's own window of
	// unacknowledged deliver_sm.
	delivers := newPDUQueue()
	go func() {
		for {
			ps, ok := delivers.take()
			if !ok {
				return
			}
			select {
			case <-s.done:
				continue // unacknowledged: the SMSC will deliver them again
			default:
			}
			for i, st := range c.deliverBatch(ctx, ps) {
				s.write(PDU{Command: DeliverSMResp, Seq: ps[i].Seq, Status: st})
			}
		}
	}()
	go func() {
		defer delivers.close()
		s.read(func(p PDU) { c.request(s, p, delivers) })
	}()

	r, err := s.call(bctx, PDU{Command: BindTransceiver, Seq: c.nextSeq(), SystemID: c.cfg.SystemID,
		Password: c.cfg.Password, SystemType: c.cfg.SystemType, InterfaceVersion: 0x34}, c.cfg.BindTimeout)
	if err != nil {
		return false, fmt.Errorf("smpp bind as %q: %w", c.cfg.SystemID, err)
	}
	c.log.InfoContext(ctx, "smpp bound", "system_id", c.cfg.SystemID, "smsc_id", r.SystemID, "receipt_ids", c.cfg.ReceiptIDs)
	c.binds.Inc()
	c.setState(bound, s)
	return true, c.serve(ctx, s)
}

// request answers a request from the SMSC. It runs on the reader goroutine.
func (c *Client) request(s *session, p PDU, delivers *pduQueue) {
	switch p.Command {
	case EnquireLink:
		s.write(PDU{Command: EnquireLinkResp, Seq: p.Seq})
	case Unbind:
		// Stop submitting on it at once, answer, and let Run reconnect.
		c.setState(connecting, nil)
		s.write(PDU{Command: UnbindResp, Seq: p.Seq})
		s.close(errors.New("unbound by the SMSC"))
	case DeliverSM:
		delivers.put(p)
	default:
		s.write(PDU{Command: GenericNack, Status: StatusInvCmdID, Seq: p.Seq})
	}
}

// serve keeps a bound session alive until it fails or ctx ends.
func (c *Client) serve(ctx context.Context, s *session) error {
	tick := time.NewTicker(c.cfg.EnquireLink)
	defer tick.Stop()
	for {
		select {
		case <-s.done:
			return s.err
		case <-ctx.Done():
			c.unbind(s)
			return ctx.Err()
		case <-tick.C:
			go func() {
				// No answer means a dead link (a NAT dropped it, say):
				// closing makes Run reconnect.
				if _, err := s.call(ctx, PDU{Command: EnquireLink, Seq: c.nextSeq()}, c.cfg.ResponseTimeout); err != nil && ctx.Err() == nil {
					s.close(fmt.Errorf("enquire_link: %w", err))
				}
			}()
		}
	}
}

// unbind ends the bind politely (section 4.2), waiting briefly for the
// SMSC's unbind_resp so it does not log an abrupt disconnect.
func (c *Client) unbind(s *session) {
	c.setState(down, nil)
	wait := min(c.cfg.ResponseTimeout, 2*time.Second)
	if _, err := s.call(context.Background(), PDU{Command: Unbind, Seq: c.nextSeq()}, wait); err != nil {
		c.log.Warn("smpp unbind", "err", err)
	}
	s.close(errors.New("unbound"))
}

// pduQueue is an unbounded queue of PDUs from one writer to one reader,
// who takes everything waiting at once.
type pduQueue struct {
	mu     sync.Mutex
	ps     []PDU // guarded by mu
	closed bool  // guarded by mu
	ready  chan struct{}
}

func newPDUQueue() *pduQueue { return &pduQueue{ready: make(chan struct{}, 1)} }

func (q *pduQueue) put(p PDU) {
	q.mu.Lock()
	q.ps = append(q.ps, p)
	q.mu.Unlock()
	q.signal()
}

func (q *pduQueue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	q.signal()
}

func (q *pduQueue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// take waits for PDUs and returns all that are waiting; false once the
// queue is closed and empty.
func (q *pduQueue) take() ([]PDU, bool) {
	for {
		q.mu.Lock()
		ps, closed := q.ps, q.closed
		q.ps = nil
		q.mu.Unlock()
		if len(ps) > 0 {
			return ps, true
		}
		if closed {
			return nil, false
		}
		<-q.ready
	}
}
