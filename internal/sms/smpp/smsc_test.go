package smpp

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/perk-platform/perk/internal/sms"
)

// Destinations the test SMSC refuses, to exercise error classification.
const (
	destThrottled = "447700900058"
	destInvalid   = "447700900011"
)

// testSMSC is an in-process SMSC built on the package's own codec. It binds
// anyone, answers submit_sm with zero-padded upper-case hex ids
// ("0000AB0001") unless smscOptions.ids says otherwise, refuses the
// destinations above, and reports what it sees on channels so tests wait on
// events rather than sleep.
type testSMSC struct {
	t    *testing.T
	addr string
	ln   net.Listener
	opts smscOptions

	binds   chan PDU // bind_transceiver received
	submits chan PDU // submit_sm received
	unbinds chan PDU // unbind received
	enquire chan PDU // enquire_link received
	resps   chan PDU // responses from the client (deliver_sm_resp, enquire_link_resp...)

	mu             sync.Mutex
	conn           *smscConn // the latest connection
	nextID         int
	seq            uint32
	outstanding    int // submit_sm not yet answered, on the current connection
	maxOutstanding int
	issued         []issued // with opts.receipt: each id issued, in the order the receipts went out
}

// smscOptions change how the test SMSC answers.
type smscOptions struct {
	gate chan struct{} // if not nil, each submit_sm_resp waits for a value from it

	// ids, if set, gives the message_id for the n-th submit_sm (n from 1).
	ids func(n int) string

	// receipt, if set, makes the SMSC send a delivery receipt (built by
	// receipt from n and the id it issued) for each submit_sm that asked
	// for one, right after its submit_sm_resp, and record it in issued.
	// The submits and resps channels then stay silent (a run of thousands
	// would fill them).
	receipt func(n int, id string) SM
}

// issued is one message id the SMSC gave out, with the text of the
// submit_sm it was for.
type issued struct {
	id, text string
}

type smscConn struct {
	net.Conn
	wmu sync.Mutex
}

func (c *smscConn) send(p PDU) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.Write(p.Encode())
}

// newTestSMSC starts a test SMSC; with a gate, submit_sm responses are
// held until the test sends on it.
func newTestSMSC(t *testing.T, gate chan struct{}) *testSMSC {
	t.Helper()
	return newTestSMSCWith(t, smscOptions{gate: gate})
}

// newTestSMSCWith starts a test SMSC that answers as opts says.
func newTestSMSCWith(t *testing.T, opts smscOptions) *testSMSC {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testSMSC{t: t, addr: ln.Addr().String(), ln: ln, opts: opts, binds: make(chan PDU, 16), submits: make(chan PDU, 1000),
		unbinds: make(chan PDU, 16), enquire: make(chan PDU, 100), resps: make(chan PDU, 100), seq: 1000}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		s.drop()
		wg.Wait()
	})
	wg.Go(func() {
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			c := &smscConn{Conn: nc}
			s.mu.Lock()
			s.conn, s.outstanding = c, 0
			s.mu.Unlock()
			wg.Go(func() { s.serve(c) })
		}
	})
	return s
}

func (s *testSMSC) serve(c *smscConn) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		p, err := ReadPDU(r)
		if err != nil {
			return
		}
		switch p.Command {
		case BindTransceiver:
			s.binds <- p
			c.send(PDU{Command: BindTransceiverResp, Seq: p.Seq, SystemID: "testsmsc"})
		case EnquireLink:
			s.enquire <- p
			c.send(PDU{Command: EnquireLinkResp, Seq: p.Seq})
		case Unbind:
			s.unbinds <- p
			c.send(PDU{Command: UnbindResp, Seq: p.Seq})
			return
		case SubmitSM:
			s.submit(c, p)
		case DeliverSMResp:
			if s.opts.receipt == nil {
				s.resps <- p
			}
		default:
			s.resps <- p
		}
	}
}

func (s *testSMSC) submit(c *smscConn, p PDU) {
	s.mu.Lock()
	s.outstanding++
	s.maxOutstanding = max(s.maxOutstanding, s.outstanding)
	s.nextID++
	n := s.nextID
	id := fmt.Sprintf("%010X", 0xAB0000+n)
	if s.opts.ids != nil {
		id = s.opts.ids(n)
	}
	s.mu.Unlock()
	resp := PDU{Command: SubmitSMResp, Seq: p.Seq, MessageID: id}
	switch p.SM.Dest {
	case destThrottled:
		resp = PDU{Command: SubmitSMResp, Seq: p.Seq, Status: StatusThrottled}
	case destInvalid:
		resp = PDU{Command: SubmitSMResp, Seq: p.Seq, Status: StatusInvDstAdr}
	}
	if s.opts.receipt == nil {
		s.submits <- p
	}
	answer := func() {
		s.mu.Lock()
		s.outstanding--
		s.mu.Unlock()
		c.send(resp)
		if s.opts.receipt != nil && resp.Status == StatusOK && p.SM.RegisteredDelivery&1 != 0 {
			// Recorded and sent under one lock, so issued is in the
			// order the receipts are on the wire.
			s.mu.Lock()
			defer s.mu.Unlock()
			s.issued = append(s.issued, issued{id: id, text: string(p.SM.ShortMessage)})
			s.seq++
			c.send(PDU{Command: DeliverSM, Seq: s.seq, SM: s.opts.receipt(n, id)})
		}
	}
	if s.opts.gate == nil {
		answer()
		return
	}
	go func() {
		<-s.opts.gate
		answer()
	}()
}

// request sends a request (deliver_sm, enquire_link, unbind) to the client
// on the current connection and returns its sequence number.
func (s *testSMSC) request(p PDU) uint32 {
	s.mu.Lock()
	s.seq++
	p.Seq = s.seq
	c := s.conn
	s.mu.Unlock()
	c.send(p)
	return p.Seq
}

// drop closes the current connection abruptly, as a failing SMSC would.
func (s *testSMSC) drop() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		s.conn.Close()
	}
}

// stop makes the SMSC go away: no connection, and none accepted.
func (s *testSMSC) stop() {
	s.ln.Close()
	s.drop()
}

func (s *testSMSC) maxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxOutstanding
}

// startClient runs a Client against addr until the test ends. mod adjusts
// the config (see testConfig).
func startClient(t *testing.T, addr string, mod func(*Config), onInbound func(context.Context, sms.Inbound) error) *Client {
	t.Helper()
	c := New(testConfig(addr, mod), onInbound)
	runClient(t, c)
	return c
}

// testConfig is the config tests connect to a test SMSC with; mod adjusts it.
func testConfig(addr string, mod func(*Config)) Config {
	cfg := Config{Addr: addr, SystemID: "perk", Password: "secret", Source: "PERK", Window: 5,
		ResponseTimeout: 5 * time.Second, BindTimeout: 5 * time.Second, Log: slog.New(slog.DiscardHandler)}
	if mod != nil {
		mod(&cfg)
	}
	return cfg
}

// runClient runs c until the test ends.
func runClient(t *testing.T, c *Client) {
	t.Helper()
	c.minBackoff = 10 * time.Millisecond // reconnect tests must not wait a second
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := recv(t, done); err != nil {
			t.Errorf("Run returned %v after cancel, want nil", err)
		}
	})
}

// recv waits for a value, failing the test after 10 s rather than hanging.
func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("timed out waiting on a channel")
		panic("unreachable")
	}
}

func msg(to, body string) sms.Message { return sms.Message{ID: "m1", To: "+" + to, Body: body} }
