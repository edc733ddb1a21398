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
// anyone, answers submit_sm with hex ids ("0000AB0001", which exercise
// NormalizeID), refuses the destinations above, and reports what it sees on
// channels so tests wait on events rather than sleep.
type testSMSC struct {
	t    *testing.T
	addr string
	gate chan struct{} // if not nil, each submit_sm_resp waits for a value from it

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
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testSMSC{t: t, addr: ln.Addr().String(), gate: gate, binds: make(chan PDU, 16), submits: make(chan PDU, 1000),
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
	resp := PDU{Command: SubmitSMResp, Seq: p.Seq, MessageID: fmt.Sprintf("%010X", 0xAB0000+s.nextID)}
	s.mu.Unlock()
	switch p.SM.Dest {
	case destThrottled:
		resp = PDU{Command: SubmitSMResp, Seq: p.Seq, Status: StatusThrottled}
	case destInvalid:
		resp = PDU{Command: SubmitSMResp, Seq: p.Seq, Status: StatusInvDstAdr}
	}
	s.submits <- p
	answer := func() {
		s.mu.Lock()
		s.outstanding--
		s.mu.Unlock()
		c.send(resp)
	}
	if s.gate == nil {
		answer()
		return
	}
	go func() {
		<-s.gate
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

func (s *testSMSC) maxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxOutstanding
}

// startClient runs a Client against addr until the test ends. mod adjusts
// the config.
func startClient(t *testing.T, addr string, mod func(*Config), onInbound func(context.Context, sms.Inbound) error) *Client {
	t.Helper()
	cfg := Config{Addr: addr, SystemID: "perk", Password: "secret", Source: "PERK", Window: 5,
		ResponseTimeout: 5 * time.Second, BindTimeout: 5 * time.Second, Log: slog.New(slog.DiscardHandler)}
	if mod != nil {
		mod(&cfg)
	}
	c := New(cfg, onInbound)
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
	return c
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
